#!/usr/bin/env bash
# Bring up what the real image checks need on a Debian bookworm machine, as root:
#   - a Docker engine: any that answers is used, an installed one (Docker CE's /usr/bin/dockerd, Debian's
#     /usr/sbin/dockerd) is started, and Debian's docker.io is installed only where there is none;
#   - Debian's docker-registry, debootstrap (and wrk for the benchmark) where missing;
#   - a registry on 127.0.0.1 (reused when /v2/ already answers);
#   - the stand-in for node:24-bookworm-slim (public registries are unreachable here), built once, reused by tag.
#
# Usage:
#   scripts/docker-env.sh            # set everything up, then print `export NAME=value` lines
#   scripts/docker-env.sh go         # the same, plus the Go example's stand-ins (built once); prints only those
#   source scripts/docker-env.sh     # same functions, nothing runs until you call slipway_docker_env_up
#
# Every failure exits non-zero with the reason: a machine that cannot run Docker must fail loudly, never skip.
set -euo pipefail

# The client that talks to the engine: /usr/bin/docker (Debian's docker.io or Docker CE's docker-ce-cli)
# unless set. The `docker` first on PATH may be a newer client without buildx, with which DOCKER_BUILDKIT=1
# builds refuse to run; slipway_detect_engine falls back to it only when it answers and /usr/bin/docker does not.
SLIPWAY_DOCKER="${SLIPWAY_DOCKER:-/usr/bin/docker}"
# Where an installed daemon is looked for: Debian's docker.io puts dockerd in /usr/sbin, Docker CE in /usr/bin.
SLIPWAY_DOCKERD_PATH="${SLIPWAY_DOCKERD_PATH:-$PATH:/usr/sbin:/usr/bin:/usr/local/bin}"
SLIPWAY_REGISTRY_PORT="${SLIPWAY_REGISTRY_PORT:-5055}"
SLIPWAY_REGISTRY_DIR="${SLIPWAY_REGISTRY_DIR:-/var/tmp/slipway-registry}"
SLIPWAY_STATE_DIR="${SLIPWAY_STATE_DIR:-/var/tmp/slipway-docker}"
# npm in the stand-in: an exact version (scripts/lib/node-rootfs.sh's default unless set).
if [[ -n "${SLIPWAY_STANDIN_NPM_VERSION:-}" ]]; then NODE_ROOTFS_NPM_VERSION="$SLIPWAY_STANDIN_NPM_VERSION"; fi
export DOCKER_BUILDKIT=1
# The stand-in's root filesystem: node_rootfs, node_rootfs_tag, debian_rootfs_mirror (debian-rootfs.sh).
# shellcheck source=lib/node-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/node-rootfs.sh"
# The Go example's stand-ins: go_rootfs, go_runtime_rootfs, go_rootfs_tag.
# shellcheck source=lib/go-rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-rootfs.sh"

log() { printf '[docker-env] %s\n' "$*" >&2; }
die() { printf '[docker-env] FATAL: %s\n' "$*" >&2; exit 1; }

slipway_require_root() {
  [[ "$(id -u)" == 0 ]] || die "must run as root (installs packages and starts dockerd)"
}

# The installed daemon binary, wherever the engine's package put it; empty when there is none.
slipway_dockerd_binary() { PATH="$SLIPWAY_DOCKERD_PATH" command -v dockerd || true; }

# Sets SLIPWAY_ENGINE to which engine this machine has, whatever installed it (Debian's docker.io, Docker CE,
# a daemon started by hand):
#   running    a client answers `docker info` (SLIPWAY_DOCKER is set to that client)
#   installed  a dockerd binary exists but no engine answers yet: start it, never replace it
#   missing    neither: install Debian's docker.io
slipway_detect_engine() {
  local other
  other="$(command -v docker || true)"
  if "$SLIPWAY_DOCKER" info >/dev/null 2>&1; then
    SLIPWAY_ENGINE=running
  elif [[ -n "$other" && "$other" != "$SLIPWAY_DOCKER" ]] && "$other" info >/dev/null 2>&1; then
    SLIPWAY_DOCKER="$other"
    SLIPWAY_ENGINE=running
  elif [[ -n "$(slipway_dockerd_binary)" ]]; then
    SLIPWAY_ENGINE=installed
  else
    SLIPWAY_ENGINE=missing
  fi
}

# The packages slipway_install_packages installs, one a line, for the engine slipway_detect_engine found
# (SLIPWAY_ENGINE) and the tools on PATH; prints nothing on a machine that has everything, and runs nothing.
# An engine that exists in any form is used as it is: installing docker.io over Docker CE would replace the
# engine the machine relies on, so docker.io is planned only when the engine is missing.
slipway_install_plan() {
  [[ -n "${SLIPWAY_ENGINE:-}" ]] || die "slipway_install_plan: call slipway_detect_engine first"
  if [[ "$SLIPWAY_ENGINE" == missing ]]; then echo docker.io; fi
  local tool
  for tool in docker-registry debootstrap curl wrk; do
    command -v "$tool" >/dev/null || echo "$tool"
  done
}

# Installs only what is missing (slipway_install_plan), so a warm machine does not touch apt at all.
slipway_install_packages() {
  local missing=()
  slipway_detect_engine
  log "docker engine: $SLIPWAY_ENGINE"
  mapfile -t missing < <(slipway_install_plan)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  fi
}

slipway_start_dockerd() {
  local dockerd
  slipway_detect_engine
  if [[ "$SLIPWAY_ENGINE" == running ]]; then
    log "docker engine already running"
    return 0
  fi
  dockerd="$(slipway_dockerd_binary)"
  [[ -n "$dockerd" ]] || die "no dockerd found in $SLIPWAY_DOCKERD_PATH"
  [[ -x "$SLIPWAY_DOCKER" ]] || SLIPWAY_DOCKER="$(command -v docker || true)"
  [[ -n "$SLIPWAY_DOCKER" ]] || die "$dockerd is installed but no docker client is: install your engine's client package"
  mkdir -p "$SLIPWAY_STATE_DIR"
  log "starting $dockerd (log: $SLIPWAY_STATE_DIR/dockerd.log)"
  # setsid + nohup: the daemon must outlive this script (the caller's checks run after it returns).
  setsid nohup "$dockerd" >"$SLIPWAY_STATE_DIR/dockerd.log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 120); do
    if "$SLIPWAY_DOCKER" info >/dev/null 2>&1; then
      log "dockerd ready after ~$((i / 2)) s"
      return 0
    fi
    sleep 0.5
  done
  tail -n 40 "$SLIPWAY_STATE_DIR/dockerd.log" >&2 || true
  die "dockerd did not answer within 60 s; this machine cannot run Docker"
}

slipway_registry_up() { curl -fsS -o /dev/null "http://127.0.0.1:${SLIPWAY_REGISTRY_PORT}/v2/"; }

slipway_start_registry() {
  if slipway_registry_up 2>/dev/null; then
    log "registry already answering on 127.0.0.1:${SLIPWAY_REGISTRY_PORT}"
    return 0
  fi
  mkdir -p "$SLIPWAY_REGISTRY_DIR/data"
  # Our own config: the packaged one demands htpasswd auth. Loopback only; deletes allowed so tests can clean up.
  cat >"$SLIPWAY_REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SLIPWAY_REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${SLIPWAY_REGISTRY_PORT}
EOF
  log "starting docker-registry on 127.0.0.1:${SLIPWAY_REGISTRY_PORT}"
  setsid nohup docker-registry serve "$SLIPWAY_REGISTRY_DIR/config.yml" \
    >"$SLIPWAY_REGISTRY_DIR/registry.log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    slipway_registry_up 2>/dev/null && return 0
    sleep 0.5
  done
  tail -n 40 "$SLIPWAY_REGISTRY_DIR/registry.log" >&2 || true
  die "registry did not answer on 127.0.0.1:${SLIPWAY_REGISTRY_PORT} within 30 s"
}

# Stand-in for node:24-bookworm-slim: scripts/lib/node-rootfs.sh's root filesystem (debootstrap minbase bookworm
# + the repo's Node 24 + npm at an exact version + the CA bundle), imported with node:24-bookworm-slim's PATH and
# CMD, and NODE_EXTRA_CA_CERTS so that npm in a container trusts the registry. Tagged by Node and npm version
# (node_rootfs_tag), so it is built once per toolchain and reused afterwards.
slipway_standin_image() {
  local version tag rootfs
  version="$(node_rootfs_tag)" || die "no Node.js binary to build the stand-in with"
  tag="slipway/standin-node:$version"
  if "$SLIPWAY_DOCKER" image inspect "$tag" >/dev/null 2>&1; then
    log "stand-in base image $tag already present"
    echo "$tag"
    return 0
  fi
  rootfs="$(mktemp -d /var/tmp/slipway-standin.XXXXXX)"
  # A subshell so its EXIT trap removes the ~200 MB root filesystem whether or not the build succeeds.
  (
  trap 'rm -rf "$rootfs" "$rootfs.debootstrap.log"' EXIT
  log "debootstrap minbase bookworm from $(debian_rootfs_mirror) (about 80 s)"
  node_rootfs "$rootfs" || die "could not assemble the stand-in's root filesystem"
  log "importing $tag"
  tar -C "$rootfs" -c . | "$SLIPWAY_DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change "ENV NODE_VERSION=${version%%-npm*}" \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null || die "docker import of the stand-in failed"
  ) || exit 1
  echo "$tag"
}

# The bases of the Go example (examples/hello-go), from one debootstrap with Debian's Go toolchain
# (scripts/lib/go-rootfs.sh): slipway/standin-go-base:<tag> (bookworm minbase and the toolchain, which
# examples/hello-go/build-image/Dockerfile turns into the build environment) and slipway/standin-go-runtime:<tag> (a
# stand-in for gcr.io/distroless/static-debian12). Built once per toolchain version, reused by tag; prints the two
# tags, one a line. Only `docker-env.sh go` builds them: the Node checks and benchmarks never pay for Go.
slipway_standin_go_images() {
  local version base runtime work
  version="$(go_rootfs_tag)" || die "no version of $GO_ROOTFS_PACKAGE to build the Go stand-ins with"
  base="slipway/standin-go-base:$version"
  runtime="slipway/standin-go-runtime:$version"
  if "$SLIPWAY_DOCKER" image inspect "$base" "$runtime" >/dev/null 2>&1; then
    log "Go stand-ins $base and $runtime already present"
    printf '%s\n%s\n' "$base" "$runtime"
    return 0
  fi
  work="$(mktemp -d /var/tmp/slipway-standin-go.XXXXXX)"
  (
  trap 'rm -rf "$work"' EXIT
  log "debootstrap minbase bookworm with $GO_ROOTFS_PACKAGE from $(debian_rootfs_mirror) (about 2 minutes)"
  go_rootfs "$work/base" || die "could not assemble the Go base's root filesystem"
  go_runtime_rootfs "$work/base" "$work/runtime" || die "could not assemble the Go runtime base's root filesystem"
  log "importing $base and $runtime"
  tar -C "$work/base" -c . | "$SLIPWAY_DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["go", "version"]' \
    - "$base" >/dev/null || die "docker import of $base failed"
  tar -C "$work/runtime" -c . | "$SLIPWAY_DOCKER" import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    - "$runtime" >/dev/null || die "docker import of $runtime failed"
  ) || exit 1
  printf '%s\n%s\n' "$base" "$runtime"
}

slipway_docker_env_up() {
  slipway_require_root
  slipway_install_packages
  slipway_start_dockerd
  slipway_start_registry
  SLIPWAY_STANDIN_IMAGE="$(slipway_standin_image)"
  SLIPWAY_REGISTRY="127.0.0.1:${SLIPWAY_REGISTRY_PORT}"
  export SLIPWAY_STANDIN_IMAGE SLIPWAY_REGISTRY SLIPWAY_DOCKER
}

if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == go ]]; then
  slipway_docker_env_up
  { read -r go_base && read -r go_runtime; } < <(slipway_standin_go_images)
  [[ -n "${go_runtime:-}" ]] || die "the Go stand-ins were not built"
  printf 'export SLIPWAY_GO_BASE_STANDIN=%q\nexport SLIPWAY_GO_RUNTIME_STANDIN=%q\n' "$go_base" "$go_runtime"
elif [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  slipway_docker_env_up
  printf 'export SLIPWAY_DOCKER=%q\nexport SLIPWAY_REGISTRY=%q\nexport SLIPWAY_STANDIN_IMAGE=%q\nexport DOCKER_BUILDKIT=1\n' \
    "$SLIPWAY_DOCKER" "$SLIPWAY_REGISTRY" "$SLIPWAY_STANDIN_IMAGE"
fi
