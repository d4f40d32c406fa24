#!/usr/bin/env bash
# The main job on the embedded default: `pulumi up` of the local stack with a local file backend
# and passphrase secrets. Needs the Pulumi CLI, a Docker engine and a current kube context.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in pulumi docker kubectl; do
    command -v "$tool" >/dev/null || { echo "local-up: '$tool' is required (see README, Prerequisites)" >&2; exit 2; }
done
kubectl config current-context >/dev/null 2>&1 || { echo "local-up: no current kube context (kind, k3d, minikube or Docker Desktop)" >&2; exit 2; }

# State lives beside the repo, never in a shared backend; the passphrase protects local secrets.
mkdir -p .pulumi
export PULUMI_BACKEND_URL="file://$PWD/.pulumi"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
[ -d node_modules ] || npm ci --no-audit --no-fund
# The builder Pulumi.local.yaml names (image.builder): docker-container can export registry cache;
# the host network lets it push to the registry on 127.0.0.1.
docker buildx inspect slipway >/dev/null 2>&1 ||
    docker buildx create --name slipway --driver docker-container --driver-opt network=host \
        --driver-opt image=moby/buildkit:v0.25.1@sha256:79cc6476ab1a3371c9afd8b44e7c55610057c43e18d9b39b68e2b0c2475cc1b6 >/dev/null
pulumi stack select local --create --secrets-provider passphrase
pulumi up --stack local --yes "$@"
