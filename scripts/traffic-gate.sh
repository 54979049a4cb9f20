# shellcheck shell=sh
# The traffic gate of istio.rolloutOrder, run by the `check` container of its Job (POSIX sh, as the check
# it runs): runs the cross-cluster check ($1, scripts/cross-cluster-check.sh) as it is, and when the check
# fails, adds $STOPPED (which clusters the rollout did not reach) to its verdict, on stderr and in the
# termination log, so that the error of `pulumi up` says both.
set -u
: "${1:?the check script}" "${STOPPED:?}"
termination_log=${TERMINATION_LOG:-/dev/termination-log}

# The check's stderr is its verdict (it captures curl's own errors): kept here, its stdout passed on.
exec 3>&1
verdict=$(TERMINATION_LOG=/dev/null sh -c "$1" 2>&1 1>&3)
status=$?
exec 3>&-
if [ "$status" -ne 0 ]; then
    message="${verdict:-the cross-cluster check failed (exit $status)}; $STOPPED"
    printf '%s\n' "$message" >&2
    (printf '%s\n' "$message" >"$termination_log") 2>/dev/null || true
fi
exit "$status"
