#!/usr/bin/env bash
# `npm run test:e2e`: Slipway on the real Pulumi engine, its providers and BuildKit, against Slipway's own
# Kubernetes node. Everything comes from scripts/toolchain.sh (cached by version; built from the Go module proxy
# the first time) and Debian packages; nothing is faked. Needs root on Linux.
#
# Order: toolchain, registry, BuildKit, offline base → the host as found (fingerprint) → the node, restarted so
# its cold start is a figure and `down` can be checked → the suites in test/e2e (mocha, in file order; the last one
# runs `npm run down:local` and compares the host with its fingerprint).
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_LOG_NAME=test:e2e
# shellcheck source=lib/daemon.sh
source scripts/lib/daemon.sh
# shellcheck source=lib/e2e-env.sh
source scripts/lib/e2e-env.sh
T0=$SECONDS

e2e_env_up
scripts/cluster.sh down --purge >/dev/null
scripts/host-fingerprint.sh >"$SLIPWAY_E2E_WORK/host-before"
t=$SECONDS
node_env="$(scripts/cluster.sh up --own-node)"
eval "$node_env"
export SLIPWAY_E2E_NODE_SECONDS=$((SECONDS - t))
say "node Ready in ${SLIPWAY_E2E_NODE_SECONDS} s; the suites start after $((SECONDS - T0)) s of setup"
kubectl apply --server-side -f "$SLIPWAY_PROMETHEUS_CRDS/monitoring.coreos.com_servicemonitors.yaml" \
    -f "$SLIPWAY_PROMETHEUS_CRDS/monitoring.coreos.com_prometheusrules.yaml" >/dev/null

set +e
node_modules/.bin/mocha --config .mocharc.e2e.json "$@"
status=$?
set -e
say "suites exited $status after $((SECONDS - T0)) s"
exit $status
