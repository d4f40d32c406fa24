#!/usr/bin/env bash
# Put Slipway's pinned toolchain on PATH: the Pulumi engine and its plugins ("engine"), and the parts of a
# single-node Kubernetes ("node"). Versions live in toolchain/versions.env, nowhere else.
#
#   eval "$(scripts/toolchain.sh engine)"     # or: node | all | cni (the CNI plugins alone, for BuildKit)
#
# For each binary, in this order:
#   1. one already on PATH at an acceptable version (a normal Pulumi install, a BuildKit you run yourself);
#   2. the cache, keyed by version: ${XDG_CACHE_HOME:-~/.cache}/slipway/tools/<name>/<version>/;
#   3. a build from the Go module proxy at the pinned version, into that cache.
# Nothing is downloaded from anywhere else. Progress goes to stderr; stdout is only `export` lines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../toolchain/versions.env
source "$ROOT/toolchain/versions.env"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/slipway"
TOOLS="$CACHE/tools"
WORK="$CACHE/work" # generated wrapper modules; safe to delete
T0=$SECONDS
PATH_DIRS=()
EXPORTS=()
CACHED=()
BUILT=0

log() { printf '[toolchain %2dm%02ds] %s\n' $(((SECONDS - T0) / 60)) $(((SECONDS - T0) % 60)) "$*" >&2; }
die() {
    printf '[toolchain] error: %s\n' "$*" >&2
    exit 1
}
# True when version $1 >= version $2 (dotted, an optional leading v).
version_at_least() { [[ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -1)" == "${2#v}" ]]; }
add_path() { [[ " ${PATH_DIRS[*]-} " == *" $1 "* ]] || PATH_DIRS+=("$1"); }

need_go() {
    command -v go >/dev/null || die "Go is not installed, and $1 is not on PATH or in $TOOLS.
  On a machine that can reach pulumi.com, install the Pulumi CLI the usual way instead:
    curl -fsSL https://get.pulumi.com | sh          (or: brew install pulumi/tap/pulumi)
  and it downloads its plugins by itself. Otherwise install Go >= 1.26.6 (https://go.dev/dl/) and re-run."
    local have
    have="$(go env GOVERSION)"
    version_at_least "${have#go}" 1.26.6 || die "Go ${have#go} is older than 1.26.6, which the pinned modules need"
}

# cached NAME VERSION BUILD_FUNCTION [off-path]: the tool's cache folder on PATH (unless off-path), building it
# there first if needed. BUILD_FUNCTION gets the output folder as $1. A folder counts once its build finished.
# A BUILD_FUNCTION named debian_* unpacks a Debian package instead of building from the Go module proxy.
cached() {
    local name="$1" version="$2" build="$3" dir="$TOOLS/$1/$2" t lock=""
    if [[ ! -f "$dir/.complete" ]]; then
        # One build of a binary at a time (two shells, or an e2e run beside up:local): the second waits, then
        # finds the first one's result.
        mkdir -p "$TOOLS/$name"
        exec {lock}>>"$dir.lock"
        if ! flock -n "$lock"; then
            log "$name $version: another build of it runs: waiting for it"
            flock "$lock"
        fi
    fi
    if [[ -f "$dir/.complete" ]]; then
        CACHED+=("$name")
    else
        if [[ "$build" == debian_* ]]; then
            log "$name $version: unpacking Debian's package"
        else
            need_go "$name"
            log "$name $version: building from the Go module proxy"
        fi
        t=$SECONDS
        rm -rf "$dir"
        mkdir -p "$dir"
        (
            export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0
            "$build" "$dir"
        ) >"$dir.log" 2>&1 || {
            tail -n 30 "$dir.log" >&2
            die "$name $version: build failed (log: $dir.log)"
        }
        date -u +%FT%TZ >"$dir/.complete"
        BUILT=$((BUILT + 1))
        log "$name $version: built in $(((SECONDS - t) / 60))m$(((SECONDS - t) % 60))s ($(du -sh "$dir" | cut -f1))"
    fi
    [[ -z "$lock" ]] || exec {lock}>&-
    [[ "${4:-}" == off-path ]] || add_path "$dir"
}

# module DIR GO_VERSION: a fresh wrapper module, for modules `go install` refuses (they carry replace lines).
module() {
    rm -rf "$1"
    mkdir -p "$1"
    printf 'module local/%s\n\ngo %s\n' "$(basename "$1")" "$2" >"$1/go.mod"
}
# replaces_of MODULE@VERSION: the module's own replace lines that point at other modules (not at ../paths).
replaces_of() {
    local mod
    mod="$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    go mod edit -json "$mod" | node_json 'for (const r of j.Replace ?? []) if (r.New.Version) console.log(`${r.Old.Path}${r.Old.Version ? "@" + r.Old.Version : ""}=${r.New.Path}@${r.New.Version}`)'
}
# A tiny JSON filter on stdin (j is the parsed document); node is there whenever npm is.
node_json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);$1})"; }

# --- the engine ---------------------------------------------------------------------------------------------
build_pulumi() {
    local m="$WORK/pulumi" r
    module "$m" 1.26.6
    cd "$m"
    for r in $(replaces_of "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION"); do go mod edit -replace="$r"; done
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
    # Tags and version stamp as upstream's release build (.goreleaser.yml).
    go build -tags osusergo,grpcnotrace -o "$1/pulumi" \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_language_host() {
    local m="$WORK/pulumi-language-nodejs" pkg=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
    module "$m" 1.26
    cd "$m"
    printf 'tool %s\n' "$pkg" >>go.mod
    go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_LANGUAGE_NODEJS_SDK_VERSION"
    go mod tidy
    go build -o "$1/pulumi-language-nodejs" \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_NODEJS_SDK_VERSION" "$pkg"
}

build_kubernetes_provider() {
    local m="$WORK/pulumi-resource-kubernetes" src
    module "$m" 1.24.7
    cd "$m"
    src="$(go mod download -json "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/cmd/pulumi-resource-kubernetes"
    # main.go embeds schema-embed.json and terraform-mapping-embed.json, which upstream makes at build time
    # from the schema.json and terraform-mapping.json the module ships (generate.go): do the same here.
    sed '/go:generate/d' "$src/main.go" >main.go
    install -m 0644 "$src/generate.go" "$src/schema.json" "$src/terraform-mapping.json" .
    go get "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION"
    go mod tidy
    VERSION="$PULUMI_KUBERNETES_PROVIDER_VERSION" go run generate.go
    rm -f schema.json terraform-mapping.json generate.go
    go build -o "$1/pulumi-resource-kubernetes" \
        -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_PROVIDER_VERSION" .
}

build_docker_build_provider() {
    local m="$WORK/pulumi-resource-docker-build" pkg=github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build
    module "$m" 1.26
    cd "$m"
    # The provider imports two codegen modules of other Pulumi SDKs for one struct each; the proxy does not serve
    # them, so toolchain/go/ holds those two structs (same JSON fields) as local modules.
    go mod edit -require="github.com/pulumi/pulumi-docker-build@v$PULUMI_DOCKER_BUILD_VERSION" \
        -replace="github.com/pulumi/pulumi-java=$ROOT/toolchain/go/pulumi-java" \
        -replace="github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=$ROOT/toolchain/go/pulumi-language-dotnet"
    printf 'tool %s\n' "$pkg" >>go.mod
    go mod tidy
    go build -o "$1/pulumi-resource-docker-build" \
        -ldflags "-s -w -X github.com/pulumi/pulumi-docker-build/provider.Version=$PULUMI_DOCKER_BUILD_VERSION" "$pkg"
}

build_buildkit() {
    local m="$WORK/buildkit"
    module "$m" 1.25.9
    cd "$m"
    printf 'tool github.com/moby/buildkit/cmd/%s\n' buildkitd buildctl >>go.mod
    go get "github.com/moby/buildkit@v$BUILDKIT_VERSION"
    go mod tidy
    go build -o "$1/" -ldflags "-s -w -X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION" \
        github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
}

# The CLI runs the language host that sits next to it, so a CLI on PATH counts only together with its host.
# A binary on PATH counts as "already there" only when it is not one of ours (a nested run inherits our PATH).
not_ours() { [[ "$(readlink -f "$1")" != "$TOOLS"/* ]]; }

pulumi_on_path() {
    local cli
    cli="$(command -v pulumi 2>/dev/null)" && not_ours "$cli" || return 1
    [[ -x "$(dirname "$(readlink -f "$cli")")/pulumi-language-nodejs" ]] || return 1
    version_at_least "$(pulumi version 2>/dev/null)" "$PULUMI_VERSION"
}
buildkit_on_path() {
    command -v buildkitd >/dev/null && command -v buildctl >/dev/null && not_ours "$(command -v buildkitd)" || return 1
    version_at_least "$(buildkitd --version | awk '{print $3}')" "$BUILDKIT_VERSION"
}

# The providers built above, where the engine looks for installed plugins: a Pulumi home of Slipway's own, its
# plugin folder holding each at the version the SDK in package.json asks for. On PATH instead, the engine warns on
# every run that it uses a plugin "from $PATH", and that the kubernetes provider reports an older version than the
# SDK's (the only provider module the proxy serves; see versions.env): warnings nobody can act on. PULUMI_DEV has
# exactly one effect on an engine run (pkg/v3/host/host.go: the version warning is skipped). A PULUMI_HOME of your
# own is left alone: the providers go on PATH, and the warnings stay.
provide_plugins() {
    local k8s="$TOOLS/pulumi-resource-kubernetes/$PULUMI_KUBERNETES_PROVIDER_VERSION"
    local docker_build="$TOOLS/pulumi-resource-docker-build/$PULUMI_DOCKER_BUILD_VERSION"
    if [[ -n "${PULUMI_HOME:-}" && "$PULUMI_HOME" != "$TOOLS/pulumi-home" ]]; then
        add_path "$k8s"
        add_path "$docker_build"
        # An environment made by an earlier run for Slipway's home would hide the providers on PATH.
        EXPORTS+=("PULUMI_IGNORE_AMBIENT_PLUGINS=false" "PULUMI_DEV=false")
        return 0
    fi
    local home="$TOOLS/pulumi-home" folder
    for folder in "resource-kubernetes-v$PULUMI_KUBERNETES_SDK_VERSION:$k8s/pulumi-resource-kubernetes" \
        "resource-docker-build-v$PULUMI_DOCKER_BUILD_VERSION:$docker_build/pulumi-resource-docker-build"; do
        mkdir -p "$home/plugins/${folder%%:*}"
        ln -sfn "${folder#*:}" "$home/plugins/${folder%%:*}/$(basename "${folder#*:}")"
    done
    # A `pulumi login` to a backend of your own keeps working in this home.
    [[ ! -f "$HOME/.pulumi/credentials.json" ]] || ln -sfn "$HOME/.pulumi/credentials.json" "$home/credentials.json"
    EXPORTS+=("PULUMI_HOME=$home" "PULUMI_IGNORE_AMBIENT_PLUGINS=true" "PULUMI_DEV=true")
}

engine() {
    if pulumi_on_path; then
        log "pulumi $(pulumi version) on PATH: using it (and its plugins)"
    else
        cached pulumi "$PULUMI_VERSION" build_pulumi
        # The CLI runs the language host found next to its own (resolved) binary: link it there.
        cached pulumi-language-nodejs "$PULUMI_LANGUAGE_NODEJS_SDK_VERSION" build_language_host off-path
        ln -sf "$TOOLS/pulumi-language-nodejs/$PULUMI_LANGUAGE_NODEJS_SDK_VERSION/pulumi-language-nodejs" \
            "$TOOLS/pulumi/$PULUMI_VERSION/pulumi-language-nodejs"
        # This host predates runtime options sent over RPC: it only knows the environment variable it would set
        # itself for Pulumi.yaml's `tsconfig` option. Set that, so engine runs use the same (transpile-only) config.
        local tsconfig
        tsconfig="$(sed -n 's/^    tsconfig: *//p' "${SLIPWAY_PROJECT_DIR:-$ROOT}/Pulumi.yaml" 2>/dev/null || true)"
        [[ -z "$tsconfig" ]] || EXPORTS+=("PULUMI_NODEJS_TSCONFIG_PATH=$tsconfig")
        # Providers the CLI cannot download here.
        cached pulumi-resource-kubernetes "$PULUMI_KUBERNETES_PROVIDER_VERSION" build_kubernetes_provider off-path
        cached pulumi-resource-docker-build "$PULUMI_DOCKER_BUILD_VERSION" build_docker_build_provider off-path
        provide_plugins
        # package.json also holds the @pulumi/aws and @pulumi/docker SDKs (the ECR and Docker Desktop paths), so the
        # CLI would try to download their plugins before every preview and up, even for stacks that never use them:
        # five failed attempts each, 2.5 s of a 7.5 s preview here, and a surprise download elsewhere. Every plugin
        # the stacks this toolchain serves need is provided above.
        EXPORTS+=("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
    fi
    if buildkit_on_path; then
        log "buildkitd $(buildkitd --version | awk '{print $3}') on PATH: using it"
    else
        cached buildkit "$BUILDKIT_VERSION" build_buildkit
    fi
}

# --- the node -----------------------------------------------------------------------------------------------
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

build_kubernetes() {
    local m="$WORK/kubernetes" mod staging="v0.${KUBERNETES_VERSION#1.}" c
    module "$m" 1.26.0
    cd "$m"
    # k8s.io/kubernetes points its staging modules (k8s.io/api, …) at ./staging/src; each is also published as
    # v0.<minor>.<patch>, so the wrapper replaces every one with that release.
    mod="$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    grep '^godebug ' "$mod" >>go.mod || true
    go mod edit -require="k8s.io/kubernetes@v$KUBERNETES_VERSION"
    for c in $(go mod edit -json "$mod" | node_json 'for (const r of j.Replace ?? []) if (r.New.Path.startsWith("./staging/")) console.log(r.Old.Path)'); do
        go mod edit -replace="$c=$c@$staging"
    done
    for c in "${KUBE_COMMANDS[@]}"; do printf 'tool k8s.io/kubernetes/cmd/%s\n' "$c" >>go.mod; done
    go mod tidy
    local ldflags="-s -w" p
    # Without these the binaries report v0.0.0-master and the node's version is wrong.
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=v$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
        ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    go build -o "$1/" -ldflags "$ldflags" "${KUBE_COMMANDS[@]/#/k8s.io/kubernetes/cmd/}"
}

build_etcd() {
    local m="$WORK/etcd"
    module "$m" 1.26.0
    cd "$m"
    printf 'tool go.etcd.io/etcd/server/v3\n' >>go.mod
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    go mod tidy
    go build -o "$1/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3
}

build_containerd() {
    local m="$WORK/containerd" c=github.com/containerd/containerd/v2/cmd
    module "$m" 1.26
    cd "$m"
    printf 'tool %s\n' "$c/containerd" "$c/ctr" "$c/containerd-shim-runc-v2" >>go.mod
    go get "github.com/containerd/containerd/v2@v$CONTAINERD_VERSION"
    go mod tidy
    # runc itself is Debian's (apt-get install runc); the snapshotters left out need cgo or kernel features.
    go build -o "$1/" -tags "no_btrfs no_devmapper no_zfs" \
        -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" \
        "$c/containerd" "$c/ctr" "$c/containerd-shim-runc-v2"
}

# The pods' network (bridge, host-local, loopback, portmap) and BuildKit's bridge network for RUN steps, which
# also runs `firewall`.
CNI_PLUGINS=(main/bridge main/loopback ipam/host-local meta/portmap meta/firewall)

build_cni_plugins() {
    local m="$WORK/cni-plugins" p=github.com/containernetworking/plugins/plugins
    module "$m" 1.26
    cd "$m"
    printf 'tool %s\n' "${CNI_PLUGINS[@]/#/$p/}" >>go.mod
    go get "github.com/containernetworking/plugins@v$CNI_PLUGINS_VERSION"
    go mod tidy
    go build -o "$1/" -ldflags "-s -w" "${CNI_PLUGINS[@]/#/$p/}"
}

# Its own part, so a machine that only builds images (engine + BuildKit) gets the CNI plugins without the node.
cni_part() {
    local dir="$TOOLS/cni-plugins/$CNI_PLUGINS_VERSION" p
    # A cache made before `firewall` was on the list counts as complete but cannot run BuildKit's network.
    for p in "${CNI_PLUGINS[@]}"; do [[ -x "$dir/${p##*/}" ]] || rm -f "$dir/.complete"; done
    # Found through containerd's and buildkitd's config, never on PATH (`bridge` would shadow iproute2's).
    cached cni-plugins "$CNI_PLUGINS_VERSION" build_cni_plugins off-path
    EXPORTS+=("SLIPWAY_CNI_BIN=$dir")
}

build_crictl() {
    local m="$WORK/crictl"
    module "$m" 1.26
    cd "$m"
    printf 'tool sigs.k8s.io/cri-tools/cmd/crictl\n' >>go.mod
    go get "sigs.k8s.io/cri-tools@v$CRI_TOOLS_VERSION"
    go mod tidy
    go build -o "$1/crictl" -ldflags "-s -w" sigs.k8s.io/cri-tools/cmd/crictl
}

# CoreDNS with only the plugins a single node needs (toolchain/go/coredns/main.go): its own main package pulls
# in every cloud DNS provider.
build_coredns() {
    local m="$WORK/coredns"
    module "$m" 1.26
    cd "$m"
    cp "$ROOT/toolchain/go/coredns/main.go" .
    go get "github.com/coredns/coredns@v$COREDNS_VERSION"
    go mod tidy
    go build -o "$1/coredns" -ldflags "-s -w" .
}

# The sandbox ("pause") process of every pod: toolchain/go/pause/main.go, our own, static.
build_pause() {
    local m="$WORK/pause"
    module "$m" 1.26
    cd "$m"
    cp "$ROOT/toolchain/go/pause/main.go" .
    go build -o "$1/pause" -ldflags "-s -w" .
}

# promtool from Debian's prometheus package, unpacked: nothing is installed (no service, no user, no apt state).
# A build from the Prometheus module cost 7.6 minutes of a cold run; this takes seconds.
debian_promtool() {
    local w="$WORK/promtool-deb"
    rm -rf "$w"
    mkdir -p "$w"
    cd "$w"
    # Stale package lists are refreshed once (as root); a version the mirror stopped serving is named, with the fix.
    apt-get download "prometheus=$PROMETHEUS_DEBIAN_VERSION" ||
        { apt-get update -qq && apt-get download "prometheus=$PROMETHEUS_DEBIAN_VERSION"; } ||
        die "cannot download Debian's prometheus $PROMETHEUS_DEBIAN_VERSION (as root, apt-get update runs first): if the mirror no longer serves it, set PROMETHEUS_DEBIAN_VERSION in toolchain/versions.env to the version \`apt-cache policy prometheus\` offers"
    dpkg-deb -x prometheus_*.deb unpacked
    install -m 0755 unpacked/usr/bin/promtool "$1/promtool"
    rm -rf "$w"
}

# Not a binary: the Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule, …), as its Go module ships them.
fetch_prometheus_operator_crds() {
    local dir
    dir="$(go mod download -json "github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    install -m 0644 "$dir"/example/prometheus-operator-crd/*.yaml "$1/"
}

node_parts() {
    cached kubernetes "$KUBERNETES_VERSION" build_kubernetes
    cached etcd "$ETCD_VERSION" build_etcd
    cached containerd "$CONTAINERD_VERSION" build_containerd
    cni_part
    cached crictl "$CRI_TOOLS_VERSION" build_crictl
    cached coredns "$COREDNS_VERSION" build_coredns off-path
    cached pause "$KUBERNETES_VERSION" build_pause off-path
    cached promtool "$PROMETHEUS_DEBIAN_VERSION" debian_promtool
    cached prometheus-operator-crds "$PROMETHEUS_OPERATOR_VERSION" fetch_prometheus_operator_crds off-path
    EXPORTS+=("SLIPWAY_PAUSE_BIN=$TOOLS/pause/$KUBERNETES_VERSION/pause")
    EXPORTS+=("SLIPWAY_COREDNS_BIN=$TOOLS/coredns/$COREDNS_VERSION/coredns")
    EXPORTS+=("SLIPWAY_PROMETHEUS_CRDS=$TOOLS/prometheus-operator-crds/$PROMETHEUS_OPERATOR_VERSION")
}

case "${1:-engine}" in
engine) engine ;;
node) node_parts ;;
cni) cni_part ;;
all)
    engine
    node_parts
    ;;
*) die "usage: $0 [engine|node|all|cni]" ;;
esac

# Built binaries were reported one by one; cached ones only by count, so a warm run says one line.
# SLIPWAY_TOOLCHAIN_QUIET=1 (scripts/local-env.sh): no line at all when nothing was built.
if [[ "${SLIPWAY_TOOLCHAIN_QUIET:-}" != 1 || $BUILT -gt 0 ]]; then
    log "ready in $(((SECONDS - T0) / 60))m$(((SECONDS - T0) % 60))s (${#CACHED[@]} cached${CACHED[*]:+: ${CACHED[*]}})"
fi
if ((${#PATH_DIRS[@]})); then
    printf 'export PATH=%q:"$PATH"\n' "$(
        IFS=:
        echo "${PATH_DIRS[*]}"
    )"
fi
for e in "${EXPORTS[@]}"; do printf 'export %s\n' "$e"; done
