#!/usr/bin/env bash
# The upgrades between two Istio versions (test/e2e/upgrade.e2e.ts): a revision-based (canary) and an
# in-place upgrade of a two-cluster stack on two real API servers on loopback, from an older Istio to
# the pinned one, each with its own charts (stamped with release versions and served from a Helm
# repository on loopback) and its own real istiod; also a primary-remote stack on a revision of each
# (test/e2e/remoteRevisions.e2e.ts), and a stack installed in place moved to revisions
# (test/e2e/inPlaceMigration.e2e.ts). Apart from run.sh, so that it can be run alone before changing how
# the program installs, tags, upgrades or removes revisions; .ci/run runs both. Control planes are stopped
# and the work directory removed, even on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
E2E_CLUSTER_COUNT=2

e2e_setup istio-mc-upgrade
e2e_istio_releases
rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
node --test --test-concurrency=1 build/test/e2e/upgrade.e2e.js build/test/e2e/remoteRevisions.e2e.js build/test/e2e/inPlaceMigration.e2e.js
