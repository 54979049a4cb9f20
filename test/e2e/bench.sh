#!/usr/bin/env bash
# Benchmarks, printed as medians and ratios:
#   updown (default): median wall time of `pulumi up` and `pulumi destroy` of the stack against the
#                     loopback control planes (E2E_CLUSTER_COUNT of them, default 2), over $BENCH_RUNS
#                     runs (default 5).
#   sync:             seconds from the end of `pulumi up` until a real istiod started in each cluster
#                     reports every other cluster synced, median over $BENCH_RUNS runs.
#   e2e:              wall time of `npm run test:e2e` cold (empty build caches: what a fresh machine
#                     pays) and warm (caches kept), and their ratio.
#   sizes:            size of each binary the e2e toolchain builds (built first if not cached).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
mode=${1:-updown}
runs=${BENCH_RUNS:-5}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Starts the control planes and a stack named bench with one cluster and network per control plane, on
# the official charts; with the test app unless $1 is false.
bench_stack() {
    e2e_setup istio-mc-bench
    work=$E2E_WORK project=$E2E_PROJECT n=${#E2E_CLUSTERS[@]}
    bash test/e2e/bench/program.sh init "$work" "$n" "${1:-true}" >&2
}
p() { pulumi "$@" --stack bench --cwd "$project" --non-interactive --yes >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }; }

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
    rm -rf build && npx tsc -p tsconfig.test.json
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
e2e)
    cold_root=$(mktemp -d "${TMPDIR:-/tmp}/istio-mc-cold.XXXXXX")
    trap 'chmod -R u+w "$cold_root" 2>/dev/null; rm -rf "$cold_root"' EXIT
    # Both runs use the same fresh caches: the first fills them, the second reuses them.
    cached() { ISTIO_MC_CACHE="$cold_root/cache" GOCACHE="$cold_root/go-build" GOMODCACHE="$cold_root/go-mod" npm run test:e2e; }
    t0=$(now)
    cached >"$cold_root/cold.log" 2>&1 || { tail -50 "$cold_root/cold.log" >&2; exit 1; }
    t1=$(now)
    cached >"$cold_root/warm.log" 2>&1 || { tail -50 "$cold_root/warm.log" >&2; exit 1; }
    t2=$(now)
    cold=$(elapsed "$t0" "$t1") warm=$(elapsed "$t1" "$t2")
    printf 'npm run test:e2e cold: %s s, warm: %s s (cold/warm = %s)\n' "$cold" "$warm" "$(awk -v c="$cold" -v w="$warm" 'BEGIN { printf "%.1f", c / w }')"
    ;;
sizes)
    e2e_node
    e2e_toolchain
    for binary in "$PULUMI_BIN_DIR"/* "$PULUMI_KUBERNETES_PLUGIN" "$PULUMI_TLS_PLUGIN" "$KUBE_BIN_DIR"/* "$ISTIO_BIN_DIR"/*; do
        printf '%-28s %6.1f MB\n' "$(basename "$binary")" "$(stat -c %s "$binary" | awk '{ print $1 / 1e6 }')"
    done
    ;;
*)
    echo "usage: npm run bench [-- updown|sync|e2e|sizes]" >&2
    exit 2
    ;;
esac
