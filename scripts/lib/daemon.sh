# shellcheck shell=bash
# Background daemons Slipway starts for the local loop (registry, BuildKit, the node's components): each one runs
# in its own session, logs to <dir>/<name>.log and is recorded in <dir>/<name>.pid, so `down` stops exactly what
# `up` started and nothing else. Sourced by scripts/{registry,buildkit,cluster}.sh.

# Where all of it lives: one folder, so `down --purge` can remove every trace.
SLIPWAY_STATE_DIR="${SLIPWAY_STATE_DIR:-$([[ $(id -u) == 0 ]] && echo /var/lib/slipway || echo "${XDG_STATE_HOME:-$HOME/.local/state}/slipway")}"

# Root's tools (iptables, sysctl, modprobe, ip) live in the sbin folders, which a PATH made for users (a fresh
# `env -i` shell, a desktop terminal) lacks; the CNI plugins BuildKit and containerd run look iptables up on the
# PATH they inherit from us. Every script of the local loop sources this file.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" ;;
esac

# The file descriptors scripts/local-up.sh holds its one-run-per-project lock on, and scripts/cluster.sh its
# one-start-or-stop-per-host lock: daemons must not inherit them, or a lock would outlive the run that took it.
SLIPWAY_LOCK_FD=9
SLIPWAY_NODE_LOCK_FD=8

say() { printf '[%s] %s\n' "${SLIPWAY_LOG_NAME:-slipway}" "$*" >&2; }
fail() {
    printf '[%s] error: %s\n' "${SLIPWAY_LOG_NAME:-slipway}" "$*" >&2
    exit 1
}

# daemon_pid DIR NAME: the recorded pid, when that process still runs and is still the one we started.
daemon_pid() {
    local file="$1/$2.pid" pid
    [[ -f "$file" ]] || return 1
    pid="$(<"$file")"
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid must not be mistaken for our daemon: its command line names the binary we started.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(<"$1/$2.cmd")" || return 1
    echo "$pid"
}

# daemon_start DIR NAME COMMAND...: starts COMMAND detached unless it already runs.
daemon_start() {
    local dir="$1" name="$2"
    shift 2
    if daemon_pid "$dir" "$name" >/dev/null; then
        return 0
    fi
    mkdir -p "$dir"
    printf '%s' "$1" >"$dir/$name.cmd"
    setsid "$@" >>"$dir/$name.log" 2>&1 </dev/null {SLIPWAY_LOCK_FD}>&- {SLIPWAY_NODE_LOCK_FD}>&- &
    local pid=$! i
    echo "$pid" >"$dir/$name.pid"
    # Until the forked shell has exec'd the command, its command line is this script's, and daemon_pid (which
    # checks it against pid reuse) would take a starting daemon for a dead one: wait for the exec (or the exit).
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1" && break
        sleep 0.05
    done
}

# daemon_stop DIR NAME [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 20); forgets the pid either way.
daemon_stop() {
    local dir="$1" name="$2" grace="${3:-20}" pid i
    if pid="$(daemon_pid "$dir" "$name")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name ($pid) ignored SIGTERM for ${grace}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name"
    fi
    rm -f "$dir/$name.pid" "$dir/$name.cmd"
}

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.2 s; fails with DESCRIPTION on timeout.
# DAEMON_WATCH="dir:name …" names daemons whose death ends the wait early, with the tail of their log.
wait_until() {
    local what="$1" deadline=$((SECONDS + $2)) watched
    shift 2
    until "$@" >/dev/null 2>&1; do
        for watched in ${DAEMON_WATCH:-}; do
            if ! daemon_pid "${watched%%:*}" "${watched##*:}" >/dev/null; then
                tail -n 20 "${watched%%:*}/${watched##*:}.log" >&2 || true
                fail "${watched##*:} exited while waiting for $what (log: ${watched%%:*}/${watched##*:}.log)"
            fi
        done
        ((SECONDS < deadline)) || fail "timed out after $2 s waiting for $what"
        sleep 0.2
    done
}

# need_packages PACKAGE...: apt-get installs the Debian packages that are missing (root only).
need_packages() {
    local missing=() p
    for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    [[ $(id -u) == 0 ]] || fail "missing Debian packages: ${missing[*]} (install them, or run as root)"
    say "installing ${missing[*]} (apt-get)"
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        fail "apt-get install ${missing[*]} failed"
}
