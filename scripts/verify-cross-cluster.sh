#!/usr/bin/env bash
# From cluster $CLUSTER's curl client, sends $REQUESTS requests to helloworld.sample:5000/hello per
# attempt until every version in $EXPECTED_VERSIONS has answered, for at most $ATTEMPTS attempts
# (cross-cluster endpoints take a little while to propagate). On success prints a JSON summary; on
# failure says which versions could not be reached from this cluster.
# The cluster's admin kubeconfig arrives on stdin. kubectl gets it as a private temporary file (mode
# 0600, in $TMPDIR or /tmp, never in the repository), not a pipe: wrappers such as the Google Cloud
# SDK's kubectl dispatcher read the file more than once. The file is removed on every exit, including
# failures and SIGINT/SIGTERM/SIGHUP.
set -euo pipefail
: "${CLUSTER:?}" "${EXPECTED_VERSIONS:?}" "${REQUESTS:?}" "${ATTEMPTS:?}"
kubeconfig_file=""
trap 'if [[ -n $kubeconfig_file ]]; then rm -f -- "$kubeconfig_file"; fi' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
umask 077
kubeconfig_file=$(mktemp "${TMPDIR:-/tmp}/verify-kubeconfig.XXXXXX")
cat >"$kubeconfig_file"
kc() { kubectl --kubeconfig "$kubeconfig_file" ${KUBE_CONTEXT:+--context "$KUBE_CONTEXT"} "$@"; }

declare -A answers=()
sent=0
missing=()
last_error=""
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    if replies=$(kc exec -n sample deploy/curl -c curl -- \
        sh -c "for i in \$(seq $REQUESTS); do curl -sS --max-time 3 helloworld.sample:5000/hello; echo; done" 2>&1); then
        last_error=""
    else
        last_error=$(tail -n 1 <<<"$replies")
    fi
    sent=$((sent + REQUESTS))
    while IFS= read -r line; do
        if [[ $line =~ version:\ (v[0-9]+) ]]; then
            version=${BASH_REMATCH[1]}
            answers[$version]=$((${answers[$version]:-0} + 1))
        fi
    done <<<"$replies"
    missing=()
    for version in $EXPECTED_VERSIONS; do
        [[ -n "${answers[$version]:-}" ]] || missing+=("$version")
    done
    if ((${#missing[@]} == 0)); then
        counts=""
        for version in $(printf '%s\n' "${!answers[@]}" | sort); do
            counts+="${counts:+,}\"$version\":${answers[$version]}"
        done
        printf '{"cluster":"%s","requests":%d,"attempts":%d,"answers":{%s}}\n' "$CLUSTER" "$sent" "$attempt" "$counts"
        exit 0
    fi
    ((attempt < ATTEMPTS)) && sleep 5
done

seen=$(printf '%s ' "${!answers[@]}")
echo "cross-cluster check failed: from cluster $CLUSTER, helloworld ${missing[*]} never answered" \
    "($sent requests over $ATTEMPTS attempts; versions that did answer: ${seen:-none})${last_error:+; last error: $last_error}" >&2
exit 1
