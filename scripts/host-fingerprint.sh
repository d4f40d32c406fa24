#!/usr/bin/env bash
# Prints, one line each, the parts of this host that Slipway's node touches: its processes, mounts, iptables and
# ip6tables chains and rules, network links, kernel settings, pod cgroups and container log links. Two fingerprints,
# one before `cluster.sh up` and one after `cluster.sh down`, must be equal: `down` leaves the host as `up` found it.
#
#   scripts/host-fingerprint.sh                   the node's traces (its rules include the one that shuts the build
#                                                 network out, tagged slipway-node)
#   scripts/host-fingerprint.sh --build-network   BuildKit's build network instead: its bridge and veths, the CNI
#                                                 plugins' rules and chains, its namespaces and address reservations;
#                                                 the same before `buildkit.sh up` and after `buildkit.sh down`
set -uo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=lib/daemon.sh
source "$HERE/lib/daemon.sh"
# shellcheck source=lib/build-network.sh
source "$HERE/lib/build-network.sh"
S="$SLIPWAY_STATE_DIR/node"

if [[ "${1:-}" == --build-network ]]; then
    ip -o link show 2>/dev/null | awk -F': ' -v b="$BUILD_BRIDGE" '$2 == b || $0 ~ "master " b " " {print "link: " $2}'
    for table in filter nat; do
        iptables -t "$table" -S 2>/dev/null | grep -vF slipway-node |
            grep -E -e '^-N CNI-' -e "-j CNI-" -e "$BUILD_BRIDGE" -e "${BUILD_SUBNET%.*}\\." | sed "s/^/iptables $table: /"
    done
    awk -v s="$SLIPWAY_STATE_DIR/buildkit/" 'index($5, s) == 1 {print "mount: " $5 " (" $9 ")"}' /proc/self/mountinfo | sort
    # The node's pods have results of their own there (network slipway): only BuildKit's network (buildkit) counts.
    find /var/lib/cni/networks/buildkit /var/lib/cni/results -maxdepth 1 -mindepth 1 \( -path '*/networks/buildkit/*' -o -name 'buildkit-*' \) \
        2>/dev/null | sort | sed 's/^/cni: /'
    echo "sysctl: net.ipv4.ip_forward=$(sysctl -n net.ipv4.ip_forward 2>/dev/null || echo unset)"
    exit 0
fi

for pid in $(pgrep -f -- "$S/|containerd-shim-runc-v2 .*$S" 2>/dev/null); do
    [[ $pid == "$$" ]] || echo "process: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
done
pgrep -x 'pause|coredns' >/dev/null && echo "process: pod processes (pause/coredns) are running"
# Pod network namespaces are mounted under the state folder too (netns_mounts_under_state_dir).
awk -v s="$S" 'index($5, s) == 1 {print "mount: " $5 " (" $9 ")"}' /proc/self/mountinfo | sort
for ipt in iptables ip6tables; do
    for table in filter nat mangle; do
        "$ipt" -t "$table" -S 2>/dev/null | grep -E 'KUBE-|slipway' | sed "s/^/$ipt $table: /"
    done
done
find /var/log/containers -maxdepth 1 -type l -lname "$S/*" 2>/dev/null | sort | sed 's/^/log link: /'
ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^slipway0/ || /master slipway0/ {print "link: " $2}'
for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet vm.overcommit_memory \
    kernel.panic kernel.panic_on_oops; do
    echo "sysctl: $k=$(sysctl -n "$k" 2>/dev/null || echo unset)"
done
[[ -d /sys/module/br_netfilter ]] && echo "module: br_netfilter loaded"
ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null | sed 's/^/cgroup: /'
exit 0
