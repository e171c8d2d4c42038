#!/usr/bin/env bash
# make dist: a versioned root-filesystem overlay for OS images, unpacked
# at / with nothing to run at first boot. Reproducible: the same source
# gives the same bytes (static binaries without build IDs or paths, files
# sorted, owners and times fixed, gzip without a name or time).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${VERSION:?VERSION is required}"
out=dist
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 bin/nri-guard "$stage/usr/local/bin/nri-guard"
install -D -m 0755 bin/nri-guard-runc "$stage/usr/local/bin/nri-guard-runc"
install -D -m 0644 install/dist/policy.yaml "$stage/etc/nri-guard/policy.yaml"
install -d -m 0755 "$stage/etc/nri-guard/policy.d"
install -D -m 0644 install/dist/runtime.yaml "$stage/etc/nri-guard/runtime.yaml"
install -D -m 0644 install/dist/nri-guard.service "$stage/etc/systemd/system/nri-guard.service"
install -D -m 0644 profiles/seccomp/default.json "$stage/usr/share/nri-guard/seccomp/default.json"
install -D -m 0644 README.md "$stage/usr/share/doc/nri-guard/README.md"
install -D -m 0644 LICENSE "$stage/usr/share/doc/nri-guard/LICENSE"

mkdir -p "$out"
tarball="$out/nri-guard-$VERSION-linux-$(go env GOARCH).tar.gz"
# Only our files and our own directories: an entry for /, /etc or
# /usr/local/bin would reset the modes of the image's directories when
# the tarball is unpacked at /.
members=$(cd "$stage" && { find . -type f; find . -type d -path '*nri-guard*'; } | sed 's#^\./##' | LC_ALL=C sort)
tar --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
  -C "$stage" -cf - $members | gzip -n -9 > "$tarball"
(cd "$out" && sha256sum "$(basename "$tarball")" > "$(basename "$tarball").sha256")
cat "$tarball.sha256"
