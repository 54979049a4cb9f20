#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from the Go module proxy (through the wrapper
# module in kube-build/) into a cache keyed by version; what is cached is reused. Prints KUBE_BIN_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

version=$(cd "$here/kube-build" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd_version=$(cd "$here/kube-build" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
minor=${version#v1.}
minor=${minor%%.*}
dir="$cache/kube-$version-etcd-$etcd_version/bin"

if [[ ! -x "$dir/kube-apiserver" || ! -x "$dir/kube-controller-manager" || ! -x "$dir/kubectl" || ! -x "$dir/etcd" ]]; then
    mkdir -p "$cache"
    scratch=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    echo "[build-kube] building kube-apiserver, kube-controller-manager, kubectl $version and etcd $etcd_version into $dir" >&2
    (
        cd "$here/kube-build"
        go build -trimpath -o "$scratch/" \
            -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
            k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
        go build -trimpath -ldflags "-s -w" -o "$scratch/etcd" ./etcd
    )
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir"
    mv "$scratch" "$dir"
    trap - EXIT
fi
echo "KUBE_BIN_DIR=$dir"
