#!/usr/bin/env bash
# Fetches the official Istio charts and builds `pilot-discovery` (istiod) and `istioctl`, all from one
# version of the `istio.io/istio` Go module (the Go module proxy serves only some of its
# pseudo-versions), into a cache keyed by that version; what is cached is reused.
#   build-istio.sh                              the pinned version, every binary
#   build-istio.sh --istiod-only <version>      another version's charts and pilot-discovery only (the
#                                               upgrade e2e's older Istio; test/e2e/upgrade.sh)
# Prints KEY=VALUE lines for the e2e runner:
#   ISTIO_CHARTS_DIR   base/, istiod/ (the chart manifests/charts/istio-control/istio-discovery) and
#                      gateway/, laid out as the program expects a local `istio.chartRepo`
#   ISTIO_BIN_DIR      pilot-discovery, istioctl and pilot-agent (the sidecar and gateway agent, which
#                      the e2e's data plane runs beside Envoy)
#   ISTIO_MODULE_DIR   the module's source tree (read-only), for the samples the test applies
set -euo pipefail
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

# 2026-08-27 on Istio's master branch (VERSION 1.31); charts and binaries must match, since an istiod
# reads in remote clusters what its own version's reader ClusterRole grants.
module=istio.io/istio
version=v0.0.0-20260827124520-eed52ebb66ad
istiod_only=false
if [[ ${1:-} == --istiod-only ]]; then
    istiod_only=true
    version=${2:?usage: build-istio.sh [--istiod-only <istio.io/istio module version>]}
fi
log() { printf '[build-istio] %s\n' "$*" >&2; }

source_dir=$(go mod download -json "$module@$version" | node -p 'JSON.parse(require("fs").readFileSync(0)).Dir')
dir="$cache/istio-${version##*-}"

if [[ ! -d "$dir/charts" ]]; then
    log "copying the official charts into $dir/charts"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    cp -r "$source_dir/manifests/charts/base" "$scratch/base"
    cp -r "$source_dir/manifests/charts/istio-control/istio-discovery" "$scratch/istiod"
    cp -r "$source_dir/manifests/charts/gateway" "$scratch/gateway"
    chmod -R u+w "$scratch"
    mkdir -p "$dir"
    mv "$scratch" "$dir/charts"
fi

if $istiod_only && [[ ! -x "$dir/bin/pilot-discovery" ]]; then
    log "building pilot-discovery $version into $dir/bin"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    GOBIN="$scratch" go install -trimpath -ldflags "-s -w" "$module/pilot/cmd/pilot-discovery@$version"
    mkdir -p "$dir/bin"
    mv "$scratch/pilot-discovery" "$dir/bin/pilot-discovery"
    rm -rf "$scratch"
    trap - EXIT
fi

if ! $istiod_only && [[ ! -x "$dir/bin/pilot-discovery" || ! -x "$dir/bin/istioctl" ]]; then
    log "building pilot-discovery and istioctl $version into $dir/bin"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    GOBIN="$scratch" go install -trimpath -ldflags "-s -w" \
        "$module/pilot/cmd/pilot-discovery@$version" "$module/istioctl/cmd/istioctl@$version"
    rm -rf "$dir/bin"
    mv "$scratch" "$dir/bin"
    trap - EXIT
fi

# Built on its own so that a cache from before the data plane keeps its other binaries.
if ! $istiod_only && [[ ! -x "$dir/bin/pilot-agent" ]]; then
    log "building pilot-agent $version into $dir/bin"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    GOBIN="$scratch" go install -trimpath -ldflags "-s -w" "$module/pilot/cmd/pilot-agent@$version"
    mv "$scratch/pilot-agent" "$dir/bin/pilot-agent"
    rm -rf "$scratch"
    trap - EXIT
fi

echo "ISTIO_CHARTS_DIR=$dir/charts"
echo "ISTIO_BIN_DIR=$dir/bin"
echo "ISTIO_MODULE_DIR=$source_dir"
