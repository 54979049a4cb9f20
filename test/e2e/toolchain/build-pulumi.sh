#!/usr/bin/env bash
# Builds, from the Go module proxy, the Pulumi CLI at the version package-lock.json pins for
# @pulumi/pulumi, the Node.js language host and dynamic-provider script beside it, and the kubernetes
# and tls provider plugins, into a cache keyed by version; what is cached is reused. Prints KEY=VALUE lines for the e2e runner.
#
# What the proxy does not serve cannot be built as released (see README.md beside this script): the
# command provider is not built at all (the e2e uses existing clusters); the kubernetes provider is
# built from the only source served, commit f47bc2d6f199 of 2026-01-15; the tls provider is
# assembled from its two ingredients, the Terraform TLS provider and the Pulumi Terraform bridge; the
# language host comes from the last sdk/v3 release that carried it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

locked() { node -p "require('$repo/package-lock.json').packages['node_modules/$1'].version"; }
log() { printf '[build-pulumi] %s\n' "$*" >&2; }

# Builds into a scratch directory and moves the result into place, so a failed or interrupted build
# leaves no binary behind; the scratch directory goes either way.
install_binary() { # <target path> <build command...>
    local target=$1 scratch status
    shift
    [[ -x $target ]] && return
    scratch=$(mktemp -d "$(dirname "$(dirname "$target")")/.build.XXXXXX" 2>/dev/null || mktemp -d)
    log "building $(basename "$target") into $(dirname "$target")"
    # errexit stays in force inside the subshell only if the call is not itself a condition.
    set +e
    (set -e; "$@" "$scratch/$(basename "$target")")
    status=$?
    set -e
    if ((status != 0)); then
        rm -rf "$scratch"
        return "$status"
    fi
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

# Dynamic providers (the program's CRD set, components/crdSet.ts) run through this script of the
# Node.js SDK, which Pulumi's release archives ship beside the CLI; it is in the sdk/v3 module.
copy_dynamic_provider() {
    local sdk
    sdk=$(cd "$here/pulumi-build" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$pulumi_version" | node -p 'JSON.parse(require("fs").readFileSync(0)).Dir')
    cp "$sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$1"
    chmod 0755 "$1"
}
install_binary "$cli_dir/pulumi-resource-pulumi-nodejs" copy_dynamic_provider

kubernetes_version=${PULUMI_KUBERNETES_VERSION:-$(locked @pulumi/kubernetes)}
kubernetes_module=github.com/pulumi/pulumi-kubernetes/provider/v4
kubernetes_source=v4.0.0-20260115033456-f47bc2d6f199
kubernetes_sdk=v4.24.0 # the SDK module that source requires; its go.mod points at ../sdk instead
build_kubernetes() {
    local src="${1%/*}/src" # inside install_binary's scratch directory, so it goes with it
    mkdir "$src"
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
}
kubernetes_plugin="$cache/plugins/kubernetes-v$kubernetes_version-from-${kubernetes_source##*-}/pulumi-resource-kubernetes"
install_binary "$kubernetes_plugin" build_kubernetes

tls_version=${PULUMI_TLS_VERSION:-$(locked @pulumi/tls)}
tls_upstream=$(cd "$here/tls-build" && go list -m -f '{{.Version}}' github.com/hashicorp/terraform-provider-tls)
build_tls() {
    local src="${1%/*}/src" # inside install_binary's scratch directory, so it goes with it
    mkdir "$src"
    cp -r "$here/tls-build/." "$src"
    (
        cd "$src"
        # The plugin embeds the package schema and bridge metadata that the bridge's tfgen derives from
        # the upstream provider; generate them first. (Its log is only warnings about the upstream docs,
        # which the schema can do without; shown if it fails.)
        go build -o "$src/tfgen-tls" ./cmd/tfgen-tls
        TLS_PROVIDER_VERSION=$tls_version "$src/tfgen-tls" schema --out "$src/cmd/pulumi-resource-tls" >"$src/tfgen.log" 2>&1 ||
            { cat "$src/tfgen.log" >&2; exit 1; }
        go build -trimpath -ldflags "-s -w -X main.version=$tls_version" -o "$1" ./cmd/pulumi-resource-tls
    )
}
tls_plugin="$cache/plugins/tls-v$tls_version-from-${tls_upstream##*-}/pulumi-resource-tls"
install_binary "$tls_plugin" build_tls

echo "PULUMI_BIN_DIR=$cli_dir"
echo "PULUMI_VERSION=$pulumi_version"
echo "PULUMI_KUBERNETES_VERSION=$kubernetes_version"
echo "PULUMI_KUBERNETES_PLUGIN=$kubernetes_plugin"
echo "PULUMI_TLS_VERSION=$tls_version"
echo "PULUMI_TLS_PLUGIN=$tls_plugin"
