# nri-guard build, test and e2e entry points. `make test` is what CI and
# the README run; `make demo` is the README's "see it work" command.

GO        ?= go
# nri_no_wasm keeps NRI's WebAssembly plugin host out of the adaptation
# package the integration tests link.
TAGS      ?= nri_no_wasm
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X github.com/nri-guard/nri-guard/internal/cli.Version=$(VERSION)
CONTAINERD_VERSIONS ?= v2.4.2 v2.3.4 v2.2.9 v2.1.9
FUZZTIME  ?= 10m

export CGO_ENABLED ?= 0

.PHONY: all build test lint unit fuzz bench conformance e2e e2e-faults e2e-fixtures e2e-cluster demo dist dist-check clean

all: build

build:
	$(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o bin/nri-guard ./plugin/nri-guard
	$(GO) build -trimpath -tags $(TAGS) -ldflags "$(LDFLAGS)" -o bin/nri-guard-runc ./plugin/nri-guard-runc

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^e2e/') $$(git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	@if ls e2e/*.go >/dev/null 2>&1; then $(GO) vet -tags $(TAGS),e2e,e2e_cluster ./e2e/...; fi

# Unit and integration tests (the NRI integration test runs the real
# plugin against NRI's own runtime side over real ttrpc sockets). Fuzz
# targets run their seed corpus from testdata/ as ordinary tests.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 -tags $(TAGS) ./...

test: lint build unit

# Every fuzz target, FUZZTIME each (10m by default), one worker each so
# CI can run them beside the e2e suite; seeds are in each package's
# testdata/fuzz/. A crash is kept there as a regression case. Go's fuzzer
# can end a short run with "context deadline exceeded" and no failing
# input (the time ran out in its own bookkeeping): that is not a crash.
FUZZ_TARGETS = policy:FuzzParse policy:FuzzMerge policy:FuzzCleanHostPath policy:FuzzParseReference \
	engine:FuzzDecide check:FuzzCheckParse view:FuzzOverlayLayers profiles:FuzzParseSeccomp profiles:FuzzJudge \
	record:FuzzVerify idpool:FuzzOpen kubepod:FuzzTranslate wrapper:FuzzInvocation wrapper:FuzzReadSpec
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t#*:}; \
	  if ! out=$$($(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1 ./internal/$$pkg/ 2>&1); then \
	    case "$$out" in \
	      *"Failing input written to"*|*panic:*) echo "$$out"; exit 1 ;; \
	      *"context deadline exceeded"*) ;; \
	      *) echo "$$out"; exit 1 ;; \
	    esac; \
	  fi; \
	  echo "fuzz $$pkg $$name: $$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1)"; \
	done

# The Pod Security Standards' own fixtures under the presets, with the
# counts (part of unit too; it skips when the module cannot be downloaded).
conformance:
	$(GO) test -tags $(TAGS) -count=1 -run TestPodSecurityStandardsFixtures -v ./internal/check/ | grep -E 'v1\.[0-9]+:|^(--- )?(PASS|FAIL|ok)'

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./internal/engine/ ./internal/wrapper/ ./internal/idpool/

e2e: build
	CONTAINERD_VERSIONS="$(CONTAINERD_VERSIONS)" bash e2e/run.sh

# Every Pod Security Standards fixture as pods on real containerd under
# the matching preset; the node's answer must be nri-guard check's.
# The fault matrix alone (it runs in make e2e too): creations from
# several clients while the guard's plugin, containerd or its policy
# breaks; every started container's config.json is checked.
e2e-faults: build
	E2E_RUN=TestFaults CONTAINERD_VERSIONS="$(CONTAINERD_VERSIONS)" bash e2e/run.sh

e2e-fixtures: build
	NRI_GUARD_E2E_FIXTURES=1 CONTAINERD_VERSIONS="$(CONTAINERD_VERSIONS)" E2E_RUN=TestPSSFixtures bash e2e/run.sh

# A real one-node Kubernetes (kubelet, apiserver, etcd, controllers,
# kube-proxy) around containerd set up by `nri-guard install k3s`, in a
# private network and mount namespace (e2e/cluster/README.md). The first
# run builds the pinned Kubernetes binaries into the e2e cache (~15 min).
e2e-cluster: build
	bash e2e/cluster/run.sh

demo: build
	bash e2e/demo.sh

# Root-filesystem overlay tarballs for OS images (generic and K3s), with
# checksum files.
dist: build
	VERSION=$(VERSION) bash install/dist.sh

# Two clean builds of the tarballs must give the same checksums.
dist-check:
	rm -rf bin dist && $(MAKE) --no-print-directory dist >/dev/null && cat dist/*.sha256 > /tmp/nri-guard-dist-1.sha256
	rm -rf bin dist && $(MAKE) --no-print-directory dist >/dev/null
	cat dist/*.sha256 | cmp /tmp/nri-guard-dist-1.sha256 - && echo "make dist is reproducible: $$(cut -d' ' -f1 dist/*.sha256 | tr '\n' ' ')"

clean:
	rm -rf bin dist
