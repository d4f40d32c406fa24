#!/usr/bin/env bash
# Makes one stage's kube context for the workflows, from the project's folder: the EKS cluster the repository
# variable EKS_CLUSTER_<STAGE> names, under the context name Pulumi.<stage>.yaml gives it (slipway:kubernetes.context),
# so the stack file and CI never disagree. A stack file that names no context: the cluster becomes the current
# context, which is what the stack's Kubernetes provider then uses.
# Env: STACK (dev, qa or prod) and EKS_CLUSTER_<STACK in capitals>. Needs node with the project's node_modules, and aws.
set -euo pipefail

cluster_var="EKS_CLUSTER_${STACK^^}"
cluster="${!cluster_var:-}"
if [ -z "$cluster" ]; then
  echo "::error::Set the repository variable $cluster_var to the name of $STACK's EKS cluster (docs/adopt.md)."
  exit 1
fi
context="$(node -p "require('yaml').parse(require('fs').readFileSync('Pulumi.' + process.env.STACK + '.yaml', 'utf8')).config['slipway:kubernetes']?.context ?? ''")"
aws eks update-kubeconfig --name "$cluster" ${context:+--alias "$context"}
