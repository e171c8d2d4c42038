#!/usr/bin/env bash
# Installs what the e2e suite needs, at pinned versions, into a cache
# directory (idempotent: what is there is kept). Used by `make e2e`,
# `make demo` and CI on a fresh machine.
set -euo pipefail

CACHE="${NRI_GUARD_E2E_CACHE:-$HOME/.cache/nri-guard-e2e}"
CONTAINERD_VERSIONS="${CONTAINERD_VERSIONS:-v2.4.2 v2.3.4 v2.2.9 v2.1.9}"
RUNC_VERSION=v1.5.3
CRICTL_VERSION=v1.37.0

log() { echo "e2e setup: $*" >&2; }

# What this run installed or found, printed at the end.
REPORT=()
note() { REPORT+=("$(printf '%-10s %-8s %-9s %s' "$1" "$2" "$3" "$4")"); }

apt_packages() {
  local missing=()
  dpkg -s libseccomp-dev >/dev/null 2>&1 || missing+=(libseccomp-dev)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v gcc >/dev/null || missing+=(gcc)
  # A second runc-compatible runtime for the runtime handler tests.
  command -v crun >/dev/null || missing+=(crun)
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    note apt "" installed "${missing[*]}"
  else
    note apt "" present "libseccomp-dev busybox-static containernetworking-plugins iproute2 util-linux gcc crun"
  fi
}

# containerd: `go install` works for most releases; some (v2.1.x) carry
# exclude directives that `go install pkg@version` refuses, so those are
# built from a throw-away module that requires them.
install_containerd() {
  local v=$1 dir="$CACHE/containerd-$1"
  if [ -x "$dir/containerd" ] && [ -x "$dir/containerd-shim-runc-v2" ] && [ -x "$dir/ctr" ]; then
    note containerd "$v" present "$dir"
    return
  fi
  log "building containerd $v"
  note containerd "$v" installed "$dir"
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

# install_tool NAME VERSION PACKAGE [go install flags...]
install_tool() {
  local name=$1 v=$2 pkg=$3 dir="$CACHE/$1-$2"
  shift 3
  if [ -x "$dir/$name" ]; then
    note "$name" "$v" present "$dir"
    return
  fi
  log "building $name $v"
  GOBIN="$dir" go install "$@" "$pkg@$v"
  note "$name" "$v" installed "$dir"
}

install_tools() {
  # runc needs libseccomp (cgo) for seccomp filters.
  install_tool runc "$RUNC_VERSION" github.com/opencontainers/runc -tags seccomp
  install_tool crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
}

mkdir -p "$CACHE"
apt_packages
export CGO_ENABLED=1
install_tools
for v in $CONTAINERD_VERSIONS; do
  install_containerd "$v"
done
log "ready in $CACHE:"
printf '  %s\n' "${REPORT[@]}" >&2
