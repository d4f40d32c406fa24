#!/usr/bin/env bash
# kubectl on the local stage's cluster, from any shell in the project: the kubeconfig up:local wrote
# (.slipway/kubeconfig, found by scripts/local-env.sh), and Slipway's pinned kubectl where none is on PATH.
#
#   npm run kubectl -- -n hello-local get pods
set -euo pipefail
cd "$(dirname "$0")/.."
local_env="$(scripts/local-env.sh)"
eval "$local_env"
if ! command -v kubectl >/dev/null; then
    tools_env="$(SLIPWAY_TOOLCHAIN_QUIET=1 scripts/toolchain.sh node)"
    eval "$tools_env"
fi
exec kubectl "$@"
