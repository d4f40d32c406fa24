#!/usr/bin/env bash
# A Kubernetes cluster for the local stack and the end-to-end tests.
#
#   scripts/cluster.sh up [--context NAME | --own-node]
#                                            print `export …` lines for the cluster to use (stdout), starting
#                                            Slipway's own node when there is no local cluster (or when asked)
#   scripts/cluster.sh down                  stop exactly what `up` started; the host is left as it was found
#   scripts/cluster.sh status                what runs, exit 1 when the node is not Ready
#
# `up` picks, in order:
#   1. the context named by --context (you take responsibility for it being a throw-away cluster);
#   2. the current kube context when it is a local cluster: kind-*, k3d-*, minikube, docker-desktop, rancher-desktop;
#   3. on Linux as root: Slipway's own single node, from the pinned components of toolchain/versions.env
#      (etcd, kube-apiserver, controller-manager, scheduler, kubelet, containerd + Debian's runc, kube-proxy,
#      CoreDNS), all state under $SLIPWAY_STATE_DIR/node;
#   4. otherwise it fails and says how to start kind.
#
# The node's network is its own: a bridge (slipway0, 10.244.0.1/24) carries the pods and the node's address, so the
# API server, the kubelet and every pod live on addresses this script made. NodePorts are served on 127.0.0.1
# only (kube-proxy nodePortAddresses), which is where tests send traffic. Pods pull from the registry on
# 127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001} over plain HTTP, as a real node pulls; only the pause image is imported.
#
# Locked down the way kubeadm sets a control plane up: etcd speaks TLS and wants a client certificate on its client
# and peer URLs (from a CA of its own, so no certificate the cluster CA signs, the kubelet's or a CSR's, opens it),
# Secrets are encrypted at rest (secretbox), and BuildKit's build network is shut out of this host's addresses.
set -euo pipefail
SLIPWAY_LOG_NAME=cluster
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/daemon.sh
source "$HERE/lib/daemon.sh"
# shellcheck source=lib/oci.sh
source "$HERE/lib/oci.sh"
# shellcheck source=lib/build-network.sh
source "$HERE/lib/build-network.sh"

S="$SLIPWAY_STATE_DIR/node"
PKI="$S/pki"
RUN="$S/run"            # pid files and logs of the node's processes
CD="$S/containerd"
KUBECONFIG_FILE="$S/admin.kubeconfig"
# Made once and kept across restarts and new certificates: without its key the Secrets in etcd are unreadable.
ENCRYPTION_CONFIG="$S/encryption-config.yaml"
# What .complete in the PKI folder says. A folder that says anything else (an empty marker: a node made before etcd
# had certificates) is made again, so an older node's state starts with every certificate this script passes.
PKI_LAYOUT="pki 2: etcd CA, etcd server and peer, apiserver-etcd-client"
CONTEXT=slipway
NODE_NAME=slipway
BRIDGE=slipway0
NODE_IP=10.244.0.1      # the bridge's own address: API server, kubelet and the node's InternalIP live here
# The API server reaches the kubelet (kubectl logs, exec, port-forward) by that InternalIP: the node's name is in no DNS.
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/24
DNS_IP=10.96.0.10
REGISTRY="127.0.0.1:${SLIPWAY_REGISTRY_PORT:-5001}"
LOCAL_CONTEXTS='^(kind-.*|k3d-.*|minikube|docker-desktop|rancher-desktop)$'
# Host settings the node changes; `up` records their values first and `down` puts them back.
SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet
    vm.overcommit_memory kernel.panic kernel.panic_on_oops)
KUBE_CHAINS='KUBE-[A-Z0-9-]*'
T0=$SECONDS

K() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }
node_ready() {
    [[ "$(K get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
since() { echo "$((SECONDS - T0)) s"; }

# ---------------------------------------------------------------------------------------------------- choosing
choose() {
    local context="${1:-}"
    if [[ "$context" == --own-node ]]; then
        [[ "$(uname -s)" == Linux && $(id -u) == 0 ]] || fail "Slipway's own node needs root on Linux"
        start_node
        node_exports
        return 0
    fi
    if [[ -n "$context" ]]; then
        kubectl config get-contexts "$context" >/dev/null 2>&1 || fail "no kube context named $context"
        printf 'export SLIPWAY_KUBE_CONTEXT=%q\n' "$context"
        return 0
    fi
    if [[ -f "$KUBECONFIG_FILE" ]] && daemon_pid "$RUN" kube-apiserver >/dev/null && node_ready; then
        node_exports
        return 0
    fi
    context="$(kubectl config current-context 2>/dev/null || true)"
    if [[ "$context" =~ $LOCAL_CONTEXTS ]]; then
        say "using the current kube context $context (a local cluster)"
        printf 'export SLIPWAY_KUBE_CONTEXT=%q\n' "$context"
        return 0
    fi
    if [[ -n "$context" ]]; then
        say "the current kube context, $context, is not a local cluster: not using it (pass --context $context to use it)"
    fi
    if [[ "$(uname -s)" != Linux || $(id -u) != 0 ]]; then
        fail "no local cluster. Start one with kind (https://kind.sigs.k8s.io):
    kind create cluster --name slipway
  then run this again; or run as root on Linux to get Slipway's own node."
    fi
    start_node
    node_exports
}

node_exports() {
    "$HERE/toolchain.sh" node # kubectl of the node's own version on PATH (cached: instant)
    printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
    printf 'export SLIPWAY_KUBE_CONTEXT=%q\n' "$CONTEXT"
}

# ---------------------------------------------------------------------------------------------------- the node
start_node() {
    need_packages runc iptables openssl curl conntrack kmod
    if [[ -z "${SLIPWAY_CNI_BIN:-}" ]]; then
        local tools_env
        tools_env="$("$HERE/toolchain.sh" node)"
        eval "$tools_env"
    fi
    # host-settings exists from our node's start until `down` restores the host: with it there and our kube-proxy
    # gone, our node stopped without a `down` (killed, crashed, the machine restarted). What it left (processes of
    # a partial crash, chains, the bridge, mounts) is ours: clear it as `down` would, then start from clean.
    # While another kube-proxy or kubelet runs (another cluster, or a node of another state folder: the bridge has
    # one name), the chains and the bridge may be theirs: clear nothing, and let the check below refuse.
    if ! daemon_pid "$RUN" kube-proxy >/dev/null && [[ -f "$S/host-settings" ]] && ! foreign_node_agents; then
        say "the node stopped without a down (killed, crashed, or the machine restarted): clearing what it left, then starting it again"
        stop_node
    fi
    # Two kube-proxies on one host rewrite each other's chains: refuse rather than fight.
    if ! daemon_pid "$RUN" kube-proxy >/dev/null && iptables -t nat -S KUBE-SERVICES >/dev/null 2>&1; then
        fail "iptables already has kube-proxy's chains (KUBE-SERVICES): another node runs on this host, or ours was not
  stopped cleanly. Stop the other node, or run: scripts/cluster.sh down"
    fi
    record_host_settings
    certificates
    encryption_config
    for user in admin controller-manager scheduler kubelet kube-proxy; do kubeconfig "$user"; done
    network
    etcd_and_apiserver
    controllers
    container_runtime
    kubelet_and_proxy
    dns
    say "node $NODE_NAME Ready with DNS in $(since) (kubeconfig: $KUBECONFIG_FILE)"
    echo "$(since)" >"$S/ready-seconds"
}

# foreign_node_agents: true when a kube-proxy or kubelet runs on this host that is not this node's own.
foreign_node_agents() {
    local name pid ours
    for name in kube-proxy kubelet; do
        ours="$(daemon_pid "$RUN" "$name" || true)"
        for pid in $(pgrep -x "$name" || true); do
            [[ "$pid" == "$ours" ]] || return 0
        done
    done
    return 1
}

record_host_settings() {
    mkdir -p "$S" "$RUN"
    [[ -f "$S/host-settings" ]] && return 0 # a restart keeps the values found before the first start
    {
        # Built into some kernels (the sysctl exists, no module to load), a module on others.
        if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then echo "module.br_netfilter=present"; else
            echo "module.br_netfilter=unset"
            modprobe br_netfilter || fail "the kernel has no br_netfilter: Services would not reach pods on the bridge"
        fi
        local k
        for k in "${SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k" 2>/dev/null || echo unset)"; done
    } >"$S/host-settings.tmp"
    mv "$S/host-settings.tmp" "$S/host-settings"
}

certificates() {
    [[ "$(cat "$PKI/.complete" 2>/dev/null)" == "$PKI_LAYOUT" ]] && return 0
    [[ -f "$PKI/.complete" ]] && say "the node's certificates predate '$PKI_LAYOUT': making them again"
    rm -rf "$PKI"
    mkdir -p "$PKI"
    # P-256 keys: instant, where RSA-2048 for ten certificates costs seconds on a busy machine.
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null; }
    ca() { # NAME COMMON-NAME
        key "$1"
        openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -out "$PKI/$1.crt" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    }
    cert() { # CA NAME SUBJECT EXTENDED-USAGE [SUBJECT-ALT-NAMES]
        key "$2"
        openssl req -new -key "$PKI/$2.key" -subj "$3" 2>/dev/null |
            openssl x509 -req -CA "$PKI/$1.crt" -CAkey "$PKI/$1.key" -CAcreateserial -days 3650 -out "$PKI/$2.crt" \
                -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s' "$4" "${5:+subjectAltName=$5}") 2>/dev/null
    }
    ca ca slipway-node-ca
    local svc_ip="${SERVICE_CIDR%.*/*}.1"
    cert ca apiserver /CN=kube-apiserver serverAuth \
        "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$NODE_IP,IP:$svc_ip"
    cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    cert ca admin "/O=system:masters/CN=slipway-admin" clientAuth
    cert ca controller-manager /CN=system:kube-controller-manager clientAuth
    cert ca scheduler /CN=system:kube-scheduler clientAuth
    cert ca kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
    cert ca kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP"
    cert ca kube-proxy /CN=system:kube-proxy clientAuth
    # etcd trusts a CA of its own: the controller-manager signs approved CSRs with the cluster CA, and such a
    # certificate must not open etcd. The API server is etcd's one client.
    ca etcd-ca slipway-etcd-ca
    cert etcd-ca etcd-server /CN=slipway-etcd serverAuth,clientAuth "DNS:localhost,IP:127.0.0.1"
    cert etcd-ca etcd-peer /CN=slipway-etcd-peer serverAuth,clientAuth "DNS:localhost,IP:127.0.0.1"
    cert etcd-ca apiserver-etcd-client /CN=kube-apiserver-etcd-client clientAuth
    key service-accounts
    openssl pkey -in "$PKI/service-accounts.key" -pubout -out "$PKI/service-accounts.pub" 2>/dev/null
    chmod 600 "$PKI"/*.key
    echo "$PKI_LAYOUT" >"$PKI/.complete"
}

# Secrets encrypted at rest with a random 32-byte key. identity comes last so that Secrets an older node wrote in
# plain text stay readable (each is encrypted when next written).
encryption_config() {
    [[ -f "$ENCRYPTION_CONFIG" ]] && return 0
    (
        umask 077
        cat >"$ENCRYPTION_CONFIG.tmp" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - secretbox:
      keys:
      - name: key1
        secret: $(head -c 32 /dev/urandom | base64 -w0)
  - identity: {}
EOF
    )
    mv "$ENCRYPTION_CONFIG.tmp" "$ENCRYPTION_CONFIG"
}

kubeconfig() {
    local file="$S/$1.kubeconfig"
    [[ "$1" == admin ]] && file="$KUBECONFIG_FILE"
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster: {certificate-authority: $PKI/ca.crt, server: "https://$NODE_IP:6443"}
users:
- name: $1
  user: {client-certificate: $PKI/$1.crt, client-key: $PKI/$1.key}
contexts:
- name: $CONTEXT
  context: {cluster: $CONTEXT, user: $1}
current-context: $CONTEXT
EOF
    chmod 600 "$file"
}

network() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$NODE_IP/24" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    sysctl -qw net.ipv4.ip_forward=1
    sysctl -qw net.bridge.bridge-nf-call-iptables=1
    # A Docker engine sets the FORWARD policy to DROP; with br_netfilter even pod-to-pod traffic on our bridge
    # passes FORWARD. Accept the pod network, tagged so `down` removes exactly these rules.
    local dir
    for dir in -s -d; do
        iptables -C FORWARD "$dir" "$POD_CIDR" -m comment --comment slipway-node -j ACCEPT 2>/dev/null ||
            iptables -I FORWARD 1 "$dir" "$POD_CIDR" -m comment --comment slipway-node -j ACCEPT
    done
    # No masquerading: pods have no way off this machine, which is what an offline test node wants.
    #
    # BuildKit's RUN steps have a network namespace of their own, so the host's loopback (etcd, the registry) is not
    # theirs; but their default route is this host, which answers on each of its addresses: 10.244.0.1 (the API
    # server, the kubelet), and 127.0.0.1 too for a crafted packet once kube-proxy sets route_localnet. Refuse the
    # build network every address of this host. Its DNS server and the npm registry are elsewhere: still reachable.
    iptables -C INPUT -s "$BUILD_SUBNET" -m addrtype --dst-type LOCAL -m comment --comment slipway-node -j REJECT 2>/dev/null ||
        iptables -I INPUT 1 -s "$BUILD_SUBNET" -m addrtype --dst-type LOCAL -m comment --comment slipway-node -j REJECT
    # And the pods, directly or through a Service's DNAT. In mangle, which the kernel runs before filter: BuildKit's
    # CNI firewall plugin puts its ACCEPT for the build network first in filter's FORWARD when it starts after us.
    iptables -t mangle -C FORWARD -s "$BUILD_SUBNET" -d "$POD_CIDR" -m comment --comment slipway-node -j DROP 2>/dev/null ||
        iptables -t mangle -I FORWARD 1 -s "$BUILD_SUBNET" -d "$POD_CIDR" -m comment --comment slipway-node -j DROP
}

etcd_and_apiserver() {
    local bin
    bin="$(dirname "$(command -v kube-apiserver)")"
    # Health and metrics stay plain HTTP on loopback (2381): they carry no key and no value.
    daemon_start "$RUN" etcd "$(command -v etcd)" --name "$NODE_NAME" --data-dir "$S/etcd" \
        --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
        --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
        --client-cert-auth --trusted-ca-file "$PKI/etcd-ca.crt" \
        --listen-peer-urls https://127.0.0.1:2380 --initial-advertise-peer-urls https://127.0.0.1:2380 \
        --peer-cert-file "$PKI/etcd-peer.crt" --peer-key-file "$PKI/etcd-peer.key" \
        --peer-client-cert-auth --peer-trusted-ca-file "$PKI/etcd-ca.crt" \
        --initial-cluster "$NODE_NAME=https://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 --log-level warn
    DAEMON_WATCH="$RUN:etcd" wait_until etcd 60 curl -fsS http://127.0.0.1:2381/health
    # A node made before etcd had TLS recorded its member's peer URL as http://, and the membership (not the flags)
    # is what etcd advertises on a data folder it already has: correct it once.
    local tls=(--cacert "$PKI/etcd-ca.crt" --cert "$PKI/apiserver-etcd-client.crt" --key "$PKI/apiserver-etcd-client.key") member
    member="$(curl -fsS "${tls[@]}" -X POST -d '{}' https://127.0.0.1:2379/v3/cluster/member/list)"
    if [[ "$member" == *'"peerURLs":["http://'* ]]; then
        curl -fsS "${tls[@]}" -X POST https://127.0.0.1:2379/v3/cluster/member/update >/dev/null \
            -d "{\"ID\":\"$(sed -n 's/.*"members":\[{"ID":"\([0-9]*\)".*/\1/p' <<<"$member")\",\"peerURLs\":[\"https://127.0.0.1:2380\"]}"
        say "etcd's member now advertises https://127.0.0.1:2380 (it was made before etcd had TLS)"
    fi
    daemon_start "$RUN" kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers https://127.0.0.1:2379 --etcd-cafile "$PKI/etcd-ca.crt" \
        --etcd-certfile "$PKI/apiserver-etcd-client.crt" --etcd-keyfile "$PKI/apiserver-etcd-client.key" \
        --encryption-provider-config "$ENCRYPTION_CONFIG" \
        --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
        --service-cluster-ip-range "$SERVICE_CIDR" --client-ca-file "$PKI/ca.crt" \
        --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
        --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
        --kubelet-certificate-authority "$PKI/ca.crt" \
        --kubelet-preferred-address-types InternalIP,Hostname \
        --service-account-key-file "$PKI/service-accounts.pub" --service-account-signing-key-file "$PKI/service-accounts.key" \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --profiling=false --v=1
    DAEMON_WATCH="$RUN:etcd $RUN:kube-apiserver" wait_until kube-apiserver 120 K get --raw /readyz
    say "API server ready ($(since))"
}

controllers() {
    local bin
    bin="$(dirname "$(command -v kube-apiserver)")"
    daemon_start "$RUN" kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$S/controller-manager.kubeconfig" \
        --authentication-kubeconfig "$S/controller-manager.kubeconfig" --authorization-kubeconfig "$S/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
        --service-account-private-key-file "$PKI/service-accounts.key" --root-ca-file "$PKI/ca.crt" \
        --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
        --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 \
        --profiling=false --v=1
    daemon_start "$RUN" kube-scheduler "$bin/kube-scheduler" --kubeconfig "$S/scheduler.kubeconfig" \
        --authentication-kubeconfig "$S/scheduler.kubeconfig" --authorization-kubeconfig "$S/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v=1
}

container_runtime() {
    local sandbox="slipway.local/pause:$(basename "$(dirname "$SLIPWAY_PAUSE_BIN")")"
    mkdir -p "$CD/certs.d/$REGISTRY" "$S/cni/net.d"
    # The loopback registry over plain HTTP, for pulls the way any node pulls (by digest, no import).
    printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$REGISTRY" "$REGISTRY" \
        >"$CD/certs.d/$REGISTRY/hosts.toml"
    cat >"$S/cni/net.d/10-slipway.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "slipway",
 "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$S/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
    # Traps this config avoids, each found the hard way on these machines:
    # - restrict_oom_score_adj: without CAP_SYS_RESOURCE every sandbox fails ("can't get final child's PID");
    # - netns_mounts_under_state_dir and a runc root of our own: two containerds (Docker's) stay apart;
    # - the sandbox image is pinned: it was imported and can never be pulled again.
    cat >"$CD/config.toml" <<EOF
version = 3
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.nri.v1.nri"]
[grpc]
  address = "$CD/containerd.sock"
[ttrpc]
  address = "$CD/containerd.sock.ttrpc"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "$CD/certs.d"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$sandbox"
[plugins."io.containerd.cri.v1.runtime"]
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$CD/runc"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$SLIPWAY_CNI_BIN"]
    conf_dir = "$S/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
EOF
    daemon_start "$RUN" containerd "$(command -v containerd)" --config "$CD/config.toml"
    DAEMON_WATCH="$RUN:containerd" wait_until containerd 60 ctr --address "$CD/containerd.sock" version
    if ! ctr --address "$CD/containerd.sock" -n k8s.io images check "name==$sandbox" 2>/dev/null | grep -q complete; then
        local work
        work="$(mktemp -d)"
        oci_image "$work" pause "$SLIPWAY_PAUSE_BIN" >/dev/null
        oci_layout_tar "$work" "$sandbox" "$work/pause.tar"
        ctr --address "$CD/containerd.sock" -n k8s.io images import "$work/pause.tar" >/dev/null
        rm -rf "$work"
    fi
}

kubelet_and_proxy() {
    local bin
    bin="$(dirname "$(command -v kube-apiserver)")"
    cat >"$S/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $PKI/ca.crt}}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
containerRuntimeEndpoint: unix://$CD/containerd.sock
# cgroup v1 hosts: the kubelet refuses them unless told, and only the cgroupfs driver works without systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
podLogsDir: $S/pod-logs
serializeImagePulls: false
# The imported pause image can never be pulled again: image GC must not collect it.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
EOF
    # The shim finds runc and containerd-shim-runc-v2 on PATH.
    daemon_start "$RUN" kubelet "$bin/kubelet" --config "$S/kubelet.yaml" --kubeconfig "$S/kubelet.kubeconfig" \
        --root-dir "$S/kubelet" --cert-dir "$S/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1
    DAEMON_WATCH="$RUN:kubelet $RUN:containerd $RUN:kube-apiserver" wait_until "node $NODE_NAME Ready" 120 node_ready
    # kube-proxy exits when its config file changes under it, even to the same content: write it once.
    [[ -f "$S/kube-proxy.yaml" ]] || cat >"$S/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $S/kube-proxy.kubeconfig}
mode: iptables
# NodePorts on loopback only: the host reaches Services at 127.0.0.1:<nodePort>, nothing else does.
nodePortAddresses: [127.0.0.0/8]
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack limits and timeouts as they are.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
    daemon_start "$RUN" kube-proxy "$bin/kube-proxy" --config "$S/kube-proxy.yaml" --v=1
    DAEMON_WATCH="$RUN:kube-proxy" wait_until kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz
}

dns() {
    local work digest
    if ! digest="$(K -n kube-system get deploy coredns -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null)" ||
        [[ -z "$digest" ]]; then
        "$HERE/registry.sh" up
        work="$(mktemp -d)"
        oci_image "$work" coredns "$SLIPWAY_COREDNS_BIN" >/dev/null
        digest="$(oci_push "$work" "$REGISTRY" slipway/coredns "$(basename "$(dirname "$SLIPWAY_COREDNS_BIN")")")"
        rm -rf "$work"
        [[ "$digest" == sha256:* ]] || fail "pushing CoreDNS to $REGISTRY failed"
        sed -e "s|@IMAGE@|$REGISTRY/slipway/coredns@$digest|" -e "s|@DNS_IP@|$DNS_IP|" "$HERE/cluster/coredns.yaml" |
            K apply -f - >/dev/null
    fi
    K -n kube-system rollout status deploy/coredns --timeout=120s >/dev/null || fail "CoreDNS did not become ready"
}

# ---------------------------------------------------------------------------------------------------- stopping
stop_node() {
    [[ -d "$S" ]] || {
        say "no node under $S"
        return 0
    }
    # crictl and ctr come with the node's toolchain, which a fresh shell does not have on PATH (cached: instant).
    local tools_env
    tools_env="$("$HERE/toolchain.sh" node)"
    eval "$tools_env"
    # Agents first, so nothing restarts pods while they are removed.
    daemon_stop "$RUN" kube-proxy
    daemon_stop "$RUN" kubelet
    local sock="$CD/containerd.sock" id
    if daemon_pid "$RUN" containerd >/dev/null; then
        # Through CRI, so each sandbox's network (veth, netns, IP) is torn down by the CNI plugins.
        local crictl=(crictl --config /dev/null --runtime-endpoint "unix://$sock" --timeout 30s)
        for id in $("${crictl[@]}" pods -q 2>/dev/null); do
            "${crictl[@]}" stopp "$id" >/dev/null 2>&1 || true
            "${crictl[@]}" rmp -f "$id" >/dev/null 2>&1 || true
        done
        for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
            ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
            ctr --address "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
        done
    fi
    daemon_stop "$RUN" kube-scheduler
    daemon_stop "$RUN" kube-controller-manager
    daemon_stop "$RUN" containerd
    # Shims outlive containerd by design; ours are the ones that talk to our socket.
    pkill -TERM -f "containerd-shim-runc-v2 .*-address $sock( |$)" 2>/dev/null || true
    daemon_stop "$RUN" kube-apiserver
    daemon_stop "$RUN" etcd
    restore_host
}

restore_host() {
    # Our own rules (tagged slipway-node), always. kube-proxy's and the kubelet's chains (KUBE-SERVICES,
    # KUBE-FIREWALL, canaries, …) carry no tag, so every KUBE-* chain goes, but only while host-settings says our
    # node ran since the last restore: start_node writes that file only after refusing a host where another
    # kube-proxy's chains exist, so until this restore every KUBE-* chain is our kubelet's or kube-proxy's. A `down`
    # with no such run behind it (and k3s or kubeadm started on this host since) leaves theirs alone.
    local ipt table rule chain kube=""
    [[ -f "$S/host-settings" ]] && kube="-j $KUBE_CHAINS( |\$)|"
    # The kubelet and kube-proxy make their chains in both families (IPv6 too, where the kernel has it).
    for ipt in iptables ip6tables; do
        for table in filter nat mangle; do
            { "$ipt" -t "$table" -S 2>/dev/null | grep -E -- "$kube--comment \"?slipway-node" |
                grep -E '^-A ' | grep -vE "^-A $KUBE_CHAINS " || true; } |
                while read -r rule; do eval "$ipt" -t "$table" "${rule/#-A/-D}" 2>/dev/null || true; done
            [[ -n "$kube" ]] || continue
            for chain in $("$ipt" -t "$table" -S 2>/dev/null | sed -n "s/^-N \($KUBE_CHAINS\)$/\1/p"); do
                "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
            done
            for chain in $("$ipt" -t "$table" -S 2>/dev/null | sed -n "s/^-N \($KUBE_CHAINS\)$/\1/p"); do
                "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
            done
        done
    done
    # The kubelet links each container's log into /var/log/containers (a path it does not let us move): the links
    # into this node's state are ours, and dangle once it is gone.
    find /var/log/containers -maxdepth 1 -type l -lname "$S/*" -delete 2>/dev/null || true
    ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" && say "deleted bridge $BRIDGE"
    # Leftover pod interfaces would have gone with their namespaces; the kubelet's pod cgroups stay empty behind.
    local h
    # A cgroup that will not go (a process still in it) is said, and the rest of the restore still runs.
    for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
        if [[ -d "$h" ]] && ! find "$h" -depth -type d -exec rmdir {} + 2>/dev/null; then
            say "warning: some pod cgroups under $h are still in use: $(find "$h" -mindepth 1 -type d | head -3 | tr '\n' ' ')"
        fi
    done
    # Mounts under the state folder (pod volumes, netns, overlay snapshots), deepest first.
    awk -v s="$S/" 'index($5, s) == 1 || $5 == substr(s, 1, length(s) - 1) {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if [[ -f "$S/host-settings" ]]; then
        local kv
        while IFS= read -r kv; do
            case "$kv" in
            module.br_netfilter=unset) modprobe -r br_netfilter 2>/dev/null || true ;; # unless Docker uses it now
            module.* | *=unset) ;;
            *) sysctl -qw "$kv" 2>/dev/null || true ;;
            esac
        done <"$S/host-settings"
        rm -f "$S/host-settings"
        say "host settings restored"
    fi
}

status() {
    local name ok=0
    for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
        if pid="$(daemon_pid "$RUN" "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
    done
    if [[ -f "$KUBECONFIG_FILE" ]] && node_ready; then
        echo "node $NODE_NAME: Ready ($(K get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}'))"
    else
        echo "node $NODE_NAME: not Ready"
        ok=1
    fi
    return $ok
}

# One start or stop of the node at a time for this state folder: a second waits for the first (two starts would each
# make the bridge, the certificates and the daemons; a stop during a start would leave half of each).
node_lock() {
    mkdir -p "$SLIPWAY_STATE_DIR"
    eval "exec $SLIPWAY_NODE_LOCK_FD>>\"\$SLIPWAY_STATE_DIR/node.lock\""
    if ! flock -n "$SLIPWAY_NODE_LOCK_FD"; then
        say "another start or stop of this node runs: waiting for it"
        flock "$SLIPWAY_NODE_LOCK_FD"
    fi
}

cmd="${1:-}"
shift || true
[[ "$cmd" == up || "$cmd" == down ]] && node_lock
case "$cmd" in
up)
    context=""
    while (($#)); do
        case "$1" in
        --context) context="${2:?--context needs a name}"; shift 2 ;;
        --own-node) context=--own-node; shift ;; # Slipway's node even when a local context is current (tests)
        *) fail "unknown option $1" ;;
        esac
    done
    choose "$context"
    ;;
down)
    stop_node
    if [[ "${1:-}" == --purge ]]; then
        rm -rf "$S"
        say "removed $S"
    fi
    ;;
status) status ;;
*) fail "usage: $0 up [--context NAME | --own-node] | down [--purge] | status" ;;
esac
