#!/usr/bin/env bash
# make e2e-cluster: install the pinned binaries (first run only), then run
# the real-cluster tests. Prints the phase timings (build, bed up, tests);
# the last line is "N passed, N failed"; the exit status is non-zero on
# any failure.
#
#   CLUSTER_CONTAINERD_VERSION=v2.4.2   containerd of the node (v2.3.4 too)
#   CLUSTER_RUN=regexp                  go test -run filter
#   CLUSTER_LOG=file                    full verbose log (default /tmp/nri-guard-e2e-cluster.log)
#   CLUSTER_KEEP=1                      keep the bed's root (logs, configs) after the run
#   E2E_CLUSTER_FULL=1                  build and run the second tier too (metrics-server,
#                                       helm-controller); otherwise it runs only if cached
set -uo pipefail
cd "$(dirname "$0")/../.."

summary_re='^[0-9]+ passed, [0-9]+ failed$'
log=${CLUSTER_LOG:-/tmp/nri-guard-e2e-cluster.log}

t0=$(date +%s)
if ! bash e2e/cluster/setup.sh; then
  echo "e2e-cluster: setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ -n "${E2E_CLUSTER_FULL:-}" ] && ! bash e2e/images/build.sh full; then
  echo "e2e-cluster: building the second tier's images failed"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "e2e-cluster: phase build $(( $(date +%s) - t0 ))s (setup.sh: pinned binaries, kept in the cache once built)"

# The tests' own timeouts are shorter; this one tears down before go
# test's own would kill the binary without cleanup.
go test -tags e2e_cluster -count=1 -timeout 30m ${CLUSTER_RUN:+-run "$CLUSTER_RUN"} -v ./e2e/cluster/ 2>&1 \
  | tee "$log" \
  | grep -E '^(--- |    |ok|FAIL|e2e-cluster:)' | grep -vE "$summary_re"
rc=${PIPESTATUS[0]}

summary=$(grep -E "$summary_re" "$log" | tail -1)
echo "e2e-cluster: full log in $log"
if [ -z "$summary" ]; then
  # The test binary did not get to its summary: it failed to build or
  # crashed. That is one failure.
  echo "e2e-cluster: the run ended without a summary (see the log)"
  summary="0 passed, 1 failed"
  [ "$rc" -ne 0 ] || rc=1
fi
echo "e2e-cluster: total $(( $(date +%s) - t0 ))s"
echo "$summary"
exit "$rc"
