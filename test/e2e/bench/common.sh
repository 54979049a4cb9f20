# Shared by the bench contenders (procedure.sh, floor.sh); expects $work and $n to be set.

# The admin kubeconfig of cluster <k>.
kc() { echo "$work/cluster$1/admin.kubeconfig"; }

# A root CA and an intermediate per cluster in <dir>, by the Makefile Istio ships (the guide's step).
make_istio_certs() { # <dir>
    local k
    mkdir -p "$1"
    (
        cd "$1"
        make -f "$ISTIO_MODULE_DIR/tools/certs/Makefile.selfsigned.mk" root-ca
        for ((k = 1; k <= n; k++)); do
            make -f "$ISTIO_MODULE_DIR/tools/certs/Makefile.selfsigned.mk" "cluster$k-cacerts"
        done
    )
}
