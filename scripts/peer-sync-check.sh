# shellcheck shell=sh
# The peer-sync check, run by the `check` container of a primary's Job in istio-system (POSIX sh: the
# curl image's shell is BusyBox ash). Asks each istiod Service in $ISTIODS (`istiod`, `istiod-<revision>`)
# of cluster $CLUSTER for /debug/clusterz on 15014, with the pod's `istio-ca` token (istiod answers its
# debug endpoints only to callers in istio-system), until every cluster in $PEERS is listed with
# "syncStatus":"synced", for at most $ATTEMPTS attempts 5 s apart. On failure says which istiod has not
# synced which peers, on stderr and in the termination log ($TERMINATION_LOG, /dev/termination-log by
# default), which Pulumi shows in the Job's error.
set -u
: "${CLUSTER:?}" "${ISTIODS:?}" "${PEERS:?}" "${ATTEMPTS:?}" "${TOKEN_FILE:?}"
termination_log=${TERMINATION_LOG:-/dev/termination-log}

# One object a line, without whitespace: `{"id":"cluster2","secretName":"...","syncStatus":"synced"`.
clusterz() {
    body=$(curl -fsS --max-time 3 -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "http://$1.istio-system.svc:15014/debug/clusterz" 2>&1) || {
        printf '%s\n' "$body"
        return 1
    }
    printf '%s' "$body" | tr -d ' \t\r\n' | tr '}' '\n'
}

# The peers of $PEERS that $1 (clusterz's lines) does not list as synced, each with what it lists instead.
unsynced() {
    out=""
    for peer in $PEERS; do
        entry=$(printf '%s\n' "$1" | grep -F "\"id\":\"$peer\"" | sed -n '1p')
        case "$entry" in
            *'"syncStatus":"synced"'*) continue ;;
            "") status="not listed" ;;
            *) status=$(printf '%s\n' "$entry" | sed -n 's/.*"syncStatus":"\([^"]*\)".*/\1/p') ;;
        esac
        out="${out:+$out, }$peer (${status:-no status})"
    done
    printf '%s' "$out"
}

revision_of() {
    case "$1" in
        istiod) echo "in place" ;;
        *) echo "revision ${1#istiod-}" ;;
    esac
}

attempt=1
while :; do
    failing=""
    for istiod in $ISTIODS; do
        if lines=$(clusterz "$istiod" 2>&1); then
            missing=$(unsynced "$lines")
        else
            missing="not answering: $(printf '%s\n' "$lines" | sed -n '$p')"
        fi
        [ -n "$missing" ] && failing="${failing:+$failing; }$istiod ($(revision_of "$istiod")): $missing"
    done
    if [ -z "$failing" ]; then
        printf '{"cluster":"%s","istiods":"%s","peers":"%s","attempts":%d}\n' "$CLUSTER" "$ISTIODS" "$PEERS" "$attempt"
        exit 0
    fi
    [ "$attempt" -ge "$ATTEMPTS" ] && break
    sleep 5
    attempt=$((attempt + 1))
done

message="peer-sync check failed: in cluster $CLUSTER, after $ATTEMPTS attempts, peers not synced: $failing"
printf '%s\n' "$message" >&2
# In a subshell: a log that cannot be written (outside a pod) must not stop the shell.
(printf '%s\n' "$message" >"$termination_log") 2>/dev/null || true
exit 1
