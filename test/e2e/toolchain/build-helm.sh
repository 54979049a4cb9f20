#!/usr/bin/env bash
# Builds `helm` from its Go module (helm.sh/helm/v3) into a cache keyed by version, with the ldflags of
# helm's own Makefile for a release tag; what is cached is reused. Prints HELM_BIN=<path>.
# Only the benchmark needs it: its `procedure` and `floor` contenders install the charts as a user would.
set -euo pipefail
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

module=helm.sh/helm/v3
version=v3.22.0
bin="$cache/helm-$version/bin/helm"

if [[ ! -x $bin ]]; then
    echo "[build-helm] building helm $version into $(dirname "$bin")" >&2
    mkdir -p "$cache"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    # The Makefile derives the Kubernetes version `helm template` assumes from client-go's (v0.X -> 1.X).
    client_go=$(go mod download -json "$module@$version" | node -p 'JSON.parse(require("fs").readFileSync(0)).GoMod' |
        xargs sed -n 's/^\tk8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p')
    ldflags="-s -w -X $module/internal/version.version=$version"
    for pkg in pkg/lint/rules pkg/chartutil; do
        ldflags+=" -X $module/$pkg.k8sVersionMajor=1 -X $module/$pkg.k8sVersionMinor=$client_go"
    done
    GOBIN="$scratch" go install -trimpath -ldflags "$ldflags" "$module/cmd/helm@$version"
    mkdir -p "$(dirname "$(dirname "$bin")")"
    rm -rf "$(dirname "$bin")"
    mv "$scratch" "$(dirname "$bin")"
    trap - EXIT
fi
echo "HELM_BIN=$bin"
