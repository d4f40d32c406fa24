#!/usr/bin/env bash
# Prints the URL on 127.0.0.1 where the local stack's app answers: its NodePort (Pulumi.local.yaml app.nodePort)
# when the cluster serves NodePorts on loopback (Slipway's node, Docker Desktop), else a `kubectl port-forward` to
# its Service that this starts in the background and `npm run down:local` stops. Run after `pulumi up` of the local
# stack; the stack's backend and kubeconfig come from scripts/local-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SLIPWAY_LOG_NAME=app-url
# shellcheck source=lib/daemon.sh
source scripts/lib/daemon.sh
local_env="$(scripts/local-env.sh 2>/dev/null)"
eval "$local_env"

answers() { curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$1/healthz"; }

node_port="$(node_modules/.bin/node -e '
    const config = require("yaml").parse(require("fs").readFileSync("Pulumi.local.yaml", "utf8")).config;
    process.stdout.write(String(config["slipway:app"]?.nodePort ?? ""));')"
if [[ -n "$node_port" ]] && answers "$node_port"; then
    echo "http://127.0.0.1:$node_port"
    exit 0
fi

# No NodePort on loopback (kind, k3d, minikube): a port-forward that outlives this script, one per checkout.
outputs="$(pulumi stack output --stack local --json)"
output() { node_modules/.bin/node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]] ?? ""))' "$outputs" "$1"; }
namespace="$(output namespace)"
service="$(output serviceName)"
[[ -n "$namespace" && -n "$service" ]] || fail "the local stack has no namespace/serviceName outputs: run npm run up:local"
port="${SLIPWAY_APP_PORT:-18080}"
daemon_stop .slipway port-forward 5
daemon_start .slipway port-forward "$(command -v kubectl)" -n "$namespace" port-forward --address 127.0.0.1 "service/$service" "$port:http"
DAEMON_WATCH=".slipway:port-forward" wait_until "kubectl port-forward to $namespace/$service" 30 answers "$port"
echo "http://127.0.0.1:$port"
