#!/usr/bin/env bash
# Usage: with-private-tmpdir.sh <command> [arguments...], e.g. `with-private-tmpdir.sh pulumi up`.
# Runs the command with TMPDIR set to a new private directory (mktemp -d: mode 0700, in $TMPDIR or
# /tmp) and removes that directory when the command ends, fails or is interrupted (SIGINT, SIGTERM,
# SIGHUP), with the command's exit status. Why: the kubernetes provider writes every kubeconfig it is
# given as content (each cluster's admin credentials) to a new file in $TMPDIR whenever Pulumi
# configures it, and never removes one (pulumi-kubernetes, provider.go: writeKubeconfigToFile).
set -euo pipefail
(($#)) || { echo "usage: with-private-tmpdir.sh <command> [arguments...]" >&2; exit 2; }
private=$(mktemp -d "${TMPDIR:-/tmp}/istio-multicluster.XXXXXX")
trap 'rm -rf -- "$private"' EXIT
# bash runs these once the command has returned, so pulumi's own handling of Ctrl-C (finishing the
# operations in flight) is never cut short by the directory going away under it; the script then ends
# with the command's own status (scripts/run-pulumi.sh tells a pulumi that ended by itself from one a
# signal killed by it).
trap : HUP INT TERM
TMPDIR=$private "$@"
