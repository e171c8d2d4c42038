#!/bin/sh
# Entry of the e2e's helm Job image, to the contract helm-controller
# drives klipper-helm with: the first argument is install or delete, the
# rest are helm flags (--namespace, --set ...); NAME, TARGET_NAMESPACE and
# HELM_DRIVER come in the environment. Only an inline chart is served (a
# HelmChart's spec.chartContent, mounted from a ConfigMap at
# /chart/NAME.tgz.base64): the bed reaches no chart repository.
set -eu
action=${1:-install}
[ $# -eq 0 ] || shift
case $action in
install)
	src=/chart/$NAME.tgz.base64
	if [ ! -f "$src" ]; then
		echo "klipper-helm (e2e): no $src; only spec.chartContent is served here" >&2
		exit 1
	fi
	base64 -d "$src" >"/tmp/$NAME.tgz"
	for values in /config/values-*.yaml; do
		[ -f "$values" ] && set -- "$@" --values "$values"
	done
	exec helm upgrade --install "$NAME" "/tmp/$NAME.tgz" "$@"
	;;
delete)
	exec helm uninstall "$NAME" --namespace "${TARGET_NAMESPACE:-default}" --ignore-not-found
	;;
*)
	echo "klipper-helm (e2e): unknown action $action" >&2
	exit 2
	;;
esac
