#!/usr/bin/env bash
# make e2e: install the pinned tools (first run only), then run the suite
# against every containerd version in CONTAINERD_VERSIONS. The last line
# is "N passed, N failed"; the exit status is non-zero on any failure.
#
#   CONTAINERD_VERSIONS="v2.4.2 v2.3.4 v2.2.9 v2.1.9"  versions to run
#   NRI_GUARD_E2E_MODES="external preregistered none"  (see e2e/main_test.go)
#   E2E_RUN=regexp    go test -run filter, e.g. 'TestCases/v2.4.2'
#   E2E_LOG=file      full verbose log (default /tmp/nri-guard-e2e.log)
set -uo pipefail
cd "$(dirname "$0")/.."

bash e2e/setup.sh || { echo "e2e: setup failed"; echo "0 passed, 1 failed"; exit 1; }

log=${E2E_LOG:-/tmp/nri-guard-e2e.log}
summary_re='^[0-9]+ passed, [0-9]+ failed$'
# -parallel 4: cases mostly wait on containerd and runc, so more than the
# two cores' worth run at once.
go test -tags e2e -count=1 -timeout 40m -parallel 4 ${E2E_RUN:+-run "$E2E_RUN"} -v ./e2e/ 2>&1 \
  | tee "$log" \
  | grep -E '^(--- |    |ok|FAIL|e2e:)' | grep -vE "$summary_re"
rc=${PIPESTATUS[0]}

summary=$(grep -E "$summary_re" "$log" | tail -1)
echo "e2e: full log in $log"
if [ -z "$summary" ]; then
  # The test binary did not get to its summary: it failed to build or
  # crashed. That is one failure.
  echo "e2e: the suite ended without a summary (see the log)"
  summary="0 passed, 1 failed"
  [ "$rc" -ne 0 ] || rc=1
fi
echo "$summary"
exit "$rc"
