# shellcheck shell=bash
# The root filesystem of Slipway's offline Node 24 base image: Debian bookworm (minbase, from the mirror apt
# already uses), the Node.js binary the repo pins (npm's `node` package), npm at an exact version from the npm
# registry, and this machine's CA bundle, so that npm inside a container trusts the registry it reaches.
#
#   node_rootfs DIR     builds it into DIR (about 80 s, about 200 MB)
#   node_rootfs_tag     a tag naming what goes in: <node>-npm<npm>-bookworm
#
# Needs root, debootstrap, and `npm ci` at the repo root (for node_modules/node).

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

# The first bookworm mirror in apt's sources (deb822 or one-line format): debootstrap uses what apt uses.
node_rootfs_mirror() {
    local mirror=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        mirror="$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' /etc/apt/sources.list.d/*.sources)"
    fi
    if [[ -z "$mirror" ]]; then
        mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1=="deb" && $3=="bookworm" {print $2; exit}')"
    fi
    echo "${mirror:-http://deb.debian.org/debian}"
}

node_rootfs() {
    local dir="$1" node pack
    node="$(node_rootfs_node_binary)" || return 1
    command -v debootstrap >/dev/null || {
        echo "node-rootfs: debootstrap is not installed (apt-get install debootstrap)" >&2
        return 1
    }
    debootstrap --variant=minbase bookworm "$dir" "$(node_rootfs_mirror)" >"$dir.debootstrap.log" 2>&1 || {
        tail -n 30 "$dir.debootstrap.log" >&2
        return 1
    }
    rm -f "$dir.debootstrap.log"
    install -D -m 0755 "$node" "$dir/usr/local/bin/node"
    pack="$(mktemp -d)"
    (cd "$pack" && npm pack --silent "npm@$NODE_ROOTFS_NPM_VERSION" >/dev/null) || return 1
    mkdir -p "$dir/usr/local/lib/node_modules/npm"
    tar -xzf "$pack/npm-$NODE_ROOTFS_NPM_VERSION.tgz" -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1
    rm -rf "$pack"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
    # minbase has no ca-certificates package: ship this machine's bundle.
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
    # Caches and device nodes are not image content (the runtime provides /dev).
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/dev/*
}
