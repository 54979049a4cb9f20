#!/usr/bin/env bash
# Benchmarks, printed as medians and ratios:
#   updown (default): median wall time of `pulumi up` and `pulumi destroy` of the stack against the
#                     loopback control planes (E2E_CLUSTER_COUNT of them, default 2), over $BENCH_RUNS
#                     runs (default 5).
#   sync:             seconds from the end of `pulumi up` until a real istiod started in each cluster
#                     reports every other cluster synced, median over $BENCH_RUNS runs.
#   traffic:          with the data plane of the e2e running (test/e2e/dataplane/): `pulumi up` without
#                     the traffic check and the seconds from its end until each cluster's curl pod is
#                     first answered by the other cluster, `pulumi up` with the check, `pulumi destroy`;
#                     medians over $BENCH_RUNS runs.
#   compare:          for each cluster count in $BENCH_CLUSTERS (default "2 3 4"), the program against
#                     the manual procedure of Istio's guides and against the floor (test/e2e/bench/),
#                     $BENCH_RUNS runs each in rotating order: set-up and teardown times and their
#                     ratios, the program's previews, its peak memory and where its `pulumi up` spends
#                     its time; then how its set-up and no-change preview grow with the cluster count.
#                     $BENCH_PULUMI_ENV (e.g. "PULUMI_SKIP_CHECKPOINTS=true") is set for the program's
#                     pulumi commands; BENCH_PULUMI_LOG=off turns the CLI's automatic debug log off for
#                     them (bench/program.sh).
#   credentials:      the program's renewal of the intermediates (their recorded end moved into the
#                     renewal window of 72-hour intermediates), its rotation of the reader tokens
#                     (remoteSecrets.tokenGeneration raised) and of the root (each phase of
#                     ca.rootRotation, then its end): wall time of each `pulumi up`, median over
#                     $BENCH_RUNS runs, without istiod (the e2e test times istiod's part).
#   upgrade:          the upgrades of test/e2e/upgrade.sh without istiod, from the older Istio to the
#                     pinned one (charts stamped with release versions, served from a Helm repository on
#                     loopback): each step's `pulumi up` (canary install, beside, move the tag, roll back,
#                     move and drop the older; in-place install and upgrade), median over $BENCH_RUNS runs.
#   controlplanes:    seconds until E2E_CLUSTER_COUNT control planes (E2E_CONTROL_PLANES, see
#                     test/e2e/lib.sh) are ready, one after the other, and their resident memory and CPU
#                     time by program; then checks that each API server serves its own objects only.
#   scale:            the program alone on E2E_CLUSTER_COUNT control planes: their start and usage, then
#                     $BENCH_RUNS runs of `pulumi up` (peak memory of the Pulumi processes), no-change
#                     preview with and without refresh, `preview --diff` and `pulumi destroy`; after the
#                     first `up`, the control planes' usage and the state's size by resource type and
#                     split between the ordered pairs' remote secrets and the rest. $BENCH_PULUMI_ENV and
#                     BENCH_PULUMI_LOG as for compare. BENCH_SETTINGS compares settings of the CLI on
#                     the same control planes, interleaved: each run goes through each of them in
#                     rotating order, e.g. "default|PULUMI_SKIP_CHECKPOINTS=true" ("default": none);
#                     medians per setting and their ratios to the first.
#                     For compare and scale, BENCH_MEMORY_LIMIT (e.g. 4G) runs each of the program's pulumi
#                     commands in a memory cgroup of that limit (bench/program.sh): does it fit?
#   e2e:              wall time of `npm run test:e2e` cold (empty caches, as for ci: what a fresh machine
#                     pays) and warm (caches kept), and their ratio.
#   ci:               `.ci/run` on a clean clone of the committed HEAD with empty npm, pip, Go and toolchain
#                     caches (what CI pays on a fresh machine), whole and by phase (install, `npm test`,
#                     `npm run test:e2e`, `npm run test:upgrade`); with BENCH_CI_CACHES=machine, the
#                     machine's own caches instead (what CI pays where it ran before).
#   sizes:            size of each binary the e2e toolchain builds (built first if not cached).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
mode=${1:-updown}
runs=${BENCH_RUNS:-5}

now() { date +%s.%N; }
# Empty npm, pip, Go and toolchain caches under <dir>, as on a fresh machine, for what runs after.
use_empty_caches() { # <dir>
    export ISTIO_MC_CACHE="$1/cache" GOCACHE="$1/go-build" GOMODCACHE="$1/go-mod" npm_config_cache="$1/npm" PIP_CACHE_DIR="$1/pip"
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# "median [min–max]" of the numbers on stdin.
spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f [%.1f–%.1f]", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'; }

# Resident memory and CPU time (since it started) of each control-plane process under $work, from the
# pid files controlplane.sh writes, summed by program, and of all of them.
control_plane_usage() {
    local pidfile pid
    for pidfile in "$work"/cluster*/*.pid "$work"/etcd/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(<"$pidfile")
        # VmRSS in kB; utime and stime, in clock ticks, are the 14th and 15th fields of stat.
        echo "$(basename "$pidfile" .pid) $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") $(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
    done | awk -v hz="$(getconf CLK_TCK)" '
        { kb[$1] += $2; ticks[$1] += $3; n[$1]++; all_kb += $2; all_ticks += $3 }
        END {
            for (p in kb) printf "  %-24s %2d x, %6.0f MB, %7.1f s CPU\n", p, n[p], kb[p] / 1024, ticks[p] / hz
            printf "  %-24s       %6.0f MB, %7.1f s CPU\n", "all", all_kb / 1024, all_ticks / hz
        }'
}

# Starts the control planes and a stack named bench with one cluster and network per control plane, on
# the official charts; with the test app unless $1 is false.
bench_stack() {
    e2e_setup istio-mc-bench
    work=$E2E_WORK project=$E2E_PROJECT n=${#E2E_CLUSTERS[@]}
    bash test/e2e/bench/program.sh init "$work" "$n" "${1:-true}" >&2
}
p() { pulumi "$@" --stack bench --cwd "$project" --non-interactive --yes >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }; }

# Under $BENCH_MEMORY_LIMIT (bench/program.sh): for each pulumi command of the program, the cgroup's
# peak charge as median [min–max] over the runs, and the OOM kills.
memory_limit_report() {
    [[ -n ${BENCH_MEMORY_LIMIT:-} ]] || return 0
    echo "each pulumi command of the program in a memory cgroup limited to $BENCH_MEMORY_LIMIT; peak charge (page cache included), MB:"
    local action
    cut -f1 "$work/memory-limit.tsv" | sort -u | while IFS= read -r action; do
        printf '  %-28s %s, OOM kills: %s\n' "$action" \
            "$(awk -F '\t' -v a="$action" '$1 == a { print $2 / 1e6 }' "$work/memory-limit.tsv" | spread)" \
            "$(awk -F '\t' -v a="$action" '$1 == a { k += $3 } END { print k + 0 }' "$work/memory-limit.tsv")"
    done
}

# One step of a contender of `compare` (test/e2e/bench/<contender>.sh <step> <work> <n>), timed into
# $results; its output goes to a log, shown if it fails.
compare_step() { # <contender> <step>
    local t0 t1
    t0=$(now)
    bash "test/e2e/bench/$1.sh" "$2" "$work" "$n" >"$work/$1-$2.log" 2>&1 || {
        tail -40 "$work/$1-$2.log" >&2
        log "run $run: $1 $2 failed"
        return 1
    }
    t1=$(now)
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$run" "$(elapsed "$t0" "$t1")" >>"$results"
}

# The program's `pulumi up`, timed like compare_step, watched by watchUp.js (memory, event log).
compare_program_up() {
    local t0 t1 pid watcher status=0
    t0=$(now)
    bash test/e2e/bench/program.sh up "$work" "$n" "$work/events-$run.jsonl" >"$work/program-up.log" 2>&1 &
    pid=$!
    node build/test/e2e/bench/watchUp.js "$pid" "$t0" "$work/events-$run.jsonl" "$work/watch-$run.json" &
    watcher=$!
    wait "$pid" || status=$?
    t1=$(now)
    wait "$watcher"
    if ((status != 0)); then
        tail -40 "$work/program-up.log" >&2
        log "run $run: program up failed"
        return 1
    fi
    printf 'program\tup\t%s\t%s\n' "$run" "$(elapsed "$t0" "$t1")" >>"$results"
}

# set-up, then (for the program) both previews, then teardown, then the check that nothing is left.
compare_contender() { # <contender>
    if [[ $1 == program ]]; then
        compare_program_up
        compare_step program preview
        compare_step program preview-no-refresh
        compare_step program preview-without-pulumi-log
        compare_step program diff
        compare_step program invalid-config
    else
        compare_step "$1" up
    fi
    compare_step "$1" down
    node build/test/e2e/bench/leftovers.js check "$work" "$n" || {
        log "run $run: $1 down left the API servers changed"
        return 1
    }
    log "run $run: $1 done"
}

# All runs for one cluster count (E2E_CLUSTER_COUNT), on control planes of their own; prints the report.
compare_clusters() {
    local contenders=(program procedure floor) c
    bench_stack false
    e2e_helm
    results="$work/results.tsv"
    bash test/e2e/bench/floor.sh render "$work" "$n" >"$work/floor-render.log" 2>&1 || { cat "$work/floor-render.log" >&2; return 1; }
    node build/test/e2e/bench/leftovers.js snapshot "$work" "$n"
    for ((run = 1; run <= runs; run++)); do
        for ((c = 0; c < ${#contenders[@]}; c++)); do
            compare_contender "${contenders[(run - 1 + c) % ${#contenders[@]}]}"
        done
    done
    node build/test/e2e/bench/report.js "$n" "$results" "$work"
    memory_limit_report
    sed "s/^/$n\t/" "$results" >>"$scaling"
}

# How the program's set-up and no-change preview grow with the cluster count: medians, and their ratio
# to the smallest count measured.
print_scaling() {
    local n step base_up base_preview up preview
    of() { awk -F '\t' -v n="$1" -v step="$2" '$1 == n && $2 == "program" && $3 == step { print $5 }' "$scaling" | median; }
    set -- $(cut -f1 "$scaling" | sort -nu)
    base_up=$(of "$1" up) base_preview=$(of "$1" preview)
    echo "program scaling (ratio to $1 clusters):"
    for n in "$@"; do
        up=$(of "$n" up) preview=$(of "$n" preview)
        awk -v n="$n" -v up="$up" -v pv="$preview" -v bu="$base_up" -v bp="$base_preview" \
            'BEGIN { printf "  %s clusters: pulumi up %.1f s (%.2fx), no-change preview %.1f s (%.2fx)\n", n, up, up / bu, pv, pv / bp }'
    done
}

case "$mode" in
updown)
    bench_stack
    ups=() downs=()
    for ((i = 1; i <= runs; i++)); do
        t0=$(now); p up; t1=$(now); p destroy; t2=$(now)
        ups+=("$(elapsed "$t0" "$t1")") downs+=("$(elapsed "$t1" "$t2")")
        log "run $i: up ${ups[-1]} s, destroy ${downs[-1]} s"
    done
    up_median=$(printf '%s\n' "${ups[@]}" | median)
    down_median=$(printf '%s\n' "${downs[@]}" | median)
    printf 'pulumi up (%d clusters):      median %.1f s over %d runs (%s)\n' "$n" "$up_median" "$runs" "${ups[*]}"
    printf 'pulumi destroy (%d clusters): median %.1f s over %d runs (%s)\n' "$n" "$down_median" "$runs" "${downs[*]}"
    ;;
sync)
    bench_stack
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    syncs=()
    for ((i = 1; i <= runs; i++)); do
        p up
        syncs+=("$(node build/test/e2e/measureSync.js "$work" "${E2E_CLUSTERS[@]}")")
        p destroy
        log "run $i: every istiod reported every peer synced ${syncs[-1]} s after pulumi up"
    done
    printf 'pulumi up to all peers synced (%d clusters, istiod started after up): median %.1f s over %d runs (%s)\n' \
        "$n" "$(printf '%s\n' "${syncs[@]}" | median)" "$runs" "${syncs[*]}"
    ;;
traffic)
    e2e_setup istio-mc-bench
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    node build/test/e2e/bench/traffic.js "$runs" | tee "$E2E_WORK/traffic.jsonl"
    node -e '
const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const range = (xs) => `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}]`;
console.log(`over ${runs.length} runs, seconds, median [min-max]:`);
console.log(`  pulumi up without the traffic check: ${range(runs.map((r) => r.upWithoutCheck))}`);
for (const direction of Object.keys(runs[0].firstAnswer)) {
    console.log(`  from its end to the first answer ${direction}: ${range(runs.map((r) => r.firstAnswer[direction]))}`);
}
console.log(`  pulumi up with the traffic check: ${range(runs.map((r) => r.upWithCheck))}`);
console.log(`  pulumi destroy: ${range(runs.map((r) => r.destroy))}`);
' "$E2E_WORK/traffic.jsonl"
    ;;
credentials)
    bench_stack false
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    stack_file="$project/Pulumi.bench.yaml"
    # Under `config:`, which need not be the file's last key once the stack exists (encryptionsalt).
    set_config() { sed -i "/istio-multicluster:$1:/d; /^config:/a\\  istio-multicluster:$1: $2" "$stack_file"; }
    set_ca() { set_config ca "$1"; }
    renewals=() rotations=() kubeconfigs=()
    declare -A root_steps=()
    root_phases=(prepare trust-both sign-new new-only)
    for cluster in "${E2E_CLUSTERS[@]}"; do kubeconfigs+=("$work/$cluster/admin.kubeconfig"); done
    for ((i = 1; i <= runs; i++)); do
        set_ca "{ validityHours: 72 }"
        p up
        node build/test/e2e/bench/credentials.js expire "$project" bench 30 "${kubeconfigs[@]}"
        t0=$(now); p up; t1=$(now)
        grep -Eq "\+-$n replaced" "$work/last.log" || { cat "$work/last.log" >&2; log "run $i: the renewal replaced no intermediate"; exit 1; }
        set_config remoteSecrets "{ tokenGeneration: $i }"
        t2=$(now); p up; t3=$(now)
        grep -Eq "\+-$((n * (n - 1))) replaced" "$work/last.log" || { cat "$work/last.log" >&2; log "run $i: the rotation replaced no token"; exit 1; }
        # The root's rotation, each phase a `pulumi up` (docs/credentials.md), without the wait between
        # phases that workloads need (waitHours 0), then its end: the old root and its intermediates deleted.
        for step in "${root_phases[@]}" end; do
            if [ "$step" = end ]; then set_ca "{ validityHours: 72, rootGeneration: 1 }"; else set_ca "{ validityHours: 72, rootRotation: { phase: $step, waitHours: 0 } }"; fi
            t4=$(now); p up; t5=$(now)
            grep -Eq "[0-9]+ (updated|created|deleted|replaced)" "$work/last.log" || { cat "$work/last.log" >&2; log "run $i: root rotation $step changed nothing"; exit 1; }
            root_steps[$step]+="$(elapsed "$t4" "$t5") "
        done
        p destroy
        renewals+=("$(elapsed "$t0" "$t1")") rotations+=("$(elapsed "$t2" "$t3")")
        log "run $i: renewal ${renewals[-1]} s, rotation ${rotations[-1]} s"
    done
    printf 'renewal of %d intermediates (pulumi up): median %.1f s over %d runs (%s)\n' "$n" "$(printf '%s\n' "${renewals[@]}" | median)" "$runs" "${renewals[*]}"
    printf 'rotation of %d reader tokens (pulumi up): median %.1f s over %d runs (%s)\n' "$((n * (n - 1)))" "$(printf '%s\n' "${rotations[@]}" | median)" "$runs" "${rotations[*]}"
    for step in "${root_phases[@]}" end; do
        printf 'root rotation, %s (pulumi up): median %.1f s over %d runs (%s)\n' "$step" "$(printf '%s\n' ${root_steps[$step]} | median)" "$runs" "${root_steps[$step]% }"
    done
    ;;
upgrade)
    bench_stack false
    e2e_istio_releases
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    node build/test/e2e/bench/helmRepository.js "$ISTIO_HELM_REPOSITORY_DIR" >"$work/repository.url" &
    until [[ -s $work/repository.url ]]; do sleep 0.2; done
    url=$(<"$work/repository.url")
    stack_file="$project/Pulumi.bench.yaml"
    set_istio() { sed -i "/istio-multicluster:istio:/d; /^config:/a\\  istio-multicluster:istio: { chartRepo: \"$url\", $1 }" "$stack_file"; }
    canary() { set_istio "upgradeStrategy: RevisionBased, revisions: [$1], defaultRevision: $2"; }
    r1="{ name: r1, version: \"$ISTIO_OLDER_RELEASE\" }" r2="{ name: r2, version: \"$ISTIO_NEWER_RELEASE\" }"
    declare -A upgrade_steps=()
    # One `pulumi up` of the step, which must change something.
    upgrade_step() { # <name>
        local t0 t1
        t0=$(now); p up; t1=$(now)
        grep -Eq "[0-9]+ (updated|created|deleted|replaced)" "$work/last.log" || { cat "$work/last.log" >&2; log "run $i: $1 changed nothing"; exit 1; }
        upgrade_steps[$1]+="$(elapsed "$t0" "$t1") "
    }
    names=(canary-install canary-beside canary-move canary-rollback canary-move-and-drop in-place-install in-place-upgrade)
    for ((i = 1; i <= runs; i++)); do
        canary "$r1" r1 && upgrade_step canary-install
        canary "$r1, $r2" r1 && upgrade_step canary-beside
        canary "$r1, $r2" r2 && upgrade_step canary-move
        canary "$r1, $r2" r1 && upgrade_step canary-rollback
        canary "$r2" r2 && upgrade_step canary-move-and-drop
        p destroy
        set_istio "version: \"$ISTIO_OLDER_RELEASE\"" && upgrade_step in-place-install
        set_istio "version: \"$ISTIO_NEWER_RELEASE\"" && upgrade_step in-place-upgrade
        p destroy
        log "run $i done"
    done
    echo "upgrade steps from $ISTIO_OLDER_RELEASE to $ISTIO_NEWER_RELEASE at $n clusters, pulumi up, seconds, median [min–max] over $runs runs:"
    for name in "${names[@]}"; do
        printf '  %-22s %s\n' "$name" "$(printf '%s\n' ${upgrade_steps[$name]} | spread)"
    done
    ;;
compare)
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    scaling=$(mktemp "${TMPDIR:-/tmp}/istio-mc-scaling.XXXXXX")
    trap 'rm -f "$scaling"' EXIT
    [[ -z ${BENCH_PULUMI_ENV:-} ]] || echo "every pulumi command of the program runs with: $BENCH_PULUMI_ENV"
    [[ ${BENCH_PULUMI_LOG:-on} == on ]] || echo "the CLI's automatic debug log is off for every pulumi command of the program"
    for n in ${BENCH_CLUSTERS:-2 3 4}; do
        # A subshell per cluster count: its control planes and work directory go when it ends.
        (E2E_CLUSTER_COUNT=$n compare_clusters)
    done
    print_scaling
    ;;
controlplanes)
    e2e_setup istio-mc-bench
    work=$E2E_WORK
    echo "${#E2E_CLUSTERS[@]} control planes (E2E_CONTROL_PLANES=${E2E_CONTROL_PLANES:-separate}) ready in $E2E_CLUSTERS_READY_SECONDS s, one after the other; then:"
    control_plane_usage
    # Each serves its own objects: a namespace created in every cluster is listed by that cluster only.
    for cluster in "${E2E_CLUSTERS[@]}"; do
        kubectl --kubeconfig "$work/$cluster/admin.kubeconfig" create namespace "probe-$cluster" >/dev/null
    done
    for cluster in "${E2E_CLUSTERS[@]}"; do
        probes=$(kubectl --kubeconfig "$work/$cluster/admin.kubeconfig" get namespaces -o name | grep '/probe-' | tr '\n' ' ')
        [[ $probes == "namespace/probe-$cluster " ]] || { log "$cluster lists the namespaces '$probes'"; exit 1; }
    done
    echo "each API server lists its own namespace and no other's"
    ;;
scale)
    rm -rf build && npx tsc -p tsconfig.test.json --noCheck false
    bench_stack false
    results="$work/results.tsv"
    # The settings compared, "default" for none; each run goes through all of them, in rotating order.
    IFS='|' read -r -a settings <<<"${BENCH_SETTINGS:-${BENCH_PULUMI_ENV:-default}}"
    [[ ${BENCH_PULUMI_LOG:-on} == on ]] || echo "the CLI's automatic debug log is off for every pulumi command of the program"
    echo "$n control planes (E2E_CONTROL_PLANES=${E2E_CONTROL_PLANES:-separate}) ready in $E2E_CLUSTERS_READY_SECONDS s, one after the other; then:"
    control_plane_usage
    for ((r = 1; r <= runs; r++)); do
        for ((c = 0; c < ${#settings[@]}; c++)); do
            s=$(((r - 1 + c) % ${#settings[@]}))
            # The label of this run of this setting in $results and in the watch and event files' names.
            run="$r@$s"
            if [[ ${settings[s]} == default ]]; then unset BENCH_PULUMI_ENV; else export BENCH_PULUMI_ENV=${settings[s]}; fi
            compare_program_up
            if [[ ! -f $work/state.json ]]; then
                echo "the control planes after the first pulumi up:"
                control_plane_usage
                pulumi stack export --stack bench --cwd "$project" >"$work/state.json"
                node build/test/e2e/bench/stateSize.js "$work/state.json" "$n"
                echo "the backend's state file: $(($(stat -c %s "$work"/state/.pulumi/stacks/*/bench.json) / 1024)) KB"
            fi
            for step in preview preview-no-refresh diff down; do
                compare_step program "$step"
            done
        done
        log "run $r done"
    done
    # A step's seconds under setting $1, one line per run.
    seconds_of() { awk -F '\t' -v step="$2" -v s="$1" '$2 == step && $3 ~ "@" s "$" { print $4 }' "$results"; }
    # A field of each run's watch-<run>.json (watchUp.js) under setting $1, in MB, one line per run.
    watched_mb() { for ((r = 1; r <= runs; r++)); do node -p "JSON.parse(require('fs').readFileSync('$work/watch-$r@$1.json', 'utf8')).$2 / 1e6"; done; }
    for ((s = 0; s < ${#settings[@]}; s++)); do
        echo "$n clusters, ${settings[s]}, $runs run(s), seconds as median [min–max]:"
        for step in up down preview preview-no-refresh diff; do
            printf '  %-20s %s\n' "$step" "$(seconds_of "$s" "$step" | spread)"
        done
        printf '  %-20s %s MB\n' "peak RSS of up" "$(watched_mb "$s" peakRssBytes | spread)" "peak PSS of up" "$(watched_mb "$s" peakPssBytes | spread)"
    done
    if ((${#settings[@]} > 1)); then
        echo "ratio of the medians to the first setting (${settings[0]}):"
        for ((s = 1; s < ${#settings[@]}; s++)); do
            printf '  %s:' "${settings[s]}"
            for step in up down preview preview-no-refresh diff; do
                printf ' %s %s' "$step" "$(awk -v a="$(seconds_of "$s" "$step" | median)" -v b="$(seconds_of 0 "$step" | median)" 'BEGIN { printf "%.2fx", a / b }')"
            done
            printf ' peak PSS %s\n' "$(awk -v a="$(watched_mb "$s" peakPssBytes | median)" -v b="$(watched_mb 0 peakPssBytes | median)" 'BEGIN { printf "%.2fx", a / b }')"
        done
    fi
    memory_limit_report
    ;;
e2e)
    cold_root=$(mktemp -d "${TMPDIR:-/tmp}/istio-mc-cold.XXXXXX")
    trap 'chmod -R u+w "$cold_root" 2>/dev/null; rm -rf "$cold_root"' EXIT
    # Both runs use the same fresh caches: the first fills them, the second reuses them.
    use_empty_caches "$cold_root"
    t0=$(now)
    npm run test:e2e >"$cold_root/cold.log" 2>&1 || { tail -50 "$cold_root/cold.log" >&2; exit 1; }
    t1=$(now)
    npm run test:e2e >"$cold_root/warm.log" 2>&1 || { tail -50 "$cold_root/warm.log" >&2; exit 1; }
    t2=$(now)
    cold=$(elapsed "$t0" "$t1") warm=$(elapsed "$t1" "$t2")
    printf 'npm run test:e2e cold: %s s, warm: %s s (cold/warm = %s)\n' "$cold" "$warm" "$(awk -v c="$cold" -v w="$warm" 'BEGIN { printf "%.1f", c / w }')"
    ;;
ci)
    cold_root=$(mktemp -d "${TMPDIR:-/tmp}/istio-mc-ci.XXXXXX")
    trap 'chmod -R u+w "$cold_root" 2>/dev/null; rm -rf "$cold_root"' EXIT
    git clone --quiet --no-local "$PWD" "$cold_root/clone"
    caches=${BENCH_CI_CACHES:-empty}
    [[ $caches != empty ]] || use_empty_caches "$cold_root"
    # Each line stamped with the second it was printed, so that npm's banner of each script marks its start.
    stamped() { while IFS= read -r line; do printf '%(%s)T %s\n' -1 "$line"; done; }
    start=$(date +%s)
    (cd "$cold_root/clone" && bash .ci/run) 2>&1 | stamped >"$cold_root/ci.log" ||
        { tail -50 "$cold_root/ci.log" >&2; exit 1; }
    end=$(date +%s)
    # The phases: from the start, then from each npm script's banner to the next one's (or the end).
    awk -v start="$start" -v end="$end" -v caches="$caches" '
        $2 == ">" && $3 ~ /^istio-multicluster@/ && NF == 4 && $4 ~ /^test(:e2e|:upgrade)?$/ { at[++n] = $1; name[n] = "npm run " $4 }
        END {
            printf ".ci/run with %s caches: %d s (install %d s", caches, end - start, at[1] - start
            for (i = 1; i <= n; i++) printf ", %s %d s", name[i], (i < n ? at[i + 1] : end) - at[i]
            print ")"
        }' "$cold_root/ci.log"
    ;;
sizes)
    e2e_node
    e2e_toolchain
    for binary in "$PULUMI_BIN_DIR"/* "$PULUMI_KUBERNETES_PLUGIN" "$PULUMI_TLS_PLUGIN" "$KUBE_BIN_DIR"/* "$ISTIO_BIN_DIR"/*; do
        printf '%-28s %6.1f MB\n' "$(basename "$binary")" "$(stat -c %s "$binary" | awk '{ print $1 / 1e6 }')"
    done
    ;;
*)
    echo "usage: npm run bench [-- updown|sync|traffic|credentials|compare|scale|e2e|ci|sizes]" >&2
    exit 2
    ;;
esac
