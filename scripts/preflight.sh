#!/usr/bin/env bash
# Usage: preflight.sh <stack>, from the project directory. Before `pulumi up` of that stack, checks
# what it needs on this machine: Node.js, the program's dependencies, the Pulumi CLI and a backend
# login, and, when the stack has kind clusters, Docker running with enough memory and kind. Reports
# every missing piece at once, each with the command or page that provides it, and exits 1; prints
# nothing when all is there. Uses only bash builtins and the tools it checks, so it works on whatever
# PATH it is given.
set -uo pipefail
stack=${1:?usage: preflight.sh <stack>}
scripts=${BASH_SOURCE[0]%/*}
[[ $scripts == "${BASH_SOURCE[0]}" ]] && scripts=.
program=$(cd "$scripts/.." && pwd)
min_node=22.19 # package.json "engines"
gib=$((1024 * 1024 * 1024))
missing=()
lacks() { missing+=("$1"); }
has() { command -v "$1" >/dev/null 2>&1; }

node_version=$(node -p process.versions.node 2>/dev/null) || node_version=""
if [[ -z $node_version ]]; then
    lacks "Node.js $min_node or newer: https://nodejs.org/en/download"
elif IFS=. read -r major minor _ <<<"$node_version" && IFS=. read -r min_major min_minor <<<"$min_node" &&
    ((major < min_major || (major == min_major && minor < min_minor))); then
    lacks "Node.js $min_node or newer (found $node_version): https://nodejs.org/en/download"
fi
if [[ ! -d $program/node_modules/@pulumi/pulumi ]]; then
    lacks "the program's dependencies: npm ci"
fi

if ! has pulumi; then
    lacks "the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh (https://www.pulumi.com/docs/iac/download-install/)"
elif ! PULUMI_SKIP_UPDATE_CHECK=true pulumi whoami --non-interactive >/dev/null 2>&1; then
    lacks "a Pulumi backend login: pulumi login --local (state on this machine), or pulumi login for Pulumi Cloud"
fi

# The number of kind clusters in the stack's config; unknown (?) without node.
read -r kind_clusters < <(node -e '
    const config = require(process.argv[1]).load(require("fs").readFileSync(process.argv[2], "utf8"))?.config ?? {};
    console.log((config["istio-multicluster:clusters"] ?? []).filter((c) => c?.kind !== undefined).length);
' "$program/node_modules/js-yaml" "Pulumi.$stack.yaml" 2>/dev/null || echo "?")

if [[ $kind_clusters != 0 ]]; then
    if ! has docker; then
        lacks "Docker, for the kind clusters: https://docs.docker.com/get-started/get-docker/"
    elif ! memory=$(docker info --format '{{.MemTotal}}' 2>/dev/null); then
        lacks "Docker is not running (docker info failed): start Docker Desktop or the docker service"
    elif [[ $kind_clusters != "?" && $memory =~ ^[0-9]+$ ]] && ((memory < kind_clusters * 7 * gib / 2)); then
        lacks "Docker has $((memory / gib)).$((memory % gib * 10 / gib)) GiB of memory; $kind_clusters kind clusters with Istio need about 4 GB each: raise Docker's memory limit (Docker Desktop: Settings > Resources)"
    fi
    has kind || lacks "kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
fi

if ((${#missing[@]} > 0)); then
    echo "The $stack stack needs what this machine lacks:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi
