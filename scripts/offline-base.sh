#!/usr/bin/env bash
# The air-gapped bases, for machines that cannot pull public images: made from Debian packages, built with BuildKit
# and pushed to a registry, printed by digest on stdout.
#
#   scripts/offline-base.sh [REGISTRY]     the Node 24 base, for node:24-bookworm-slim: Debian plus the Node.js
#                                          binary and npm this repo pins (scripts/lib/node-rootfs.sh); one line,
#                                          <registry>/slipway/node-base@sha256:…
#   scripts/offline-base.sh go [REGISTRY]  the Go example's (examples/hello-go), from one debootstrap with Debian's Go
#                                          (scripts/lib/go-rootfs.sh): two lines, the base of its build environment
#                                          (<registry>/slipway/go-base@sha256:…) and its runtime base
#                                          (<registry>/slipway/go-runtime@sha256:…)
#   REGISTRY defaults to 127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}
#
# Built once per version of what goes in: when REGISTRY already holds the tags, their digests are printed and nothing
# is built. Needs root (debootstrap), buildctl and a running buildkitd (scripts/buildkit.sh up).
set -euo pipefail
SLIPWAY_LOG_NAME=offline-base
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/daemon.sh
source "$HERE/lib/daemon.sh"
# shellcheck source=lib/node-rootfs.sh
source "$HERE/lib/node-rootfs.sh"
# shellcheck source=lib/go-rootfs.sh
source "$HERE/lib/go-rootfs.sh"

FLAVOUR=node
if [[ "${1:-}" == go ]]; then
    FLAVOUR=go
    shift
fi
REGISTRY="${1:-127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}}"
BUILDKIT="unix://$SLIPWAY_STATE_DIR/buildkit/buildkitd.sock"

registry_digest() { # registry_digest REPOSITORY TAG
    curl -fsS -I -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' \
        "http://$REGISTRY/v2/$1/manifests/$2" 2>/dev/null |
        tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}'
}

# push_rootfs DIR REPOSITORY TAG DESCRIPTION [DOCKERFILE LINE...]: DIR/rootfs as an image, pushed as REPOSITORY:TAG.
push_rootfs() {
    local dir="$1" repository="$2" tag="$3" description="$4"
    shift 4
    # No `# syntax=` line: BuildKit would pull a frontend image; the built-in Dockerfile frontend suffices.
    printf '%s\n' 'FROM scratch' 'COPY rootfs/ /' "$@" >"$dir/Dockerfile"
    buildctl --addr "$BUILDKIT" build --frontend dockerfile.v0 --local context="$dir" --local dockerfile="$dir" \
        --opt label:org.opencontainers.image.title="slipway-${repository#*/}" \
        --opt label:org.opencontainers.image.description="$description" \
        --opt label:org.opencontainers.image.version="$tag" \
        --output "type=image,name=$REGISTRY/$repository:$tag,push=true" >"$dir/build.log" 2>&1 || {
        tail -n 30 "$dir/build.log" >&2
        fail "buildctl build of $repository failed"
    }
}

# print_digests TAG REPOSITORY...: REGISTRY/REPOSITORY@digest for each, or fails naming the one it lacks.
print_digests() {
    local tag="$1" repository digest
    shift
    for repository in "$@"; do
        digest="$(registry_digest "$repository" "$tag")"
        [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "the registry at $REGISTRY serves no digest for $repository:$tag"
        echo "$REGISTRY/$repository@$digest"
    done
}

if [[ "$FLAVOUR" == go ]]; then
    TAG="$(go_rootfs_tag)"
    if [[ -z "$(registry_digest slipway/go-base "$TAG" || true)" || -z "$(registry_digest slipway/go-runtime "$TAG" || true)" ]]; then
        need_packages debootstrap
        work="$(mktemp -d /var/tmp/slipway-offline-base.XXXXXX)"
        trap 'rm -rf "$work"' EXIT
        say "building $REGISTRY/slipway/go-base:$TAG and slipway/go-runtime:$TAG from Debian bookworm (once; about 2 minutes)"
        mkdir -p "$work/base" "$work/runtime"
        go_rootfs "$work/base/rootfs" || fail "could not assemble the Go base's root filesystem"
        go_runtime_rootfs "$work/base/rootfs" "$work/runtime/rootfs" || fail "could not assemble the Go runtime base"
        push_rootfs "$work/base" slipway/go-base "$TAG" "Debian bookworm minbase and Debian's Go toolchain for offline builds" \
            'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["go", "version"]'
        push_rootfs "$work/runtime" slipway/go-runtime "$TAG" "A static binary's runtime base: passwd, CA bundle, /tmp" \
            'ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'
    fi
    print_digests "$TAG" slipway/go-base slipway/go-runtime
    exit 0
fi

TAG="$(node_rootfs_tag)"
if [[ -z "$(registry_digest slipway/node-base "$TAG" || true)" ]]; then
    need_packages debootstrap
    work="$(mktemp -d /var/tmp/slipway-offline-base.XXXXXX)"
    trap 'rm -rf "$work"' EXIT
    say "building $REGISTRY/slipway/node-base:$TAG from Debian bookworm and Node $(cut -d- -f1 <<<"$TAG") (once; about 2 minutes)"
    mkdir -p "$work/node"
    node_rootfs "$work/node/rootfs" || fail "could not assemble the root filesystem"
    push_rootfs "$work/node" slipway/node-base "$TAG" "Debian bookworm minbase, Node.js and npm for offline builds" \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \' \
        '    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' 'CMD ["node"]'
fi
print_digests "$TAG" slipway/node-base
