#!/usr/bin/env bash
# A Kubernetes control plane on loopback for the end-to-end test: etcd, kube-apiserver with RBAC and
# its own CA and service-account signing key, and kube-controller-manager (which fills in
# service-account token Secrets, finalizes deleted namespaces, and turns pod status into EndpointSlices).
# No kubelet: pods never run. What stands in for one (test/e2e/hollowKubelet.ts) writes node and pod
# status. So that the API server reaches a webhook at the pod IP the harness reports (where the test
# runs istiod), it routes to endpoints rather than to a Service's cluster IP (there is no kube-proxy)
# and reaches the pod network through pod-network-proxy.mjs, as through Konnectivity; the node
# lifecycle controller, which would mark a node without kubelet heartbeats NotReady and its pods
# unready, is off.
#
#   controlplane.sh start <name> <dir> <apiserver-port> <etcd-client-port> <etcd-peer-port>
#       writes <dir>/admin.kubeconfig (cluster-admin) and waits until the API server is ready
#   controlplane.sh start <name> <dir> <apiserver-port> <etcd-client-port>
#       the same without an etcd of its own: the API server keeps its objects under the key prefix
#       /<name> of the etcd already at <etcd-client-port>, which other API servers may share
#   controlplane.sh etcd <dir> <client-port> <peer-port>
#       starts an etcd alone in <dir>, to be shared; `stop <dir>` stops it
#   controlplane.sh stop <dir>
#       stops the processes started in <dir>; safe to repeat and after a failed start
#   controlplane.sh stop-apiserver <dir> / start-apiserver <dir>
#       stops only the API server (the cluster becomes unreachable) / starts it again
#
# CONTROLPLANE_CONTROLLERS, if set, lists the controllers kube-controller-manager runs (its --controllers),
# instead of all but the node lifecycle controller. CONTROLPLANE_POD_NETWORK=false starts no
# pod-network proxy: for clusters where no pod runs, whose webhooks the API server never reaches.
#
# The binaries come from build-kube.sh ($KUBE_BIN_DIR, or the PATH).
set -euo pipefail

bin() { if [[ -n "${KUBE_BIN_DIR:-}" ]]; then echo "$KUBE_BIN_DIR/$1"; else command -v "$1"; fi; }
PROCESSES=(kube-controller-manager kube-apiserver pod-network-proxy etcd)

# A certificate signed by the control plane's CA: <file stem> <subject> [subjectAltName]
issue() {
    local dir=$1 stem=$2 subject=$3 san=${4:-}
    openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$stem.key" -subj "$subject" -out "$dir/$stem.csr" 2>/dev/null
    local ext="$dir/$stem.ext"
    {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ -n $san ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
    } >"$ext"
    openssl x509 -req -in "$dir/$stem.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 -extfile "$ext" -out "$dir/$stem.crt" 2>/dev/null
    rm -f "$dir/$stem.csr" "$ext"
}

kubeconfig() { # <dir> <user stem> <port> <output>
    local dir=$1 user=$2 port=$3
    cat >"$4" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: $(basename "$dir")
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 <"$dir/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$dir/$user.crt")
    client-key-data: $(base64 -w0 <"$dir/$user.key")
contexts:
- name: $(basename "$dir")
  context:
    cluster: $(basename "$dir")
    user: $user
current-context: $(basename "$dir")
YAML
    chmod 600 "$4"
}

# An etcd in <dir>, its data in <dir>/etcd; returns at once (the API server waits for it).
start_etcd() { # <dir> <client port> <peer port>
    local dir=$1 name
    name=$(basename "$dir")
    mkdir -p "$dir"
    "$(bin etcd)" --name "$name" --data-dir "$dir/etcd" --unsafe-no-fsync \
        --listen-client-urls "http://127.0.0.1:$2" --advertise-client-urls "http://127.0.0.1:$2" \
        --listen-peer-urls "http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
        --initial-cluster "$name=http://127.0.0.1:$3" >"$dir/etcd.log" 2>&1 &
    echo $! >"$dir/etcd.pid"
}

start() {
    local name=$1 dir=$2 port=$3 etcd_port=$4 peer_port=${5:-}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 -subj "/CN=$name-ca" 2>/dev/null
    issue "$dir" apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    issue "$dir" admin "/O=system:masters/CN=admin"
    issue "$dir" controller-manager "/CN=system:kube-controller-manager"
    openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
    kubeconfig "$dir" admin "$port" "$dir/admin.kubeconfig"
    kubeconfig "$dir" controller-manager "$port" "$dir/controller-manager.kubeconfig"

    # Its own etcd under Kubernetes' default key prefix, or a shared one under a prefix of its own.
    local prefix=/$name
    if [[ -n $peer_port ]]; then
        start_etcd "$dir" "$etcd_port" "$peer_port"
        prefix=/registry
    fi

    # Without the proxy, the API server's calls to the pod network fail at once, as to a pod that is gone.
    if [[ ${CONTROLPLANE_POD_NETWORK:-true} == true ]]; then
        node "$(dirname "$0")/pod-network-proxy.mjs" "$dir/pod-network.sock" >"$dir/pod-network-proxy.log" 2>&1 &
        echo $! >"$dir/pod-network-proxy.pid"
    fi
    cat >"$dir/egress-selector.yaml" <<YAML
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $dir/pod-network.sock
YAML

    # Kept so that one API server can be stopped and started again (the fault suite's lost cluster).
    cat >"$dir/kube-apiserver.args" <<ARGS
--etcd-servers=http://127.0.0.1:$etcd_port
--etcd-prefix=$prefix
--bind-address=127.0.0.1
--advertise-address=127.0.0.1
--secure-port=$port
--cert-dir=$dir
--tls-cert-file=$dir/apiserver.crt
--tls-private-key-file=$dir/apiserver.key
--client-ca-file=$dir/ca.crt
--authorization-mode=RBAC
--service-cluster-ip-range=10.96.0.0/16
--endpoint-reconciler-type=none
--service-account-issuer=https://kubernetes.default.svc.cluster.local
--service-account-key-file=$dir/sa.pub
--service-account-signing-key-file=$dir/sa.key
--enable-aggregator-routing=true
--egress-selector-config-file=$dir/egress-selector.yaml
ARGS
    echo "$port" >"$dir/apiserver.port"
    start_apiserver "$dir" "$name"

    "$(bin kube-controller-manager)" --kubeconfig "$dir/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
        --service-account-private-key-file "$dir/sa.key" --root-ca-file "$dir/ca.crt" \
        --use-service-account-credentials --controllers "${CONTROLPLANE_CONTROLLERS:-*,-node-lifecycle-controller}" \
        >"$dir/kube-controller-manager.log" 2>&1 &
    echo $! >"$dir/kube-controller-manager.pid"
    # Ready once the token controller works: the default service account of kube-system exists.
    if ! wait_until 60 kubectl --kubeconfig "$dir/admin.kubeconfig" get serviceaccount default -n kube-system; then
        echo "controlplane $name: kube-controller-manager not working after 60 s; last log lines:" >&2
        tail -n 20 "$dir/kube-controller-manager.log" >&2
        return 1
    fi
    echo "controlplane $name: ready at https://127.0.0.1:$port ($dir/admin.kubeconfig)" >&2
}

# Starts kube-apiserver with the arguments start() saved in <dir> and waits until it is ready.
start_apiserver() { # <dir> <name>
    local dir=$1 name=$2 port args
    port=$(<"$dir/apiserver.port")
    mapfile -t args <"$dir/kube-apiserver.args"
    "$(bin kube-apiserver)" "${args[@]}" >>"$dir/kube-apiserver.log" 2>&1 &
    echo $! >"$dir/kube-apiserver.pid"
    if ! wait_until 90 curl -sf --cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key" "https://127.0.0.1:$port/readyz"; then
        echo "controlplane $name: kube-apiserver not ready after 90 s; last log lines:" >&2
        tail -n 20 "$dir/kube-apiserver.log" >&2
        [[ ! -f $dir/etcd.log ]] || tail -n 20 "$dir/etcd.log" >&2 # its own etcd's
        return 1
    fi
}

# Stops only the API server: clients get "connection refused"; etcd and the controllers keep running.
stop_apiserver() { # <dir>
    local dir=$1 pid
    pid=$(<"$dir/kube-apiserver.pid")
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 15 bash -c "! kill -0 $pid"
}

wait_until() { # <seconds> <command...>
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 1
    done
}

stop() {
    local dir=$1 process pid
    for process in "${PROCESSES[@]}"; do
        [[ -f "$dir/$process.pid" ]] || continue
        pid=$(<"$dir/$process.pid")
        if kill -TERM "$pid" 2>/dev/null; then
            wait_until 15 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/$process.pid"
    done
}

case "${1:-}" in
start) shift; (($# == 4 || $# == 5)) || { echo "usage: $0 start <name> <dir> <apiserver-port> <etcd-client-port> [<etcd-peer-port>]" >&2; exit 2; }; start "$@" ;;
etcd) shift; (($# == 3)) || { echo "usage: $0 etcd <dir> <client-port> <peer-port>" >&2; exit 2; }; start_etcd "$@" ;;
stop) shift; (($# == 1)) || { echo "usage: $0 stop <dir>" >&2; exit 2; }; stop "$@" ;;
stop-apiserver) shift; (($# == 1)) || { echo "usage: $0 stop-apiserver <dir>" >&2; exit 2; }; stop_apiserver "$@" ;;
start-apiserver) shift; (($# == 1)) || { echo "usage: $0 start-apiserver <dir>" >&2; exit 2; }; start_apiserver "$1" "$(basename "$1")" ;;
*) echo "usage: $0 start|etcd|stop|stop-apiserver|start-apiserver ..." >&2; exit 2 ;;
esac
