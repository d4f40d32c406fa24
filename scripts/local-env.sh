#!/usr/bin/env bash
# The local stage's setup, found the same way from any shell in the project: the one place that knows it.
# up:local, down:local, app-url and the tools (status, rollback, promote, preview of the local stack) all ask here.
#
#   eval "$(scripts/local-env.sh)"      # `export` lines for a shell
#   scripts/local-env.sh --env0         # NAME=value pairs separated by NUL bytes, for programs (tools/local-stage.ts)
#
# What it sets, and what wins over it:
#   PATH                      the pinned Pulumi CLI and plugins (scripts/toolchain.sh engine: a Pulumi on PATH
#                             at an acceptable version is used as it is)
#   PULUMI_BACKEND_URL        file://<project>/.pulumi, unless already set (your own backend wins)
#   PULUMI_CONFIG_PASSPHRASE  empty (Pulumi.local.yaml's encryptionsalt is made for it), unless it or
#                             PULUMI_CONFIG_PASSPHRASE_FILE is already set
#   KUBECONFIG                <project>/.slipway/kubeconfig: the one cluster up:local chose, whatever KUBECONFIG
#                             says (it may name another cluster: choose with up:local --context); only where
#                             up:local never wrote one does a KUBECONFIG from the environment stay
#   SLIPWAY_BASE_IMAGE        the offline base in <project>/.slipway/base-image, where up:local built one, unless set
#   PULUMI_SKIP_UPDATE_CHECK  true
# One line on stderr says which CLI, backend and kubeconfig it found (not with SLIPWAY_LOCAL_ENV_QUIET=1: up:local
# sets it for the deploy it starts, having said it once).
set -euo pipefail
# The output holds the passphrase (yours, where the environment has one): for eval or a program, never a terminal.
if [[ -t 1 ]]; then
    echo "usage: eval \"\$($0)\"   or   $0 --env0 | …   (it prints the passphrase, so not to a terminal)" >&2
    exit 2
fi
# Slipway's own files (this repository, or the installed package) and the project whose local stage this is (this
# repository too, unless a command of the installed package names the user's project in SLIPWAY_PROJECT_DIR).
SLIPWAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${SLIPWAY_PROJECT_DIR:-$SLIPWAY_ROOT}"
export SLIPWAY_PROJECT_DIR="$ROOT"

# Quiet when every binary is cached (the line below says what was found); a first run still reports its builds.
tools_env="$(SLIPWAY_TOOLCHAIN_QUIET=1 "$SLIPWAY_ROOT/scripts/toolchain.sh" engine)"
eval "$tools_env"

# Whatever the toolchain exports (PATH, the transpile-only tsconfig, no plugin downloads), then the stage's own.
mapfile -t vars < <(sed -n 's/^export \([A-Z_][A-Z0-9_]*\)=.*/\1/p' <<<"$tools_env")
vars+=(PULUMI_SKIP_UPDATE_CHECK KUBECONFIG PULUMI_BACKEND_URL)
backend_note="(from the environment)"
if [[ -z "${PULUMI_BACKEND_URL:-}" ]]; then
    PULUMI_BACKEND_URL="file://$ROOT/.pulumi"
    backend_note=""
fi
passphrase_note="the passphrase from the environment"
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    PULUMI_CONFIG_PASSPHRASE=""
    passphrase_note="the empty passphrase"
fi
[[ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ]] && vars+=(PULUMI_CONFIG_PASSPHRASE)
[[ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]] && vars+=(PULUMI_CONFIG_PASSPHRASE_FILE)
# The offline base up:local built where Docker Hub cannot be reached (stacks/config/base-image.ts).
if [[ -z "${SLIPWAY_BASE_IMAGE:-}" && -f "$ROOT/.slipway/base-image" ]]; then
    SLIPWAY_BASE_IMAGE="$(<"$ROOT/.slipway/base-image")"
fi
[[ -n "${SLIPWAY_BASE_IMAGE:-}" ]] && vars+=(SLIPWAY_BASE_IMAGE)
kubeconfig_note=""
if [[ -f "$ROOT/.slipway/kubeconfig" || -z "${KUBECONFIG:-}" ]]; then
    KUBECONFIG="$ROOT/.slipway/kubeconfig"
else
    kubeconfig_note=" (from the environment: up:local has not written one)"
fi
PULUMI_SKIP_UPDATE_CHECK=true

pulumi_bin="$(command -v pulumi)"
[[ "${SLIPWAY_LOCAL_ENV_QUIET:-}" == 1 ]] || printf '[local stage] pulumi %s, backend %s%s, %s, kubeconfig %s%s\n' "${pulumi_bin/#$HOME/\~}" \
    "$PULUMI_BACKEND_URL" "${backend_note:+ $backend_note}" "$passphrase_note" "${KUBECONFIG#"$ROOT"/}" "$kubeconfig_note" >&2

case "${1:-}" in
--env0) for v in "${vars[@]}"; do printf '%s=%s\0' "$v" "${!v}"; done ;;
"") for v in "${vars[@]}"; do printf 'export %s=%q\n' "$v" "${!v}"; done ;;
*)
    echo "usage: $0 [--env0]" >&2
    exit 2
    ;;
esac
