#!/usr/bin/env bash
# Makes a Helm repository of the official charts of one or more Istio builds, each stamped with a
# release version the way Istio's release tooling stamps them: `version` and `appVersion` in each
# Chart.yaml (the source says 1.0.0), and the istiod chart's default image hub and tag (the source
# says `registry.istio.io/testing` and `latest`). The charts are packaged and indexed by helm itself
# (HELM_BIN), so the repository is what `helm repo index` makes for any Helm repository.
#   release-charts.sh <repository dir> <charts dir> <release version> [<charts dir> <release version>]...
# where each charts dir holds base/, istiod/ and gateway/ (build-istio.sh's ISTIO_CHARTS_DIR).
set -euo pipefail
repo=${1:?usage: release-charts.sh <repository dir> <charts dir> <release version> [...]}
shift
: "${HELM_BIN:?HELM_BIN must name the helm binary (test/e2e/lib.sh e2e_helm)}"
mkdir -p "$repo"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Replaces exactly one line matching $2 in file $1 with $3, or fails: a chart laid out differently
# must not be released with its source version.
stamp() { # <file> <line regex> <replacement line>
    local count
    count=$(grep -cE "$2" "$1" || true)
    if [[ $count != 1 ]]; then
        echo "[release-charts] $1: expected one line matching '$2', found $count" >&2
        return 1
    fi
    sed -i -E "s|$2|$3|" "$1"
}

while (($# > 0)); do
    charts=${1:?} release=${2:?usage: release-charts.sh <repository dir> <charts dir> <release version> [...]}
    shift 2
    for chart in base istiod gateway; do
        rm -rf "${scratch:?}/$chart"
        cp -r "$charts/$chart" "$scratch/$chart"
        chmod -R u+w "$scratch/$chart"
        stamp "$scratch/$chart/Chart.yaml" '^version: 1\.0\.0$' "version: $release"
        stamp "$scratch/$chart/Chart.yaml" '^appVersion: 1\.0\.0$' "appVersion: $release"
        if [[ $chart == istiod ]]; then
            stamp "$scratch/$chart/values.yaml" '^    hub: registry\.istio\.io/testing$' '    hub: docker.io/istio'
            stamp "$scratch/$chart/values.yaml" '^    tag: latest$' "    tag: $release"
        fi
        "$HELM_BIN" package "$scratch/$chart" --destination "$repo" >&2
    done
done
"$HELM_BIN" repo index "$repo" >&2
echo "ISTIO_HELM_REPOSITORY_DIR=$repo"
