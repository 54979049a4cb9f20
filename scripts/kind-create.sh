#!/usr/bin/env bash
# Creates the kind cluster $KIND_CLUSTER_NAME (optionally from $KIND_NODE_IMAGE) and prints its admin
# kubeconfig on stdout, which Pulumi stores as a secret. kind insists on writing a kubeconfig file too:
# it goes to a private temporary directory that is removed on exit, so ~/.kube/config and its current
# context are never touched.
set -euo pipefail
: "${KIND_CLUSTER_NAME:?}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
args=(create cluster --name "$KIND_CLUSTER_NAME" --kubeconfig "$scratch/kubeconfig" --wait 5m)
if [[ -n "${KIND_NODE_IMAGE:-}" ]]; then
    args+=(--image "$KIND_NODE_IMAGE")
fi
kind "${args[@]}" >&2
kind get kubeconfig --name "$KIND_CLUSTER_NAME"
