#!/usr/bin/env bash
# The local stack's image builder: a BuildKit daemon on this machine, registered with buildx as the "remote"
# builder `slipway`, which Pulumi.local.yaml names (build.builder).
#
#   scripts/buildkit.sh up | down | status
#
# Why not a docker-container builder: it runs the moby/buildkit image, which an offline machine cannot pull; and
# docker-build refuses Docker's built-in "docker" driver. A remote builder is plain buildx configuration.
# Needs buildkitd and buildctl on PATH (scripts/toolchain.sh engine) and runc (Debian package, installed if missing).
#
# Env: SLIPWAY_BUILDER (default slipway), SLIPWAY_REGISTRY_PORT (default 5001: pushed to over plain HTTP),
#      DOCKER_CONFIG (where buildx keeps builders; default ~/.docker), SLIPWAY_STATE_DIR.
set -euo pipefail
SLIPWAY_LOG_NAME=buildkit
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

BUILDER="${SLIPWAY_BUILDER:-slipway}"
DIR="$SLIPWAY_STATE_DIR/buildkit"
SOCKET="unix://$DIR/buildkitd.sock"
INSTANCE="${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances/$BUILDER"

answers() { buildctl --addr "$SOCKET" debug workers >/dev/null 2>&1; }

up() {
    command -v buildkitd >/dev/null || fail "buildkitd is not on PATH: eval \"\$(scripts/toolchain.sh engine)\" first"
    if ! answers; then
        command -v runc >/dev/null || need_packages runc
        mkdir -p "$DIR"
        # Host network for RUN steps: `npm ci` reaches the npm registry, and pushes reach the registry on loopback.
        cat >"$DIR/buildkitd.toml" <<EOF
root = "$DIR/root"
[grpc]
  address = ["$SOCKET"]
[worker.oci]
  enabled = true
  gc = true
  gckeepstorage = "10GB"
[worker.containerd]
  enabled = false
[registry."127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}"]
  http = true
EOF
        daemon_start "$DIR" buildkitd "$(command -v buildkitd)" --config "$DIR/buildkitd.toml" --oci-worker-net host
        DAEMON_WATCH="$DIR:buildkitd" wait_until "buildkitd on $SOCKET" 60 answers
    fi
    # The builder as `docker buildx create --driver remote` would record it; docker-build reads buildx's store.
    mkdir -p "$(dirname "$INSTANCE")"
    printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"%s","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}\n' \
        "$BUILDER" "$BUILDER" "$SOCKET" >"$INSTANCE"
    say "buildkitd $(buildkitd --version | awk '{print $3}') ready at $SOCKET; buildx builder '$BUILDER' points at it"
}

down() {
    daemon_stop "$DIR" buildkitd 30
    # Only our own registration: a builder of that name that points elsewhere is the user's.
    if [[ -f "$INSTANCE" ]] && grep -qF "\"$SOCKET\"" "$INSTANCE"; then rm -f "$INSTANCE"; fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) answers && echo "buildkit: $SOCKET answers (builder $BUILDER)" || {
    echo "buildkit: $SOCKET does not answer"
    exit 1
} ;;
*) fail "usage: $0 up | down | status" ;;
esac
