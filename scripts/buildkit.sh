#!/usr/bin/env bash
# The local stack's image builder: a BuildKit daemon on this machine, registered with buildx as the "remote"
# builder `slipway`, which Pulumi.local.yaml names (build.builder).
#
#   scripts/buildkit.sh up | down | status
#
# Why not a docker-container builder: it runs the moby/buildkit image, which an offline machine cannot pull; and
# docker-build refuses Docker's built-in "docker" driver. A remote builder is plain buildx configuration.
# Needs buildkitd and buildctl on PATH (scripts/toolchain.sh engine), runc and iptables (Debian packages, installed if
# missing); the CNI plugins come from scripts/toolchain.sh cni (built once, cached).
#
# RUN steps run in a network namespace of their own on BuildKit's CNI bridge (scripts/lib/build-network.sh), never
# on the host's network: a build step reaches the npm registry through the host's NAT, and not the host's loopback,
# where etcd and the registry listen. buildkitd itself (pulls, pushes, the cache) stays on the host and reaches the
# registry on 127.0.0.1. `down` takes the build network away with the daemon.
#
# Env: SLIPWAY_BUILDER (default slipway), SLIPWAY_REGISTRY_PORT (default 5001: pushed to over plain HTTP),
#      DOCKER_CONFIG (where buildx keeps builders; default ~/.docker), SLIPWAY_STATE_DIR.
set -euo pipefail
SLIPWAY_LOG_NAME=buildkit
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/daemon.sh
source "$HERE/lib/daemon.sh"
# shellcheck source=lib/build-network.sh
source "$HERE/lib/build-network.sh"

BUILDER="${SLIPWAY_BUILDER:-slipway}"
DIR="$SLIPWAY_STATE_DIR/buildkit"
SOCKET="unix://$DIR/buildkitd.sock"
INSTANCE="${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances/$BUILDER"

answers() { buildctl --addr "$SOCKET" debug workers >/dev/null 2>&1; }

up() {
    command -v buildkitd >/dev/null || fail "buildkitd is not on PATH: eval \"\$(scripts/toolchain.sh engine)\" first"
    # Ours, started before builds had a network of their own, would go on running them on the host's: restart it.
    local workers
    if workers="$(buildctl --addr "$SOCKET" debug workers -v 2>/dev/null)" && ! grep -qE 'worker\.network:[[:space:]]+cni$' <<<"$workers"; then
        say "buildkitd runs build steps on the host's network: restarting it with their own"
        down
    fi
    if ! answers; then
        command -v runc >/dev/null || need_packages runc
        command -v iptables >/dev/null || need_packages iptables
        local tools_env
        tools_env="$(SLIPWAY_TOOLCHAIN_QUIET=1 "$HERE/toolchain.sh" cni)"
        eval "$tools_env"
        mkdir -p "$DIR"
        # The CNI bridge plugin turns IP forwarding on for its gateway; `down` puts back what it was (net.ipv4.ip_forward).
        [[ -f "$DIR/host-settings" ]] || cp /proc/sys/net/ipv4/ip_forward "$DIR/host-settings"
        [[ -d /var/lib/cni ]] || touch "$DIR/made-var-lib-cni"
        # No insecure-entitlements: a Dockerfile's `RUN --network=host` is refused, so the bridge is the only network.
        # A small namespace pool: each one costs a CNI setup (a few iptables calls) when the daemon starts.
        cat >"$DIR/buildkitd.toml" <<EOF
root = "$DIR/root"
[grpc]
  address = ["$SOCKET"]
[worker.oci]
  enabled = true
  gc = true
  gckeepstorage = "10GB"
  networkMode = "bridge"
  cniBinaryPath = "$SLIPWAY_CNI_BIN"
  cniPoolSize = 4
  bridgeName = "$BUILD_BRIDGE"
  bridgeSubnet = "$BUILD_SUBNET"
[worker.containerd]
  enabled = false
[registry."127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}"]
  http = true
EOF
        daemon_start "$DIR" buildkitd "$(command -v buildkitd)" --config "$DIR/buildkitd.toml"
        DAEMON_WATCH="$DIR:buildkitd" wait_until "buildkitd on $SOCKET" 60 answers
    fi
    # The builder as `docker buildx create --driver remote` would record it; docker-build reads buildx's store.
    mkdir -p "$(dirname "$INSTANCE")"
    printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"%s","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}\n' \
        "$BUILDER" "$BUILDER" "$SOCKET" >"$INSTANCE"
    say "buildkitd $(buildkitd --version | awk '{print $3}') ready at $SOCKET; buildx builder '$BUILDER' points at it"
}

down() {
    # On SIGTERM buildkitd releases its namespaces (CNI DEL: addresses, NAT and firewall rules) and its bridge.
    daemon_stop "$DIR" buildkitd 30
    remove_build_network
    # Only our own registration: a builder of that name that points elsewhere is the user's.
    if [[ -f "$INSTANCE" ]] && grep -qF "\"$SOCKET\"" "$INSTANCE"; then rm -f "$INSTANCE"; fi
}

# What is left when buildkitd could not clean up (killed), and what the CNI plugins never remove: the firewall
# plugin's chains, host-local's folder, the forwarding switch. Chains other CNI networks still use stay.
remove_build_network() {
    local table rule chain m nat_chains
    awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    ip link show "$BUILD_BRIDGE" >/dev/null 2>&1 && ip link delete "$BUILD_BRIDGE"
    # Each namespace's NAT chain (CNI-<hash>) is known by its rule that accepts our subnet.
    nat_chains="$(iptables -t nat -S 2>/dev/null | sed -n "s|^-A \(CNI-[0-9a-f]*\) -d ${BUILD_SUBNET//./\\.} .*|\1|p" | sort -u)"
    for table in filter nat; do
        # Rules about our bridge or subnet; the node's own (slipway-node) are cluster.sh's to remove.
        iptables -t "$table" -S 2>/dev/null | grep -E '^-A ' | grep -vF slipway-node |
            grep -F -e "$BUILD_BRIDGE" -e "${BUILD_SUBNET%.*}." | while read -r rule; do
            eval iptables -t "$table" "${rule/#-A/-D}" 2>/dev/null || true
        done || true
    done
    for chain in $nat_chains; do
        iptables -t nat -F "$chain" 2>/dev/null && iptables -t nat -X "$chain" 2>/dev/null || true
    done
    # The firewall plugin's chains, once nothing but their own skeleton is left in them.
    for chain in CNI-ISOLATION-STAGE-1 CNI-ISOLATION-STAGE-2 CNI-FORWARD CNI-ADMIN; do
        iptables -S "$chain" >/dev/null 2>&1 || continue
        iptables -S "$chain" | grep -E '^-A ' | grep -qvE -- '-j (RETURN|CNI-ADMIN|CNI-ISOLATION-STAGE-2)$' && continue
        iptables -S 2>/dev/null | grep -E "^-A .* -j $chain( |$)" | while read -r rule; do
            eval iptables "${rule/#-A/-D}" 2>/dev/null || true
        done || true
        iptables -F "$chain" && iptables -X "$chain" 2>/dev/null || true
    done
    # host-local's reservations (one file per address) are gone after CNI DEL; its folder stays otherwise.
    [[ -z "$(find /var/lib/cni/networks/buildkit -mindepth 1 -regex '.*/[0-9.]+' 2>/dev/null)" ]] &&
        rm -rf /var/lib/cni/networks/buildkit /var/lib/cni/results/buildkit-*
    if [[ -f "$DIR/made-var-lib-cni" ]]; then
        rmdir /var/lib/cni/networks /var/lib/cni/results /var/lib/cni 2>/dev/null || true
        rm -f "$DIR/made-var-lib-cni"
    fi
    if [[ -f "$DIR/host-settings" ]]; then
        local forward
        forward="$(<"$DIR/host-settings")"
        echo "${forward##*=}" >/proc/sys/net/ipv4/ip_forward 2>/dev/null || true # also a first version's key=value
        rm -f "$DIR/host-settings"
    fi
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
