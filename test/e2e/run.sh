#!/usr/bin/env bash
# End-to-end test: the real Pulumi engine and providers (built from the package registries) run the
# real program against two real Kubernetes API servers on loopback. Control planes are always stopped
# and the work directory removed, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh

e2e_node
e2e_toolchain
work=$(mktemp -d "${TMPDIR:-/tmp}/istio-mc-e2e.XXXXXX")
trap 'e2e_stop_clusters "$work"; rm -rf "$work"' EXIT
e2e_start_clusters "$work"
e2e_pulumi_env "$work"
e2e_link_project "$work/project"

rm -rf build && npx tsc -p tsconfig.test.json
E2E_WORK="$work" E2E_PROJECT="$work/project" node --test --test-concurrency=1 build/test/e2e/mesh.e2e.js
