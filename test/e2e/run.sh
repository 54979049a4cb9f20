#!/usr/bin/env bash
# End-to-end test: the real Pulumi engine and providers (built from the package registries) run the
# real program against two real Kubernetes API servers on loopback. Control planes are always stopped
# and the work directory removed, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
E2E_CLUSTER_COUNT=2 # mesh.e2e.ts tests two clusters

e2e_setup istio-mc-e2e
rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
node --test --test-concurrency=1 build/test/e2e/crdSet.e2e.js build/test/e2e/mesh.e2e.js build/test/e2e/primaryRemote.e2e.js build/test/e2e/traffic.e2e.js build/test/e2e/runPulumi.e2e.js
