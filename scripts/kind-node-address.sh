#!/usr/bin/env bash
# Prints the address of kind cluster $KIND_CLUSTER_NAME's control-plane node on the "kind" Docker
# network: where the other kind clusters reach its API server (port 6443) and its east-west gateway.
# 127.0.0.1 would not do: from inside another cluster's pod it is that pod itself.
set -euo pipefail
: "${KIND_CLUSTER_NAME:?}"
address=$(docker inspect --format '{{with index .NetworkSettings.Networks "kind"}}{{.IPAddress}}{{end}}' "${KIND_CLUSTER_NAME}-control-plane")
if [[ -z "$address" ]]; then
    echo "kind cluster $KIND_CLUSTER_NAME: its control-plane container has no address on the kind network" >&2
    exit 1
fi
printf '%s' "$address"
