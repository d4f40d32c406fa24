# shellcheck shell=bash
# The network BuildKit runs RUN steps in: a bridge of its own (BuildKit's CNI bridge network), never the host's, so
# a build step (an `npm ci` postinstall script, say) is not on the host's loopback where etcd and the registry
# listen. scripts/buildkit.sh sets it up and tears it down; scripts/cluster.sh shuts it out of the node (its API
# server, kubelet and pods) while the node runs. Sourced by both.
#
# The name says nothing of Slipway on purpose: scripts/host-fingerprint.sh compares the node's traces (lines that
# say KUBE- or slipway) across a node's up and down, while BuildKit, and so this bridge, keeps running.
BUILD_BRIDGE=slwbuild0
BUILD_SUBNET=10.246.0.0/24
