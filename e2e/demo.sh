#!/usr/bin/env bash
# make demo: set up (first run: pinned containerd, runc, crictl), start a
# real containerd with nri-guard, show a benign pod rewritten and an
# escape-shaped pod refused, tear everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERD_VERSIONS="${CONTAINERD_VERSIONS:-v2.4.2}"
bash e2e/setup.sh
[ -x bin/nri-guard ] || make build
E2E_DEMO=1 go test -tags e2e -count=1 -run '^TestDemo$' -v ./e2e/ 2>&1 \
  | grep -vE '^(=== RUN|--- PASS|PASS|ok |e2e: |[0-9]+ passed, [0-9]+ failed)' || true
test "${PIPESTATUS[0]}" -eq 0
