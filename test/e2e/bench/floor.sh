#!/usr/bin/env bash
# The benchmark's "floor" contender: the objects of procedure.sh, rendered beforehand, put into
# cluster1 .. cluster<n> under <work> with as few round trips as their dependencies allow, all clusters
# at once. What it cannot skip:
#   - the cross-network Gateway is a custom resource, so it waits until the API server serves its CRD
#     (`kubectl wait --for condition=established`), which the same apply creates;
#   - a remote secret holds a token of the other cluster's reader service account, which only that
#     cluster's token controller writes once the account and its token Secret exist.
# So each cluster gets two server-side applies: everything but the Gateway and the remote secrets; then,
# when every cluster's CRDs are served and reader token filled in, the Gateway and its remote secrets.
# It makes no Helm release records (helm template, not helm install).
#   floor.sh render <work> <n>   renders the manifests and certificates into <work>/floor (not timed)
#   floor.sh up <work> <n>
#   floor.sh down <work> <n>     one `kubectl delete` per cluster, all at once
# Needs helm, kubectl, make and openssl on PATH, and ISTIO_CHARTS_DIR and ISTIO_MODULE_DIR.
set -euo pipefail
(($# == 3)) || { echo "usage: $0 render|up|down <work> <n>" >&2; exit 2; }
action=$1 work=$2 n=$3
dir="$work/floor"
source "$(dirname "$0")/common.sh"
READER_TOKEN=istio-reader-service-account-istio-remote-secret-token

# Runs "$@" once per cluster, each in the background, with the cluster's number as the last argument;
# waits for all and fails if any failed.
each_cluster() {
    local k status=0 pids=()
    for ((k = 1; k <= n; k++)); do
        "$@" "$k" &
        pids+=($!)
    done
    for k in "${pids[@]}"; do
        wait "$k" || status=1
    done
    return "$status"
}

render() {
    local k
    rm -rf "$dir"
    make_istio_certs "$dir/certs"
    for ((k = 1; k <= n; k++)); do
        {
            cat <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
  labels:
    topology.istio.io/network: network$k
---
YAML
            kubectl create secret generic cacerts -n istio-system --dry-run=client -o yaml \
                --from-file="$dir/certs/cluster$k/ca-cert.pem" --from-file="$dir/certs/cluster$k/ca-key.pem" \
                --from-file="$dir/certs/cluster$k/root-cert.pem" --from-file="$dir/certs/cluster$k/cert-chain.pem"
            helm template istio-base "$ISTIO_CHARTS_DIR/base" -n istio-system
            helm template istiod "$ISTIO_CHARTS_DIR/istiod" -n istio-system \
                --set global.meshID=mesh1 --set "global.multiCluster.clusterName=cluster$k" --set "global.network=network$k"
            helm template istio-eastwestgateway "$ISTIO_CHARTS_DIR/gateway" -n istio-system \
                --set name=istio-eastwestgateway --set "networkGateway=network$k"
            # What `istioctl create-remote-secret` creates in the cluster it reads.
            cat <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  name: $READER_TOKEN
  namespace: istio-system
  annotations:
    kubernetes.io/service-account.name: istio-reader-service-account
type: kubernetes.io/service-account-token
YAML
        } >"$dir/cluster$k.yaml"
        # The remote secret istioctl makes from this cluster, but for the token (TOKEN).
        cat >"$dir/remote-secret-cluster$k.yaml" <<YAML
---
apiVersion: v1
kind: Secret
metadata:
  annotations:
    networking.istio.io/cluster: cluster$k
  labels:
    istio/multiCluster: "true"
  name: istio-remote-secret-cluster$k
  namespace: istio-system
stringData:
  cluster$k: |
    apiVersion: v1
    clusters:
    - cluster:
        certificate-authority-data: $(sed -n 's/^ *certificate-authority-data: //p' "$(kc "$k")")
        server: $(sed -n 's/^ *server: //p' "$(kc "$k")")
      name: cluster$k
    contexts:
    - context:
        cluster: cluster$k
        user: cluster$k
      name: cluster$k
    current-context: cluster$k
    kind: Config
    users:
    - name: cluster$k
      user:
        token: TOKEN
YAML
    done
}

first_apply() { # <k>
    kubectl --kubeconfig "$(kc "$1")" apply --server-side -n istio-system -f "$dir/cluster$1.yaml"
    kubectl --kubeconfig "$(kc "$1")" wait --for condition=established crd/gateways.networking.istio.io
    kubectl --kubeconfig "$(kc "$1")" wait -n istio-system --for=jsonpath='{.data.token}' "secret/$READER_TOKEN" \
        -o jsonpath='{.data.token}' | base64 -d >"$dir/token-cluster$1"
}

second_apply() { # <k>
    local i
    {
        cat "$ISTIO_MODULE_DIR/samples/multicluster/expose-services.yaml"
        for ((i = 1; i <= n; i++)); do
            ((i == $1)) || sed "s/TOKEN/$(<"$dir/token-cluster$i")/" "$dir/remote-secret-cluster$i.yaml"
        done
    } | kubectl --kubeconfig "$(kc "$1")" apply --server-side -n istio-system -f -
}

delete() { # <k>
    kubectl --kubeconfig "$(kc "$1")" delete --ignore-not-found -n istio-system -f "$dir/cluster$1.yaml"
}

case "$action" in
render) render ;;
up)
    each_cluster first_apply
    each_cluster second_apply
    ;;
down)
    each_cluster delete
    rm -f "$dir"/token-*
    ;;
*) echo "usage: $0 render|up|down <work> <n>" >&2; exit 2 ;;
esac
