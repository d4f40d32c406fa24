#!/usr/bin/env bash
# The local stack's registry: a plain-HTTP OCI registry on 127.0.0.1 only (Debian's `docker-registry`, the CNCF
# distribution registry), with its images under one folder.
#
#   scripts/registry.sh up | down | status
#
# Env: SLIPWAY_REGISTRY_PORT (default 5001, what Pulumi.local.yaml names), SLIPWAY_STATE_DIR.
# A registry that already answers on the port is used as it is, whoever started it.
set -euo pipefail
SLIPWAY_LOG_NAME=registry
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

PORT="${SLIPWAY_REGISTRY_PORT:-5001}"
DIR="$SLIPWAY_STATE_DIR/registry-$PORT"

answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/v2/"; }

up() {
    if answers 2>/dev/null; then
        say "127.0.0.1:$PORT answers"
        return 0
    fi
    command -v docker-registry >/dev/null || need_packages docker-registry
    mkdir -p "$DIR/data"
    # Our own config: the packaged one listens on every address and demands htpasswd auth.
    cat >"$DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
    daemon_start "$DIR" registry "$(command -v docker-registry)" serve "$DIR/config.yml"
    DAEMON_WATCH="$DIR:registry" wait_until "the registry on 127.0.0.1:$PORT" 30 answers
    say "127.0.0.1:$PORT ready (data: $DIR/data)"
}

case "${1:-}" in
up) up ;;
down) daemon_stop "$DIR" registry ;;
status) answers && echo "registry: 127.0.0.1:$PORT answers" || {
    echo "registry: 127.0.0.1:$PORT does not answer"
    exit 1
} ;;
*) fail "usage: $0 up | down | status" ;;
esac
