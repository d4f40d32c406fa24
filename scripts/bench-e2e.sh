#!/usr/bin/env bash
# `npm run bench:e2e`: the figures of docs/BENCHMARKS-e2e.md, from one run (scripts/bench-e2e.ts): Slipway against
# the same work without it, in interleaved pairs. Restarts Slipway's node (its cold start is a figure); the last
# figure, a really cold up:local, prunes BuildKit's cache and runs on an empty registry (its data is put back after).
#   SLIPWAY_BENCH_PAIRS=N  pairs per comparison (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_LOG_NAME=bench:e2e
# shellcheck source=lib/daemon.sh
source scripts/lib/daemon.sh
# shellcheck source=lib/e2e-env.sh
source scripts/lib/e2e-env.sh

need_packages strace # the rollback profile: which Pulumi CLI calls a rollback makes, and how long each takes
e2e_env_up
scripts/cluster.sh down --purge >/dev/null
t=$SECONDS
node_env="$(scripts/cluster.sh up --own-node)"
eval "$node_env"
export SLIPWAY_E2E_NODE_SECONDS=$((SECONDS - t))
node_modules/.bin/ts-node --transpile-only scripts/bench-e2e.ts
