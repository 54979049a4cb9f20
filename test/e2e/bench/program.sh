#!/usr/bin/env bash
# The benchmark's "program" contender: this project's Pulumi program, as a user runs it, on the stack
# `bench` of the scratch project <work>/project (test/e2e/lib.sh: e2e_link_project, e2e_pulumi_env).
#   program.sh init <work> <n> <test app: true|false>
#       writes the stack config (cluster1 .. cluster<n> under <work> on network1 .. network<n>, mesh ID
#       mesh1, the official charts from ISTIO_CHARTS_DIR, no traffic verification) and creates the stack
#   program.sh up <work> <n> [event log]   pulumi up, writing Pulumi's event log if a path is given
#   program.sh preview <work> <n>          pulumi preview that must find no change
#   program.sh preview-no-refresh <work> <n>  the same without the refresh Pulumi.yaml asks for (its cost)
#   program.sh preview-without-pulumi-log <work> <n>
#                                          the no-change preview with the CLI's own debug log turned off
#   program.sh diff <work> <n>             pulumi preview --diff of the stack with meshId mesh2 instead
#   program.sh invalid-config <work> <n>   pulumi preview of the stack with an invalid meshId: must stop
#                                          with the validation message (how long a user waits for it)
#   program.sh down <work> <n>             pulumi destroy
set -euo pipefail
(($# >= 3)) || { echo "usage: $0 init|up|preview|preview-no-refresh|preview-without-pulumi-log|diff|invalid-config|down <work> <n> ..." >&2; exit 2; }
action=$1 work=$2 n=$3
project="$work/project"
stack_file="$project/Pulumi.bench.yaml"
# Each pulumi command of the program as the npm scripts run it (scripts/run-pulumi.sh), with
# $BENCH_PULUMI_ENV, environment settings such as "PULUMI_SKIP_CHECKPOINTS=false" (the CLI's default
# instead of the scripts').
run_pulumi=$(cd "$(dirname "$0")/../../../scripts" && pwd)/run-pulumi.sh
pulumi_bench() { in_memory_limit env ${BENCH_PULUMI_ENV:-} bash "$run_pulumi" "$@" --stack bench --cwd "$project" --non-interactive; }

# $BENCH_MEMORY_LIMIT (bytes, or with a K, M or G suffix): each pulumi command of the program runs in a
# memory cgroup of that limit, as on a CI runner or in a container of that size, so that the kernel says
# whether it fits: a command that needs more is killed by the OOM killer and fails. The page cache is
# dropped first, so that the binaries' pages are read and charged again, as on a fresh runner. The
# cgroup's peak charge (page cache included, reclaimed under the limit) and its OOM kills are appended
# to <work>/memory-limit.tsv: action with $BENCH_PULUMI_ENV, peak bytes, OOM kills, exit status. Needs
# root and cgroup v1 or v2.
in_memory_limit() { # <command...>
    [[ -n ${BENCH_MEMORY_LIMIT:-} ]] || { "$@"; return; }
    local cgroup status=0 peak kills
    sync && echo 3 >/proc/sys/vm/drop_caches
    if [[ -d /sys/fs/cgroup/memory ]]; then # v1
        cgroup=/sys/fs/cgroup/memory/istio-mc-bench-$$
        mkdir "$cgroup" && echo "$BENCH_MEMORY_LIMIT" >"$cgroup/memory.limit_in_bytes"
    else
        cgroup=/sys/fs/cgroup/istio-mc-bench-$$
        mkdir "$cgroup" && echo "$BENCH_MEMORY_LIMIT" >"$cgroup/memory.max"
    fi
    (echo "$BASHPID" >"$cgroup/cgroup.procs" && exec "$@") || status=$?
    if [[ -f $cgroup/memory.max_usage_in_bytes ]]; then
        peak=$(<"$cgroup/memory.max_usage_in_bytes") kills=$(sed -n 's/^oom_kill //p' "$cgroup/memory.oom_control")
    else
        peak=$(<"$cgroup/memory.peak") kills=$(sed -n 's/^oom_kill //p' "$cgroup/memory.events")
    fi
    printf '%s\t%s\t%s\t%s\n' "$action${BENCH_PULUMI_ENV:+ ($BENCH_PULUMI_ENV)}" "$peak" "${kills:-0}" "$status" >>"$work/memory-limit.tsv"
    # The plugins may outlive the CLI by a moment; the cgroup can go once they have.
    for _ in {1..50}; do rmdir "$cgroup" 2>/dev/null && break; sleep 0.1; done
    return "$status"
}
# The CLI (3.252 and later; 3.248 only when asked) writes a debug log of every RPC, payloads included, to
# $PULUMI_HOME/logs, and has no setting to stop it; it does without when that path cannot be made a
# directory. Only the bench's own PULUMI_HOME (e2e_pulumi_env) is changed. $BENCH_PULUMI_LOG=off turns
# it off for every command: what that log costs.
pulumi_log_off() { rm -rf "$PULUMI_HOME/logs" && : >"$PULUMI_HOME/logs"; }
[[ ${BENCH_PULUMI_LOG:-on} == off ]] && pulumi_log_off

init() { # <test app>
    local k server
    {
        echo "config:"
        echo "  istio-multicluster:meshId: mesh1"
        echo "  istio-multicluster:clusters:"
        for ((k = 1; k <= n; k++)); do
            # The loopback API servers are set explicitly: the program refuses to take them from the kubeconfigs.
            server=$(sed -n 's/^ *server: //p' "$work/cluster$k/admin.kubeconfig")
            echo "    - { name: cluster$k, network: network$k, kubeconfig: $work/cluster$k/admin.kubeconfig, apiServer: $server }"
        done
        echo "  istio-multicluster:istio: { version: \"$(sed -n 's/^version: //p' "$ISTIO_CHARTS_DIR/base/Chart.yaml")\", chartRepo: $ISTIO_CHARTS_DIR }"
        echo "  istio-multicluster:workloads: { awaitReady: false }"
        echo "  istio-multicluster:testApp: { enabled: $1 }"
        echo "  istio-multicluster:verify: { enabled: false }"
    } >"$stack_file"
    pulumi stack init bench --cwd "$project" --non-interactive
}

case "$action" in
init) (($# == 4)) || { echo "usage: $0 init <work> <n> true|false" >&2; exit 2; }; init "$4" ;;
up)
    # --event-log is one of the flags Pulumi shows only with PULUMI_DEBUG_COMMANDS.
    PULUMI_DEBUG_COMMANDS=true pulumi_bench up --yes ${4:+--event-log "$4"}
    ;;
preview) pulumi_bench preview --expect-no-changes ;;
preview-no-refresh) pulumi_bench preview --expect-no-changes --refresh=false ;;
preview-without-pulumi-log)
    # For this one preview, unless $BENCH_PULUMI_LOG turned it off for all.
    if [[ ${BENCH_PULUMI_LOG:-on} != off ]]; then
        pulumi_log_off
        trap 'rm -f "$PULUMI_HOME/logs"' EXIT
    fi
    pulumi_bench preview --expect-no-changes
    ;;
diff)
    # A one-key change, from a copy of the stack file so that the stack itself keeps mesh1.
    sed 's/^\(  istio-multicluster:meshId:\) mesh1$/\1 mesh2/' "$stack_file" >"$work/Pulumi.bench-mesh2.yaml"
    pulumi_bench preview --diff --config-file "$work/Pulumi.bench-mesh2.yaml"
    ;;
invalid-config)
    sed 's/^\(  istio-multicluster:meshId:\) mesh1$/\1 Mesh-1/' "$stack_file" >"$work/Pulumi.bench-invalid.yaml"
    if pulumi_bench preview --config-file "$work/Pulumi.bench-invalid.yaml" >"$work/invalid-config.out" 2>&1; then
        echo "pulumi preview accepted meshId Mesh-1" >&2
        exit 1
    fi
    grep -q 'meshId: got "Mesh-1"' "$work/invalid-config.out" || { cat "$work/invalid-config.out" >&2; exit 1; }
    ;;
down) pulumi_bench destroy --yes ;;
*) echo "usage: $0 init|up|preview|preview-no-refresh|preview-without-pulumi-log|diff|invalid-config|down <work> <n> ..." >&2; exit 2 ;;
esac
