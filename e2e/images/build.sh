#!/usr/bin/env bash
# Builds the e2e workload images with real binaries into the e2e cache:
#   ${NRI_GUARD_E2E_CACHE:-$HOME/.cache/nri-guard-e2e}/images/<name>.tar
# as localhost/e2e/<name>:<tag>, and images/index.txt (name ref user
# entrypoint ports). Usage: e2e/images/build.sh [names...] (default: all).
# Idempotent: an image whose inputs (this script, mkimage, the entry
# scripts, the binaries and .deb files) did not change is kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NRI_GUARD_E2E_CACHE:-$HOME/.cache/nri-guard-e2e}
out=$cache/images
bins=$out/bin
debs=$out/debs
stages=$out/stage
mkdir -p "$out" "$bins" "$debs" "$stages" "$out/logs"

all=(coredns local-path-provisioner busybox servicelb nginx postgres redis pyweb)
# The cluster bed's second tier (E2E_CLUSTER_FULL=1): built only when named
# or with "full", being the slowest to build from a cold Go cache.
full=(metrics-server klipper-helm)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
[ "${names[*]}" != full ] || names=("${all[@]}" "${full[@]}")

mkimage=$out/mkimage
(cd "$repo" && CGO_ENABLED=0 go build -o "$mkimage.new" ./e2e/tools/mkimage) && mv "$mkimage.new" "$mkimage"

log() { echo "build.sh: $*" >&2; }

# gobin NAME MODULE@VERSION [env...]: a Go binary at its pin, built once.
gobin() {
	local name=$1 mod=$2 dir
	shift 2
	dir=$bins/$name-${mod##*@}
	if [ ! -x "$dir/$name" ]; then
		log "go install $mod (slow the first time)"
		env "$@" GOBIN="$dir" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$mod" >"$out/logs/$name.log" 2>&1
	fi
	echo "$dir/$name"
}

# slimcoredns VERSION: CoreDNS at its pin with only the plugins K3s's
# Corefile names (coredns/main.go.in), built once per version and main.
slimcoredns() {
	local v=$1 main=$here/coredns/main.go.in dir mod
	dir=$bins/coredns-$v-$(sha256sum "$main" | cut -c1-12)
	mod=$out/build/coredns-$v
	if [ ! -x "$dir/coredns" ]; then
		log "building CoreDNS $v with K3s's Corefile plugins (slow the first time)"
		mkdir -p "$mod" "$dir"
		cp "$main" "$mod/main.go"
		printf 'module nri-guard-e2e/coredns\n\ngo 1.26\n\nrequire github.com/coredns/coredns %s\n' "$v" >"$mod/go.mod"
		(cd "$mod" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/coredns.new" . && mv "$dir/coredns.new" "$dir/coredns") >"$out/logs/coredns.log" 2>&1
	fi
	echo "$dir/coredns"
}

# fetch PKG...: the .deb files of the packages, downloaded once.
fetch() {
	local p f
	for p in "$@"; do
		if ! ls "$debs/${p}_"*.deb >/dev/null 2>&1; then
			(cd "$debs" && apt-get download "$p" >/dev/null 2>&1) || { log "apt-get download $p failed"; return 1; }
		fi
		for f in "$debs/${p}_"*.deb; do echo "$f"; done
	done
}

# libowner LIB: the package holding a host library; dpkg knows merged-/usr
# files by either name, and a symlink by its target's name at times.
libowner() {
	local c
	for c in "$1" "${1#/usr}" "/usr$1" "$(readlink -f "$1")" "$(readlink -f "$1" | sed 's,^/usr,,')"; do
		dpkg -S "$c" 2>/dev/null | head -n1 | cut -d: -f1 | grep . && return 0
	done
	return 0
}

# stage NAME PKG...: a fresh staging tree with the packages unpacked, and
# the packages that hold the shared libraries its ELF files need, until
# nothing is missing: ldd finds each library in the tree or on the host
# (dpkg names the host copy's package); one neither has (the host need
# not have the package installed) is in a library package the staged
# packages depend on.
stage() {
	local name=$1 dir=$stages/$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	local pkgs=("$@" libc6) done=() batch=() p deb lib owner missing dep
	local -A seen=()
	# Rounds: unpack every package asked for, then look once at what the
	# tree's programs need; a library is looked up once.
	while [ ${#pkgs[@]} -gt 0 ]; do
		batch=("${pkgs[@]}")
		pkgs=()
		for p in "${batch[@]}"; do
			[[ " ${done[*]-} " == *" $p "* ]] && continue
			done+=("$p")
			for deb in $(fetch "$p"); do dpkg-deb -x "$deb" "$dir"; done
		done
		missing=()
		while read -r lib; do
			case $lib in
			"not-found "*) missing+=("${lib#not-found }"); continue ;;
			"$dir"/*) continue ;; # staged already
			esac
			[ -z "${seen[$lib]-}" ] || continue
			seen[$lib]=1
			owner=$(libowner "$lib")
			[ -n "$owner" ] && [[ " ${done[*]} ${pkgs[*]-} " != *" $owner "* ]] && pkgs+=("$owner")
		done < <(find "$dir" -type f \( -perm -u+x -o -name '*.so*' \) -not -path '*/lib-dynload/*' -not -path '*/pgxs/*' -print0 |
			xargs -0 -r file -N | grep -E 'ELF .*(executable|shared object)' | cut -d: -f1 |
			LD_LIBRARY_PATH="$dir/lib/x86_64-linux-gnu:$dir/usr/lib/x86_64-linux-gnu" xargs -r ldd 2>/dev/null |
			awk '/=> \//{print $3} /=> not found/{print "not-found " $1}' | sort -u)
		[ ${#missing[@]} -eq 0 ] && continue
		for p in "${done[@]}"; do
			for deb in $(fetch "$p"); do
				for dep in $(dpkg-deb -f "$deb" Depends Pre-Depends | tr ',|' '\n\n' | sed 's/^ *//; s/[ :(].*//' | grep '^lib'); do
					[[ " ${done[*]} ${pkgs[*]-} " != *" $dep "* ]] && pkgs+=("$dep")
				done
			done
		done
		if [ ${#pkgs[@]} -eq 0 ]; then
			log "$name: warning: no staged package's library dependency holds ${missing[*]}"
			break
		fi
	done
	echo "${done[*]}" >"$dir.packages"
	# Without ld.so.cache the loader still finds multiarch libraries: make one.
	mkdir -p "$dir/etc"
	printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$dir/etc/ld.so.conf"
	ldconfig -r "$dir" 2>/dev/null || true
	# documentation and manuals are not needed to run
	rm -rf "$dir/usr/share/doc" "$dir/usr/share/man" "$dir/usr/share/info" "$dir/usr/share/lintian"
}

# image NAME TAG USER ENTRYPOINT PORTS -- MKIMAGE-ARGS...: writes the image
# unless a tar of the same inputs exists, and records it in index.txt.
image() {
	local name=$1 tag=$2 user=$3 entry=$4 ports=$5
	shift 6
	local ref=localhost/e2e/$name:$tag tar=$out/$name.tar args=("$@") p
	for p in $ports; do args+=(--expose "$p"); done
	# The inputs: the arguments, and every host file they name.
	local sum
	sum=$( {
		printf '%s\n' "$ref" "$user" "entry=$entry" "${args[@]}"
		sha256sum "$mkimage" "$0"
		for a in "${args[@]}"; do
			case $a in
			/*:*) f=${a%%:*}; if [ -d "$f" ]; then (cd "$f" && find . -printf '%p %m %l %s\n' | sort); elif [ -f "$f" ]; then sha256sum "$f"; fi ;;
			esac
		done
	} | sha256sum | cut -d' ' -f1)
	if [ -f "$tar" ] && [ "$(cat "$tar.inputs" 2>/dev/null)" = "$sum" ]; then
		log "$name: unchanged, kept"
	else
		local entryArgs=()
		[ -z "$entry" ] || entryArgs=(--entrypoint "$entry")
		"$mkimage" --ref "$ref" --out "$tar" --user "$user" "${entryArgs[@]}" "${args[@]}"
		echo "$sum" >"$tar.inputs"
		log "$name: built $(du -h "$tar" | cut -f1)"
	fi
	local idx=$out/index.txt
	touch "$idx"
	grep -v "^$name " "$idx" >"$idx.new" || true
	echo "$name $ref $user ${entry:--} ${ports// /,}" >>"$idx.new"
	sort "$idx.new" >"$idx" && rm -f "$idx.new"
}

# users FILE-PREFIX LINES...: /etc/passwd and /etc/group for an image.
users() {
	local dir=$1
	shift
	mkdir -p "$dir"
	{ echo "root:x:0:0:root:/root:/bin/sh"; for u in "$@"; do echo "$u"; done; echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"; } >"$dir/passwd"
	{ echo "root:x:0:"; for u in "$@"; do IFS=: read -r n _ _ g _ <<<"$u"; echo "$n:x:$g:"; done; echo "nogroup:x:65534:"; } >"$dir/group"
}

etc=$out/etc
for name in "${names[@]}"; do
	start=$(date +%s)
	case $name in
	coredns)
		bin=$(slimcoredns v1.14.7)
		users "$etc/coredns" "coredns:x:65532:65532:coredns:/:/sbin/nologin"
		image coredns 1.14.7 65532:65532 /coredns "53/udp 53/tcp 9153/tcp" -- \
			--file "$bin:/coredns:0:0:0755" --cap "/coredns:cap_net_bind_service=+ep" \
			--file "$etc/coredns/passwd:/etc/passwd" --file "$etc/coredns/group:/etc/group" \
			--file "$here/Corefile:/etc/coredns/Corefile:0:0:0644" --cmd -conf --cmd /etc/coredns/Corefile
		;;
	local-path-provisioner)
		bin=$(gobin local-path-provisioner github.com/rancher/local-path-provisioner@v0.0.37 GONOSUMDB=github.com/rancher/local-path-provisioner)
		image local-path-provisioner v0.0.37 0:0 /usr/bin/local-path-provisioner "" -- \
			--file "$bin:/usr/bin/local-path-provisioner:0:0:0755" --dir /tmp:1777
		;;
	busybox)
		# the helper pod's image (setup/teardown scripts run by sh)
		deb=$(fetch busybox-static)
		stage busybox-helper busybox-static
		image busybox 1.35 0:0 /bin/sh "" -- --tree "$stages/busybox-helper:/" --symlink /bin/sh:busybox \
			--symlink /bin/mkdir:busybox --symlink /bin/rm:busybox --symlink /bin/chmod:busybox --dir /tmp:1777
		;;
	servicelb)
		stage servicelb iptables busybox-static
		users "$etc/servicelb"
		# klipper-lb's shape: no entrypoint, CMD ["entry"] found on PATH
		# (the k3s-system preset's exception pins that command line).
		image servicelb e2e 0:0 "" "" -- --tree "$stages/servicelb:/" --cmd entry \
			--file "$here/servicelb-entry.sh:/usr/bin/entry:0:0:0755" --symlink /bin/sh:busybox \
			--file "$etc/servicelb/passwd:/etc/passwd" --file "$etc/servicelb/group:/etc/group" --dir /run --dir /tmp:1777 \
			--env PATH=/usr/sbin:/usr/bin:/sbin:/bin
		;;
	nginx)
		stage nginx nginx nginx-common busybox-static
		users "$etc/nginx" "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin"
		image nginx 1.22.1 0:0 /usr/local/bin/entry "80/tcp" -- --tree "$stages/nginx:/" \
			--file "$here/nginx-entry.sh:/usr/local/bin/entry:0:0:0755" --file "$here/nginx.conf:/etc/nginx/nginx.conf:0:0:0644" \
			--file "$here/index.html:/srv/www/index.html:0:0:0644" --symlink /bin/sh:busybox \
			--file "$etc/nginx/passwd:/etc/passwd" --file "$etc/nginx/group:/etc/group" \
			--dir /var/lib/nginx:0750:33:33 --dir /run/nginx:0755:33:33 --dir /var/log/nginx:0750:33:33 --dir /tmp:1777 \
			--env PATH=/usr/sbin:/usr/bin:/sbin:/bin
		;;
	postgres)
		stage postgres postgresql-15 postgresql-client-15 libpq5 libicu72 libxml2 liblz4-1 libzstd1 libssl3 libldap-2.5-0 libgssapi-krb5-2 libreadline8 libuuid1 libpam0g libsystemd0 libselinux1 tzdata busybox-static
		users "$etc/postgres" "postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh"
		image postgres 15 999:999 /usr/local/bin/entry "5432/tcp" -- --tree "$stages/postgres:/" \
			--file "$here/postgres-entry.sh:/usr/local/bin/entry:0:0:0755" --symlink /bin/sh:busybox \
			--file "$etc/postgres/passwd:/etc/passwd" --file "$etc/postgres/group:/etc/group" \
			--dir /var/lib/postgresql:0755:999:999 --dir /var/lib/postgresql/data:0700:999:999 --dir /run/postgresql:2775:999:999 --dir /tmp:1777 \
			--env PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin --env PGDATA=/var/lib/postgresql/data/pgdata --env LANG=C
		;;
	redis)
		stage redis redis-server redis-tools liblzf1 libjemalloc2 busybox-static
		users "$etc/redis" "redis:x:998:998:redis:/data:/usr/sbin/nologin"
		image redis 7.0.15 998:998 /usr/local/bin/entry "6379/tcp" -- --tree "$stages/redis:/" \
			--file "$here/redis-entry.sh:/usr/local/bin/entry:0:0:0755" --symlink /bin/sh:busybox \
			--file "$etc/redis/passwd:/etc/passwd" --file "$etc/redis/group:/etc/group" \
			--dir /data:0750:998:998 --workdir /data --dir /tmp:1777
		;;
	pyweb)
		stage pyweb python3.11-minimal libpython3.11-minimal libpython3.11-stdlib busybox-static
		users "$etc/pyweb" "app:x:1000:1000:app:/app:/usr/sbin/nologin"
		image pyweb 3.11 1000:1000 /usr/bin/python3.11 "8080/tcp" -- --tree "$stages/pyweb:/" \
			--file "$here/pyweb-app.py:/app/app.py:0:0:0644" --symlink /bin/sh:busybox \
			--file "$etc/pyweb/passwd:/etc/passwd" --file "$etc/pyweb/group:/etc/group" \
			--workdir /app --cmd /app/app.py --env PYTHONDONTWRITEBYTECODE=1
		;;
	metrics-server)
		# As the upstream image: the binary at /, uid 65534, no shell.
		bin=$(gobin metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server@v0.8.0)
		image metrics-server v0.8.0 65534:65534 /metrics-server "10250/tcp" -- \
			--file "$bin:/metrics-server:0:0:0755" --dir /tmp:1777
		;;
	klipper-helm)
		# The helm install Job's image: helm and an entry of klipper-helm's
		# contract (helm-controller's NAME, CHART, TARGET_NAMESPACE...
		# environment; install or delete as the argument), as uid 1000.
		# helm-controller runs on the node (K3s runs it inside its server):
		# built here beside the Job's image it drives.
		gobin helm-controller github.com/k3s-io/helm-controller@v0.17.9 >/dev/null
		bin=$(gobin helm helm.sh/helm/v4/cmd/helm@v4.3.2)
		stage klipper-helm busybox-static
		users "$etc/klipper-helm" "klipper-helm:x:1000:1000:klipper-helm:/home/klipper-helm:/bin/sh"
		image klipper-helm e2e 1000:1000 /usr/bin/entry "" -- --tree "$stages/klipper-helm:/" \
			--file "$bin:/usr/bin/helm:0:0:0755" --file "$here/klipper-helm-entry.sh:/usr/bin/entry:0:0:0755" \
			--symlink /bin/sh:busybox --file "$etc/klipper-helm/passwd:/etc/passwd" --file "$etc/klipper-helm/group:/etc/group" \
			--dir /home/klipper-helm:0755:1000:1000 --dir /tmp:1777 --env PATH=/usr/bin:/bin --env HOME=/home/klipper-helm
		;;
	*) log "unknown image $name (known: ${all[*]} ${full[*]})"; exit 2 ;;
	esac
	log "$name: $(($(date +%s) - start)) s"
done
