# shellcheck shell=sh
# The cross-cluster traffic check, run by the `check` container of each cluster's Job (POSIX sh: the curl
# image's shell is BusyBox ash). From cluster $CLUSTER, sends $REQUESTS requests to
# helloworld.sample:5000/hello per attempt until every version in $EXPECTED_VERSIONS has answered, for at
# most $ATTEMPTS attempts 5 s apart (cross-cluster endpoints take a little while to propagate). On success
# prints a JSON summary; on failure says which versions could not be reached from this cluster, on stderr
# and in the termination log ($TERMINATION_LOG, /dev/termination-log by default), which Kubernetes shows
# in the pod's status and Pulumi in the Job's error. Either way it then asks the Istio sidecar, if it is
# not a native sidecar, to exit, so that the pod can complete.
set -u
: "${CLUSTER:?}" "${EXPECTED_VERSIONS:?}" "${REQUESTS:?}" "${ATTEMPTS:?}"
termination_log=${TERMINATION_LOG:-/dev/termination-log}

finish() {
    curl -fsS -X POST http://127.0.0.1:15020/quitquitquit >/dev/null 2>&1 || true
    exit "$1"
}

# Every reply's version, one a line; the distinct versions, in the order they first answered.
answered=""
versions=""
sent=0
missing=""
last_error=""
attempt=1
while [ "$attempt" -le "$ATTEMPTS" ]; do
    i=0
    while [ "$i" -lt "$REQUESTS" ]; do
        if reply=$(curl -sS --max-time 3 http://helloworld.sample:5000/hello 2>&1); then
            last_error=""
        else
            last_error=$(printf '%s\n' "$reply" | sed -n '$p')
        fi
        version=$(printf '%s\n' "$reply" | sed -n 's/.*version: \(v[0-9][0-9]*\).*/\1/p' | sed -n '1p')
        if [ -n "$version" ]; then
            answered="$answered$version
"
            case " $versions " in
                *" $version "*) ;;
                *) versions="${versions:+$versions }$version" ;;
            esac
        fi
        i=$((i + 1))
    done
    sent=$((sent + REQUESTS))
    missing=""
    for version in $EXPECTED_VERSIONS; do
        case " $versions " in
            *" $version "*) ;;
            *) missing="${missing:+$missing }$version" ;;
        esac
    done
    if [ -z "$missing" ]; then
        counts=""
        for version in $versions; do
            count=$(printf '%s' "$answered" | grep -cx "$version")
            counts="${counts:+$counts,}\"$version\":$count"
        done
        printf '{"cluster":"%s","requests":%d,"attempts":%d,"answers":{%s}}\n' "$CLUSTER" "$sent" "$attempt" "$counts"
        finish 0
    fi
    [ "$attempt" -lt "$ATTEMPTS" ] && sleep 5
    attempt=$((attempt + 1))
done

message="cross-cluster check failed: from cluster $CLUSTER, helloworld $missing never answered ($sent requests over $ATTEMPTS attempts; versions that did answer: ${versions:-none})${last_error:+; last error: $last_error}"
printf '%s\n' "$message" >&2
# In a subshell: a log that cannot be written (outside a pod) must not stop the shell.
(printf '%s\n' "$message" >"$termination_log") 2>/dev/null || true
finish 1
