#!/usr/bin/env bash
# Installs what the e2e suite needs, at pinned versions, into a cache
# directory (idempotent: what is there is kept). Used by `make e2e`,
# `make demo` and CI on a fresh machine.
set -euo pipefail

CACHE="${NRI_GUARD_E2E_CACHE:-$HOME/.cache/nri-guard-e2e}"
CONTAINERD_VERSIONS="${CONTAINERD_VERSIONS:-v2.4.2 v2.2.9 v2.1.9}"
RUNC_VERSION=v1.5.3
CRICTL_VERSION=v1.37.0

log() { echo "e2e setup: $*" >&2; }

apt_packages() {
  local missing=()
  dpkg -s libseccomp-dev >/dev/null 2>&1 || missing+=(libseccomp-dev)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v gcc >/dev/null || missing+=(gcc)
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# containerd: `go install` works for most releases; some (v2.1.x) carry
# exclude directives that `go install pkg@version` refuses, so those are
# built from a throw-away module that requires them.
install_containerd() {
  local v=$1 dir="$CACHE/containerd-$1"
  if [ -x "$dir/containerd" ] && [ -x "$dir/containerd-shim-runc-v2" ] && [ -x "$dir/ctr" ]; then return; fi
  log "building containerd $v"
  local cmds=(containerd containerd-shim-runc-v2 ctr)
  local pkgs=("${cmds[@]/#/github.com/containerd/containerd/v2/cmd/}")
  if GOBIN="$dir" go install "${pkgs[@]/%/@$v}" 2>"$CACHE/install-$v.log"; then return; fi
  grep -q "exclude directives" "$CACHE/install-$v.log" || { cat "$CACHE/install-$v.log" >&2; return 1; }
  local mod; mod=$(mktemp -d)
  (
    cd "$mod"
    go mod init nri-guard-e2e/containerd-build >/dev/null 2>&1
    go get "${pkgs[@]/%/@$v}" >/dev/null 2>&1
    for c in "${cmds[@]}"; do
      go build -o "$dir/$c" "github.com/containerd/containerd/v2/cmd/$c"
    done
  )
  rm -rf "$mod"
}

install_tools() {
  if [ ! -x "$CACHE/runc-$RUNC_VERSION/runc" ]; then
    log "building runc $RUNC_VERSION"
    CGO_ENABLED=1 GOBIN="$CACHE/runc-$RUNC_VERSION" go install -tags seccomp "github.com/opencontainers/runc@$RUNC_VERSION"
  fi
  if [ ! -x "$CACHE/crictl-$CRICTL_VERSION/crictl" ]; then
    log "building crictl $CRICTL_VERSION"
    GOBIN="$CACHE/crictl-$CRICTL_VERSION" go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  fi
}

mkdir -p "$CACHE"
apt_packages
export CGO_ENABLED=1
install_tools
for v in $CONTAINERD_VERSIONS; do
  install_containerd "$v"
done
log "ready in $CACHE"
