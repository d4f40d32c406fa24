#!/usr/bin/env bash
# The main job on the embedded default: `pulumi up` of the local stack, on this machine only, then the app answers.
#
#   npm run up:local [-- --context NAME] [-- --diff] [-- --message TEXT]
#
# In order: the pinned toolchain (scripts/toolchain.sh), the registry on 127.0.0.1:5001, a BuildKit builder,
# a cluster (scripts/cluster.sh: a local kube context, or Slipway's own node), the base images, then
# `pulumi up` of the local stack (state in ./.pulumi, passphrase secrets), then GET / and /readyz on the app.
# Only a local cluster is ever used unless --context names another one explicitly. Every step that finds its
# part already running costs milliseconds, so a run with nothing to change takes about as long as a preview.
#
# Env: PULUMI_CONFIG_PASSPHRASE (default empty), SLIPWAY_OFFLINE=1 (do not probe Docker Hub: use the offline base).
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_LOG_NAME=up:local
# shellcheck source=lib/daemon.sh
source scripts/lib/daemon.sh
# shellcheck source=lib/stack-lock.sh
source scripts/lib/stack-lock.sh
T0=$SECONDS

cluster_args=()
up_args=()
while (($#)); do
    case "$1" in
    --context)
        cluster_args=(--context "${2:?--context needs a kube context name}")
        shift 2
        ;;
    *)
        up_args+=("$1")
        shift
        ;;
    esac
done

# One up:local at a time per project: a second one says who runs, instead of failing later on Pulumi's stack lock
# with advice (`pulumi cancel`) that would break the update still running.
mkdir -p .slipway
exec 9>>.slipway/up.lock # fd SLIPWAY_LOCK_FD (scripts/lib/daemon.sh): daemons started below never inherit it
if ! flock -n 9; then
    fail "another npm run up:local runs in this project ($(cat .slipway/up.owner 2>/dev/null || echo "pid unknown")): wait for it to finish"
fi
echo "pid $$, since $(date -u +%FT%TZ)" >.slipway/up.owner

[[ -x node_modules/.bin/node ]] || npm ci --no-audit --no-fund
# The toolchain, the backend and the passphrase: the same for every command of the local loop. The cluster is
# chosen from the user's own kube contexts, so their KUBECONFIG goes to cluster.sh as it was.
user_kubeconfig="${KUBECONFIG-}"
local_env="$(scripts/local-env.sh)"
eval "$local_env"
scripts/registry.sh up
scripts/buildkit.sh up
if [[ -n "$user_kubeconfig" ]]; then export KUBECONFIG="$user_kubeconfig"; else unset KUBECONFIG; fi
node_env="$(scripts/cluster.sh up "${cluster_args[@]}")"
eval "$node_env"
mkdir -p .slipway .pulumi
# The provider sees exactly one cluster: the chosen context, flattened into a kubeconfig of its own. It holds the
# cluster's admin credentials: readable by its owner only.
(
    umask 077
    rm -f .slipway/kubeconfig.new # a leftover of an interrupted run keeps its mode through `>`
    kubectl config view --minify --flatten --context "$SLIPWAY_KUBE_CONTEXT" >.slipway/kubeconfig.new
)
mv .slipway/kubeconfig.new .slipway/kubeconfig
export KUBECONFIG="$PWD/.slipway/kubeconfig"
# A file backend keeps each stack in .pulumi/.pulumi/stacks/<project>/<stack>.json: create it only when absent,
# which saves a CLI round trip on every later run.
compgen -G ".pulumi/.pulumi/stacks/slipway/local.json*" >/dev/null ||
    pulumi stack select local --create --secrets-provider passphrase >/dev/null

# Base images: the pinned node:24 image where Docker Hub answers, else the offline base built here. The choice is
# this machine's, so it goes to .slipway/base-image (scripts/local-env.sh hands it to every later command as
# SLIPWAY_BASE_IMAGE), never into the tracked Pulumi.local.yaml; a base set in Pulumi.local.yaml still wins.
if [[ "${SLIPWAY_OFFLINE:-}" == 1 ]] || ! curl -s -o /dev/null --max-time 5 https://registry-1.docker.io/v2/; then
    base="$(scripts/offline-base.sh)"
    if [[ "$(cat .slipway/base-image 2>/dev/null)" != "$base" ]]; then
        echo "$base" >.slipway/base-image
        say "Docker Hub is unreachable: both images start FROM the offline base $base (in .slipway/base-image)"
    fi
    export SLIPWAY_BASE_IMAGE="$base"
elif [[ -f .slipway/base-image ]]; then
    rm .slipway/base-image
    unset SLIPWAY_BASE_IMAGE
    say "Docker Hub answers: both images start FROM the pinned node:24 base again"
fi

stack_lock_check "$PULUMI_BACKEND_URL" local

# One pass, no separate preview: the update prints each change as it makes it (pull requests get their previews).
# It is Slipway's `up`: a new pod that cannot start fails it within 30 s, naming the pod, the reason and its logs.
status=0
SLIPWAY_LOCAL_ENV_QUIET=1 node_modules/.bin/ts-node --transpile-only tools/main.ts up --stack local "${up_args[@]}" || status=$?
if ((status != 0)); then
    # A part of the local loop that stopped during the update (a registry or BuildKit killed, the node gone) fails
    # the build or the rollout with an error of its own; say which part it was, and that the next run starts it.
    stopped=()
    scripts/registry.sh status >/dev/null 2>&1 || stopped+=("the registry (127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001})")
    scripts/buildkit.sh status >/dev/null 2>&1 || stopped+=("BuildKit")
    if ! kubectl --request-timeout=5s get --raw /readyz >/dev/null 2>&1; then
        # Only Slipway's own node is started by up:local; a cluster of your own (kind, --context) is yours to start.
        if [[ "${SLIPWAY_KUBE_CONTEXT:-}" == slipway ]]; then
            stopped+=("Slipway's node")
        else
            say "the cluster of kube context ${SLIPWAY_KUBE_CONTEXT:-?} does not answer: start it, then run npm run up:local again"
        fi
    fi
    if ((${#stopped[@]})); then
        list="$(printf '%s, ' "${stopped[@]}")"
        say "${list%, } stopped during this run: run npm run up:local again, it starts what stopped and finishes the update"
    fi
    exit "$status"
fi

url="$(scripts/app-url.sh)"
check() { [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url$1")" == 200 ]]; }
wait_until "GET $url/" 120 check /
wait_until "GET $url/readyz" 60 check /readyz
say "done in $((SECONDS - T0)) s; the app answers at:"
echo "$url"
