# shellcheck shell=bash
# The root filesystem of Slipway's offline Node 24 base image: Debian bookworm (minbase, from the mirror apt
# already uses), the Node.js binary the repo pins (npm's `node` package), npm at an exact version from the npm
# registry, and this machine's CA bundle, so that npm inside a container trusts the registry it reaches.
#
#   node_rootfs DIR     builds it into DIR (about 80 s, about 200 MB)
#   node_rootfs_tag     a tag naming what goes in: <node>-npm<npm>-bookworm
#
# Needs root, debootstrap, and `npm ci` at the repo root (for node_modules/node).

# shellcheck source=debian-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-rootfs.sh"

NODE_ROOTFS_NPM_VERSION="${NODE_ROOTFS_NPM_VERSION:-11.6.2}"
NODE_ROOTFS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

node_rootfs_node_binary() {
    local bin="$NODE_ROOTFS_REPO_ROOT/node_modules/.bin/node"
    [[ -e "$bin" ]] || {
        echo "node-rootfs: $bin is missing: run 'npm ci' at the repo root first" >&2
        return 1
    }
    readlink -f "$bin"
}

node_rootfs_tag() {
    local node
    node="$("$(node_rootfs_node_binary)" --version)" || return 1
    echo "${node#v}-npm${NODE_ROOTFS_NPM_VERSION}-bookworm"
}

node_rootfs() {
    local dir="$1" node pack
    node="$(node_rootfs_node_binary)" || return 1
    debian_rootfs "$dir" || return 1
    install -D -m 0755 "$node" "$dir/usr/local/bin/node"
    pack="$(mktemp -d)"
    (cd "$pack" && npm pack --silent "npm@$NODE_ROOTFS_NPM_VERSION" >/dev/null) || return 1
    mkdir -p "$dir/usr/local/lib/node_modules/npm"
    tar -xzf "$pack/npm-$NODE_ROOTFS_NPM_VERSION.tgz" -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1
    rm -rf "$pack"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
}
