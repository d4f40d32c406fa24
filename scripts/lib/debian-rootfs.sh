# shellcheck shell=bash
# A Debian bookworm root filesystem from Debian packages only, for images built where no public registry answers:
# debootstrap minbase from the mirror apt already uses, any extra packages, and this machine's CA bundle. The Node
# base (node-rootfs.sh) and the Go example's build environment and runtime base (go-rootfs.sh) start from it.
#
#   debian_rootfs DIR [PACKAGE...]   builds it into DIR (about 80 s for minbase alone)
#   debian_rootfs_mirror             the mirror debootstrap uses
#   debian_rootfs_candidate PACKAGE  the version apt would install (for tags naming what goes in)
#
# Downloaded packages are kept in DEBIAN_ROOTFS_CACHE (debootstrap --cache-dir), so the second root filesystem
# built on a machine fetches only the packages the first one did not have.
# Needs root and debootstrap.

DEBIAN_ROOTFS_CACHE="${DEBIAN_ROOTFS_CACHE:-/var/cache/slipway-debootstrap}"

# The first bookworm mirror in apt's sources (deb822 or one-line format): debootstrap uses what apt uses.
debian_rootfs_mirror() {
    local mirror=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        mirror="$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' /etc/apt/sources.list.d/*.sources)"
    fi
    if [[ -z "$mirror" ]]; then
        mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1=="deb" && $3=="bookworm" {print $2; exit}')"
    fi
    echo "${mirror:-http://deb.debian.org/debian}"
}

debian_rootfs_candidate() {
    local version
    version="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
    [[ -n "$version" && "$version" != "(none)" ]] || {
        echo "debian-rootfs: apt knows no candidate for $1 (apt-get update?)" >&2
        return 1
    }
    echo "$version"
}

debian_rootfs() {
    local dir="$1" include=()
    shift
    command -v debootstrap >/dev/null || {
        echo "debian-rootfs: debootstrap is not installed (apt-get install debootstrap)" >&2
        return 1
    }
    if (($#)); then include=("--include=$(IFS=,; echo "$*")"); fi
    mkdir -p "$DEBIAN_ROOTFS_CACHE"
    debootstrap --variant=minbase "${include[@]}" --cache-dir="$DEBIAN_ROOTFS_CACHE" bookworm "$dir" \
        "$(debian_rootfs_mirror)" >"$dir.debootstrap.log" 2>&1 || {
        tail -n 30 "$dir.debootstrap.log" >&2
        return 1
    }
    rm -f "$dir.debootstrap.log"
    # minbase has no ca-certificates package: ship this machine's bundle.
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
    # Caches and device nodes are not image content (the runtime provides /dev).
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/dev/*
}
