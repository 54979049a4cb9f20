#!/usr/bin/env bash
# The fault suite (test/e2e/faults.e2e.ts): interrupted, partial and drifted runs of the real program
# against two real API servers on loopback, and the recovery docs/operations.md documents. FAULTS selects
# faults by name (comma-separated; all by default). Control planes and every process the killed CLIs
# left behind are stopped, and the work directory removed, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
# The mesh runs on cluster1 and cluster2; the cluster-removed fault adds cluster3.
if [[ -z ${FAULTS:-} || ,$FAULTS, == *,cluster-removed,* ]]; then E2E_CLUSTER_COUNT=3; else E2E_CLUSTER_COUNT=2; fi

e2e_setup istio-mc-faults
rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
node --test --test-concurrency=1 build/test/e2e/faults.e2e.js
