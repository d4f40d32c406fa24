#!/usr/bin/env bash
# Prints, one line each, the parts of this host that Slipway's node touches: its processes, mounts, iptables chains
# and rules, network links, kernel settings and pod cgroups. Two fingerprints, one before `cluster.sh up` and one
# after `cluster.sh down`, must be equal: `down` leaves the host as `up` found it.
set -uo pipefail
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
S="$SLIPWAY_STATE_DIR/node"

for pid in $(pgrep -f -- "$S/|containerd-shim-runc-v2 .*$S" 2>/dev/null); do
    [[ $pid == "$$" ]] || echo "process: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
done
pgrep -x 'pause|coredns' >/dev/null && echo "process: pod processes (pause/coredns) are running"
# Pod network namespaces are mounted under the state folder too (netns_mounts_under_state_dir).
awk -v s="$S" 'index($5, s) == 1 {print "mount: " $5 " (" $9 ")"}' /proc/self/mountinfo | sort
for table in filter nat mangle; do
    iptables -t "$table" -S 2>/dev/null | grep -E 'KUBE-|slipway' | sed "s/^/iptables $table: /"
done
ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^slipway0/ || /master slipway0/ {print "link: " $2}'
for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet vm.overcommit_memory \
    kernel.panic kernel.panic_on_oops; do
    echo "sysctl: $k=$(sysctl -n "$k" 2>/dev/null || echo unset)"
done
[[ -d /sys/module/br_netfilter ]] && echo "module: br_netfilter loaded"
ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null | sed 's/^/cgroup: /'
exit 0
