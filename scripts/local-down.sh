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

tools_env="$(scripts/toolchain.sh engine)"
eval "$tools_env"
export PULUMI_BACKEND_URL="file://$PWD/.pulumi" PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
if [[ -f .slipway/kubeconfig ]] && pulumi stack select local >/dev/null 2>&1; then
    KUBECONFIG="$PWD/.slipway/kubeconfig" pulumi destroy --stack local --yes --skip-preview
fi
daemon_stop .slipway port-forward 5
scripts/cluster.sh down
scripts/buildkit.sh down
scripts/registry.sh down
rm -f .slipway/kubeconfig
