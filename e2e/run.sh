#!/usr/bin/env bash
# make e2e: install the pinned tools (first run only), then run the suite
# against every containerd version in CONTAINERD_VERSIONS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash e2e/setup.sh
[ -x bin/nri-guard ] || make build
# -p 1: one containerd at a time (they share the bridge name and the
# machine's two cores); cases run in parallel inside each.
go test -tags e2e -count=1 -p 1 -timeout 25m ${E2E_RUN:+-run "$E2E_RUN"} -v ./e2e/ 2>&1 | tee "${E2E_LOG:-/tmp/nri-guard-e2e.log}" | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS|e2e:)' | grep -v '^=== RUN' 
exit "${PIPESTATUS[0]}"
