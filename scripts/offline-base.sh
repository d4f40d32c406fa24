#!/usr/bin/env bash
# The air-gapped Node 24 base: for machines that cannot pull node:24-bookworm-slim, an image made from Debian
# packages plus the Node.js binary and npm this repo pins (scripts/lib/node-rootfs.sh), built with BuildKit and
# pushed to a registry. Prints the image by digest (<registry>/slipway/node-base@sha256:…) on stdout.
#
#   scripts/offline-base.sh [REGISTRY]     default 127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}
#
# Built once per Node/npm version: when REGISTRY already holds that tag, its digest is printed and nothing is built.
# Needs root (debootstrap), buildctl and a running buildkitd (scripts/buildkit.sh up).
set -euo pipefail
SLIPWAY_LOG_NAME=offline-base
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/daemon.sh
source "$HERE/lib/daemon.sh"
# shellcheck source=lib/node-rootfs.sh
source "$HERE/lib/node-rootfs.sh"

REGISTRY="${1:-127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}}"
REPOSITORY=slipway/node-base
TAG="$(node_rootfs_tag)"
IMAGE="$REGISTRY/$REPOSITORY"
BUILDKIT="unix://$SLIPWAY_STATE_DIR/buildkit/buildkitd.sock"

registry_digest() {
    curl -fsS -I -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' \
        "http://$REGISTRY/v2/$REPOSITORY/manifests/$TAG" 2>/dev/null |
        tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}'
}

digest="$(registry_digest || true)"
if [[ -z "$digest" ]]; then
    need_packages debootstrap
    work="$(mktemp -d /var/tmp/slipway-offline-base.XXXXXX)"
    trap 'rm -rf "$work"' EXIT
    say "building $IMAGE:$TAG from Debian bookworm and Node $(cut -d- -f1 <<<"$TAG") (once; about 2 minutes)"
    node_rootfs "$work/rootfs" || fail "could not assemble the root filesystem"
    # No `# syntax=` line: BuildKit would pull a frontend image; the built-in Dockerfile frontend suffices.
    cat >"$work/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
    buildctl --addr "$BUILDKIT" build --frontend dockerfile.v0 --local context="$work" --local dockerfile="$work" \
        --opt label:org.opencontainers.image.title=slipway-node-base \
        --opt label:org.opencontainers.image.description="Debian bookworm minbase, Node.js and npm for offline builds" \
        --opt label:org.opencontainers.image.version="$TAG" \
        --output "type=image,name=$IMAGE:$TAG,push=true" >"$work/build.log" 2>&1 || {
        tail -n 30 "$work/build.log" >&2
        fail "buildctl build failed"
    }
    digest="$(registry_digest)"
fi
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "the registry at $REGISTRY serves no digest for $REPOSITORY:$TAG"
echo "$IMAGE@$digest"
