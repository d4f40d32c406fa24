# shellcheck shell=bash
# The machine the end-to-end suites and benchmark run on: the pinned toolchain on PATH, a registry on 127.0.0.1,
# BuildKit registered in a buildx configuration of their own (never ~/.docker), and the offline Node 24 base.
# Sourced by scripts/test-e2e.sh and scripts/bench-e2e.sh (after scripts/lib/daemon.sh); needs root on Linux.

e2e_env_up() {
    [[ $(id -u) == 0 && "$(uname -s)" == Linux ]] || fail "the end-to-end suites need root on Linux (they run a Kubernetes node)"
    local tools_env
    tools_env="$(scripts/toolchain.sh all)"
    eval "$tools_env"
    export SLIPWAY_E2E_WORK="${SLIPWAY_E2E_WORK:-$(mktemp -d /var/tmp/slipway-e2e.XXXXXX)}"
    export DOCKER_CONFIG="$SLIPWAY_E2E_WORK/docker"
    mkdir -p "$DOCKER_CONFIG"
    scripts/registry.sh up
    scripts/buildkit.sh up
    SLIPWAY_E2E_BASE_IMAGE="$(scripts/offline-base.sh)"
    export SLIPWAY_E2E_BASE_IMAGE SLIPWAY_E2E_REGISTRY="127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}"
}
