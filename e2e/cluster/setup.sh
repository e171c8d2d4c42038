#!/usr/bin/env bash
# Installs what the real-cluster bed needs, at pinned versions, into the
# shared e2e cache (idempotent: what is there is kept): the Kubernetes
# node and control-plane binaries, etcd, and through e2e/setup.sh
# containerd, runc and the CNI plugins.
#
# Kubernetes cannot be `go install`ed (its go.mod replaces every staging
# module with ./staging/...), so the binaries are built from a throw-away
# module that requires k8s.io/kubernetes and replaces each staging module
# with its published version. All six are built by one `go build` so the
# shared packages compile once.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${NRI_GUARD_E2E_CACHE:-$HOME/.cache/nri-guard-e2e}"
KUBERNETES_VERSION="${CLUSTER_KUBERNETES_VERSION:-v1.37.2}"
ETCD_VERSION="${CLUSTER_ETCD_VERSION:-v3.6.16}"
CONTAINERD_VERSION="${CLUSTER_CONTAINERD_VERSION:-v2.4.2}"
# Only the Kubernetes and etcd builds (no containerd, runc, apt).
ONLY_KUBE="${CLUSTER_SETUP_ONLY_KUBE:-}"

KUBE_BINS=(kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)

log() { echo "e2e-cluster setup: $*" >&2; }

# The staging modules k8s.io/kubernetes replaces with ./staging/... (the
# sample-* ones are not published and not needed).
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime
  client-go cloud-provider cluster-bootstrap code-generator component-base
  component-helpers controller-manager cri-api cri-client cri-streaming
  csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
  kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler
  kubectl kubelet metrics mount-utils pod-security-admission streaming)

install_kubernetes() {
  local v=$KUBERNETES_VERSION dir="$CACHE/kubernetes-$KUBERNETES_VERSION"
  local missing=0 b
  for b in "${KUBE_BINS[@]}"; do [ -x "$dir/$b" ] || missing=1; done
  if [ $missing = 0 ]; then
    log "kubernetes $v present in $dir"
    return
  fi
  # v1.37.2 -> staging v0.37.2
  local staging="v0.${v#v1.}"
  local minor="${v#v1.}"; minor="${minor%%.*}"
  local mod="$CACHE/build/kubernetes-$v"
  log "building kubernetes $v into $dir (15+ minutes from a cold Go cache)"
  mkdir -p "$mod" "$dir"
  {
    echo "module nri-guard-e2e/kubernetes-build"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $v"
    echo
    echo "replace ("
    local s
    for s in "${STAGING[@]}"; do echo "	k8s.io/$s => k8s.io/$s $staging"; done
    echo ")"
  } >"$mod/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "// Package tools keeps the commands' dependencies in go.mod."
    echo "package tools"
    echo
    echo "import ("
    for b in "${KUBE_BINS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
    echo ")"
  } >"$mod/tools.go"
  local ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$v"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$v"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  local pkgs=("${KUBE_BINS[@]/#/k8s.io/kubernetes/cmd/}")
  (
    cd "$mod"
    go mod tidy
    # Build into a scratch directory and move in place, so a killed build
    # never leaves a half-written binary that looks installed.
    rm -rf "$mod/out" && mkdir -p "$mod/out"
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$mod/out/" "${pkgs[@]}"
    for b in "${KUBE_BINS[@]}"; do mv "$mod/out/$b" "$dir/$b"; done
  )
  log "kubernetes $v installed"
}

install_etcd() {
  local v=$ETCD_VERSION dir="$CACHE/etcd-$ETCD_VERSION"
  if [ -x "$dir/etcd" ]; then
    log "etcd $v present in $dir"
    return
  fi
  local mod="$CACHE/build/etcd-$v"
  log "building etcd $v into $dir"
  mkdir -p "$mod" "$dir"
  (
    cd "$mod"
    [ -f go.mod ] || go mod init nri-guard-e2e/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$v"
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$mod/etcd.new" go.etcd.io/etcd/server/v3
    mv "$mod/etcd.new" "$dir/etcd"
  )
  log "etcd $v installed"
}

mkdir -p "$CACHE"
if [ -z "$ONLY_KUBE" ]; then
  # containerd (one version), runc, crictl, the CNI plugins and busybox.
  CONTAINERD_VERSIONS="$CONTAINERD_VERSION" bash "$HERE/../setup.sh"
fi
install_etcd
install_kubernetes
log "ready: kubernetes-$KUBERNETES_VERSION etcd-$ETCD_VERSION containerd-$CONTAINERD_VERSION in $CACHE"
