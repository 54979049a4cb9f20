#!/usr/bin/env bash
# The benchmark's "procedure" contender: what Istio's guides have a user type for a multi-primary,
# multi-network mesh with Helm, one cluster after the other, against cluster1 .. cluster<n> under <work>.
#   procedure.sh up <work> <n>     the install
#   procedure.sh down <work> <n>   the guide's Helm cleanup, with its optional removal of the CRDs
# Sources, as of istio.io's content/en/docs (the command lines below follow them; `--kubeconfig` stands
# for the guides' `--context`/`--kube-context`, and the local chart directories for `istio/<chart>`):
#   tasks/security/cert-management/plugin-ca-cert/  certificates (tools/certs/Makefile.selfsigned.mk),
#                                                   namespace and `cacerts` ("Plug in certificates and key")
#   setup/install/multicluster/multi-primary_multi-network/  "Set the default network", the `base` and
#                                                   `istiod` installs (Helm tab), the east-west gateway
#                                                   (Helm tab), "Expose services", "Enable Endpoint
#                                                   Discovery", "Cleanup" (Helm tab)
# Needs helm, istioctl, kubectl, make and openssl on PATH, and ISTIO_CHARTS_DIR and ISTIO_MODULE_DIR
# (test/e2e/toolchain/build-istio.sh). Nothing waits for pods: these API servers run none.
set -euo pipefail
(($# == 3)) || { echo "usage: $0 up|down <work> <n>" >&2; exit 2; }
action=$1 work=$2 n=$3
certs="$work/procedure-certs"
source "$(dirname "$0")/common.sh"

up() {
    local k i j
    # Plug in CA certificates: a root, then an intermediate per cluster, by the Makefile Istio ships.
    make_istio_certs "$certs"
    for ((k = 1; k <= n; k++)); do
        kubectl --kubeconfig "$(kc "$k")" create namespace istio-system
        kubectl --kubeconfig "$(kc "$k")" create secret generic cacerts -n istio-system \
            --from-file="$certs/cluster$k/ca-cert.pem" --from-file="$certs/cluster$k/ca-key.pem" \
            --from-file="$certs/cluster$k/root-cert.pem" --from-file="$certs/cluster$k/cert-chain.pem"
        kubectl --kubeconfig "$(kc "$k")" label namespace istio-system "topology.istio.io/network=network$k"
        helm install istio-base "$ISTIO_CHARTS_DIR/base" -n istio-system --kubeconfig "$(kc "$k")"
        helm install istiod "$ISTIO_CHARTS_DIR/istiod" -n istio-system --kubeconfig "$(kc "$k")" \
            --set global.meshID=mesh1 --set "global.multiCluster.clusterName=cluster$k" --set "global.network=network$k"
        helm install istio-eastwestgateway "$ISTIO_CHARTS_DIR/gateway" -n istio-system --kubeconfig "$(kc "$k")" \
            --set name=istio-eastwestgateway --set "networkGateway=network$k"
        kubectl --kubeconfig "$(kc "$k")" apply -n istio-system -f "$ISTIO_MODULE_DIR/samples/multicluster/expose-services.yaml"
    done
    # Every cluster's istiod gets a remote secret for every other cluster. The API server address in it
    # is the kubeconfig's, the same loopback address the program is given as apiServer (istioctl warns).
    for ((i = 1; i <= n; i++)); do
        for ((j = 1; j <= n; j++)); do
            ((i == j)) && continue
            istioctl create-remote-secret --kubeconfig="$(kc "$i")" --name="cluster$i" |
                kubectl apply -f - --kubeconfig="$(kc "$j")"
        done
    done
}

down() {
    local k
    for ((k = 1; k <= n; k++)); do
        helm delete istiod -n istio-system --kubeconfig "$(kc "$k")"
        helm delete istio-eastwestgateway -n istio-system --kubeconfig "$(kc "$k")"
        helm delete istio-base -n istio-system --kubeconfig "$(kc "$k")"
        kubectl delete ns istio-system --kubeconfig "$(kc "$k")"
    done
    # The base chart keeps its CRDs on uninstall; the program deletes them, so the procedure does too.
    for ((k = 1; k <= n; k++)); do
        kubectl get crd -oname --kubeconfig "$(kc "$k")" | grep --color=never 'istio.io' | xargs kubectl delete --kubeconfig "$(kc "$k")"
    done
    rm -rf "$certs"
}

case "$action" in
up | down) "$action" ;;
*) echo "usage: $0 up|down <work> <n>" >&2; exit 2 ;;
esac
