#!/usr/bin/env bash
# make dist: versioned root-filesystem overlays for OS images, unpacked
# at / with nothing to run at first boot: nri-guard-*.tar.gz (the
# binaries in /usr/local/bin, /etc/nri-guard, a systemd unit for the
# external plugin) or nri-guard-k3s-*.tar.gz (the K3s layout of
# `nri-guard install k3s`). An image takes one of the two. Reproducible: the same source
# gives the same bytes (static binaries without build IDs or paths, files
# sorted, owners and times fixed, gzip without a name or time).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${VERSION:?VERSION is required}"
out=dist
stage=$(mktemp -d)
k3s=$(mktemp -d)
trap 'rm -rf "$stage" "$k3s"' EXIT

install -D -m 0755 bin/nri-guard "$stage/usr/local/bin/nri-guard"
install -D -m 0755 bin/nri-guard-runc "$stage/usr/local/bin/nri-guard-runc"
install -D -m 0644 install/dist/policy.yaml "$stage/etc/nri-guard/policy.yaml"
install -d -m 0755 "$stage/etc/nri-guard/policy.d"
install -D -m 0644 install/dist/runtime.yaml "$stage/etc/nri-guard/runtime.yaml"
install -D -m 0644 install/dist/nri-guard.service "$stage/etc/systemd/system/nri-guard.service"
install -D -m 0644 profiles/seccomp/default.json "$stage/usr/share/nri-guard/seccomp/default.json"
install -D -m 0644 README.md "$stage/usr/share/doc/nri-guard/README.md"
install -D -m 0644 LICENSE "$stage/usr/share/doc/nri-guard/LICENSE"

# The K3s image: what `nri-guard install k3s` (audit mode) writes on a K3s
# release that imports config-v3.toml.d drop-ins, manifest included, so
# `nri-guard uninstall k3s` works on the booted node. The installer reads
# K3s's generated config.toml to choose that route: a one-line stand-in
# is there while it runs. --runc names K3s's bundled runc, which is not in
# the image tree. The validator table is written for containerd 2.2+;
# containerd 2.1 ignores it in an imported file (install/README.md).
k3s_config="$k3s/var/lib/rancher/k3s/agent/etc/containerd/config.toml"
mkdir -p "$k3s/etc" "$(dirname "$k3s_config")"
echo 'imports = ["/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.d/*.toml"]' > "$k3s_config"
bin/nri-guard install k3s --root "$k3s" --from bin --runc /var/lib/rancher/k3s/data/current/bin/runc \
  --containerd-version v2.2.0 --k3s-version image > /dev/null
rm "$k3s_config"

# pack DIR NAME: a reproducible tarball of DIR's files, and its checksum.
pack() {
  local tarball="$out/$2-$VERSION-linux-$(go env GOARCH).tar.gz" members
  # Only our files and our own directories: an entry for /, /etc or
  # /usr/local/bin would reset the modes of the image's directories when
  # the tarball is unpacked at /.
  members=$(cd "$1" && { find . -type f; find . -type d -path '*nri-guard*'; } | sed 's#^\./##' | LC_ALL=C sort)
  tar --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$1" -cf - $members | gzip -n -9 > "$tarball"
  (cd "$out" && sha256sum "$(basename "$tarball")" > "$(basename "$tarball").sha256")
  cat "$tarball.sha256"
}

mkdir -p "$out"
pack "$stage" nri-guard
pack "$k3s" nri-guard-k3s
