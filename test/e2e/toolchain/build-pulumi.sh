#!/usr/bin/env bash
# Builds, from the Go module proxy, the Pulumi CLI at the version package-lock.json pins for
# @pulumi/pulumi, the Node.js language host beside it, and the kubernetes provider plugin, into a
# cache keyed by version; what is cached is reused. Prints KEY=VALUE lines for the e2e runner.
#
# What the proxy does not serve cannot be built here (see README.md beside this script): the tls and
# command providers (the e2e uses a supplied CA and existing clusters), and any released
# pulumi-kubernetes provider: the only source served is commit f47bc2d6f199 of 2026-01-15, which is
# built and installed as the version the SDK asks for. The language host's own module is not served
# either; it is built from the last sdk/v3 release that carried it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

locked() { node -p "require('$repo/package-lock.json').packages['node_modules/$1'].version"; }
log() { printf '[build-pulumi] %s\n' "$*" >&2; }

# Builds into a scratch directory and moves the result into place, so an interrupted build leaves nothing.
install_binary() { # <target path> <build command...>
    local target=$1 scratch
    shift
    [[ -x $target ]] && return
    scratch=$(mktemp -d "$(dirname "$(dirname "$target")")/.build.XXXXXX" 2>/dev/null || mktemp -d)
    log "building $(basename "$target") into $(dirname "$target")"
    "$@" "$scratch/$(basename "$target")"
    mkdir -p "$(dirname "$target")"
    mv "$scratch/$(basename "$target")" "$target"
    rm -rf "$scratch"
}

pulumi_version=${PULUMI_VERSION:-$(locked @pulumi/pulumi)}
wrapper_version=$(cd "$here/pulumi-build" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
if [[ "v$pulumi_version" != "$wrapper_version" ]]; then
    echo "build-pulumi: package-lock.json pins @pulumi/pulumi $pulumi_version but test/e2e/toolchain/pulumi-build/go.mod builds $wrapper_version; make them agree" >&2
    exit 1
fi
build_cli() {
    (cd "$here/pulumi-build" && go build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_version" \
        -o "$1" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}
cli_dir="$cache/pulumi-v$pulumi_version/bin"
mkdir -p "$cache"
install_binary "$cli_dir/pulumi" build_cli

# The CLI loads language hosts from its own directory first, as in Pulumi's release archives.
build_language_host() {
    (cd "$here/language-host-build" && go build -trimpath -ldflags "-s -w" \
        -o "$1" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
}
install_binary "$cli_dir/pulumi-language-nodejs" build_language_host

kubernetes_version=${PULUMI_KUBERNETES_VERSION:-$(locked @pulumi/kubernetes)}
kubernetes_module=github.com/pulumi/pulumi-kubernetes/provider/v4
kubernetes_source=v4.0.0-20260115033456-f47bc2d6f199
kubernetes_sdk=v4.24.0 # the SDK module that source requires; its go.mod points at ../sdk instead
build_kubernetes() {
    local src
    src=$(mktemp -d)
    cp -r "$(go mod download -json "$kubernetes_module@$kubernetes_source" | node -p 'JSON.parse(require("fs").readFileSync(0)).Dir')/." "$src"
    chmod -R u+w "$src"
    (
        cd "$src"
        go mod edit -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@$kubernetes_sdk"
        # The provider embeds its schema under the names its Makefile gives the copies.
        cp cmd/pulumi-resource-kubernetes/schema.json cmd/pulumi-resource-kubernetes/schema-embed.json
        cp cmd/pulumi-resource-kubernetes/terraform-mapping.json cmd/pulumi-resource-kubernetes/terraform-mapping-embed.json
        go build -trimpath \
            -ldflags "-s -w -X $kubernetes_module/pkg/version.Version=$kubernetes_version" \
            -o "$1" ./cmd/pulumi-resource-kubernetes
    )
    rm -rf "$src"
}
kubernetes_plugin="$cache/plugins/kubernetes-v$kubernetes_version-from-${kubernetes_source##*-}/pulumi-resource-kubernetes"
install_binary "$kubernetes_plugin" build_kubernetes

echo "PULUMI_BIN_DIR=$cli_dir"
echo "PULUMI_VERSION=$pulumi_version"
echo "PULUMI_KUBERNETES_VERSION=$kubernetes_version"
echo "PULUMI_KUBERNETES_PLUGIN=$kubernetes_plugin"
