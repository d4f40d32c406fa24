#!/usr/bin/env bash
# Undoes `npm run up:local`: destroys the local stack, then stops what up:local started (port-forward, Slipway's
# node, BuildKit, the registry). Images stay in the registry's folder and state in ./.pulumi, for a fast next up.
#
#   npm run down:local
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_LOG_NAME=down:local
# shellcheck source=lib/daemon.sh
source scripts/lib/daemon.sh

local_env="$(scripts/local-env.sh)"
eval "$local_env"
if [[ -f "$KUBECONFIG" ]] && pulumi stack select local >/dev/null 2>&1; then
    pulumi destroy --stack local --yes --skip-preview
fi
daemon_stop .slipway port-forward 5
scripts/cluster.sh down
scripts/buildkit.sh down
scripts/registry.sh down
rm -f .slipway/kubeconfig
