#!/usr/bin/env bash
# The canary upgrade (test/e2e/upgrade.e2e.ts): a revision-based stack on two real API servers on
# loopback, with the real istiod of each revision. Not part of run.sh (CI's time budget); run it before
# changing how the program installs, tags or removes revisions. Control planes are stopped and the work
# directory removed, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
E2E_CLUSTER_COUNT=2

e2e_setup istio-mc-upgrade
rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
node --test --test-concurrency=1 build/test/e2e/upgrade.e2e.js
