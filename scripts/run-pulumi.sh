#!/usr/bin/env bash
# Usage: run-pulumi.sh <pulumi command> [arguments...], e.g. `run-pulumi.sh up --stack dev`: pulumi as
# the npm scripts run it.
# - Through with-private-tmpdir.sh: the admin kubeconfigs the provider writes go when pulumi ends.
# - `up` and `destroy` with PULUMI_SKIP_CHECKPOINTS=true unless the environment sets it (=false keeps
#   the CLI's default). The CLI then writes the state once, when the command ends, instead of after
#   every step, whose cost grows with the steps times the state: at ten clusters `up` is 3x faster and
#   needs 1.8 instead of 5.0 GB (README, "How long it takes").
# - The setting's price, guarded. A run killed before the CLI could write the state (kill -9, an OOM
#   kill, a cancelled CI job) recorded nothing of what it did. While an `up` runs with the setting, the
#   stack carries the tag istio-multicluster:unsaved-up, the digest of its config file; the tag goes
#   when pulumi ends by itself, having written the state (also after a failure or Ctrl-C), and stays if
#   a signal killed it or this script. A later command that finds it stops, unless it is an `up` of the
#   same config, which takes over what the killed run created (the fault suite): a `destroy`, or an `up`
#   of a config without some of those objects, would leave them in the clusters, unrecorded. A
#   `preview` warns.
set -euo pipefail
(($#)) || { echo "usage: run-pulumi.sh <pulumi command> [arguments...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
command=$1
tag=istio-multicluster:unsaved-up

# The user's command, always with the private $TMPDIR.
private_pulumi() { bash "$here/with-private-tmpdir.sh" pulumi "$@"; }

if [[ $command != up && $command != destroy && $command != preview ]]; then private_pulumi "$@"; exit; fi

# The stack, project directory and config file the arguments name; pulumi's own defaults otherwise.
stack_args=() project_dir=. config_file=""
args=("$@")
for ((i = 1; i < ${#args[@]}; i++)); do
    case ${args[i]} in
    --stack | -s) stack_args=(--stack "${args[i + 1]:-}") ;;
    --stack=*) stack_args=(--stack "${args[i]#--stack=}") ;;
    --cwd | -C) project_dir=${args[i + 1]:-.} ;;
    --cwd=*) project_dir=${args[i]#--cwd=} ;;
    --config-file) config_file=${args[i + 1]:-} ;;
    --config-file=*) config_file=${args[i]#--config-file=} ;;
    esac
done
stack_pulumi() { pulumi "$@" "${stack_args[@]}" --cwd "$project_dir" --non-interactive; }

# The digest of the stack's config file ("none" without one): what an interrupted `up` ran with.
config_digest() {
    local file=$config_file name
    if [[ -z $file ]]; then
        name=${stack_args[1]:-$(stack_pulumi stack --show-name)}
        file="$project_dir/Pulumi.${name##*/}.yaml"
    fi
    if [[ -f $file ]]; then sha256sum <"$file" | cut -c1-16; else echo none; fi
}
truthy() { [[ $1 =~ ^(1|[Tt]rue|TRUE)$ ]]; }

# What an `up` runs with, for the guard and the tag.
digest=""
if [[ $command == up ]]; then digest=$(config_digest); fi
# Empty also for a stack that does not exist yet: the CLI says so itself.
unsaved=$(stack_pulumi stack tag get "$tag" 2>/dev/null) || unsaved=""
if [[ -n $unsaved ]]; then
    recovery="Make sure no pulumi runs for the stack; if it is locked, \`pulumi cancel --yes ${stack_args[*]}\`; then \`npm run up\` (another stack: \`bash scripts/run-pulumi.sh up --stack <name>\`) with the config that run had (digest $unsaved): it takes over what that run created. If those objects are known to be gone (the clusters were deleted), \`pulumi stack tag rm $tag ${stack_args[*]}\` lets any command run."
    case $command in
    preview) echo "warning: the last \`pulumi up\` of this stack ended before the CLI wrote the state (tag $tag): objects it created may be missing from this preview. $recovery" >&2 ;;
    destroy) echo "error: the last \`pulumi up\` of this stack ended before the CLI wrote the state (tag $tag): a destroy now would leave the objects it created in the clusters. $recovery" >&2; exit 1 ;;
    up)
        [[ $digest == "$unsaved" ]] || { echo "error: the last \`pulumi up\` of this stack ended before the CLI wrote the state (tag $tag), with another config (digest $unsaved, now $digest): an up of this one could leave objects that run created in the clusters, unrecorded. $recovery" >&2; exit 1; }
        echo "the last \`pulumi up\` of this stack ended before the CLI wrote the state; this one, with the same config, takes over what it created" >&2
        ;;
    esac
fi

# A preview writes no state.
if [[ $command != preview ]]; then export PULUMI_SKIP_CHECKPOINTS=${PULUMI_SKIP_CHECKPOINTS:-true}; fi
if [[ $command != up ]] || ! truthy "${PULUMI_SKIP_CHECKPOINTS:-}"; then private_pulumi "$@"; exit; fi

# Without stack tags (a backend that lacks them), the state is written after every step.
if ! stack_pulumi stack tag set "$tag" "$digest"; then
    echo "warning: could not tag the stack for the run; running with PULUMI_SKIP_CHECKPOINTS=false" >&2
    PULUMI_SKIP_CHECKPOINTS=false private_pulumi "$@"
    exit
fi
# Ctrl-C or a closed terminal reaches pulumi too: this script waits for it to end, then looks.
trap : INT TERM HUP
status=0
private_pulumi "$@" || status=$?
# 129 to 192: a signal killed pulumi (128 + its number) before it wrote the state. Otherwise it ended
# by itself (0, or 255 on failure, Ctrl-C included), the state written, or no update begun.
if ((status > 128 && status <= 192)); then
    echo "error: pulumi was killed (status $status) before it wrote the state: the stack keeps the tag $tag, and the next command must be this up again, with this config" >&2
else
    stack_pulumi stack tag rm "$tag"
fi
exit "$status"
