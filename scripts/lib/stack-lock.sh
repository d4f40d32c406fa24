# shellcheck shell=bash
# The lock a DIY (file://) backend keeps while an update runs: <backend>/.pulumi/locks/<org>/<project>/<stack>/<id>.json,
# {"pid", "username", "hostname", "timestamp"}. An update killed with -9 (a closed laptop, an OOM kill) leaves it
# behind, and every later run stops with "the stack is currently locked". Sourced by scripts/local-up.sh (after
# scripts/lib/daemon.sh).

# stack_lock_check BACKEND_URL STACK: clears a lock whose process is gone from this host (and says so); fails with
# who holds it when that process still runs, or when it was taken on another host (this one cannot tell).
stack_lock_check() {
    local url="$1" stack="$2" dir lock fields pid host since
    [[ "$url" == file://* ]] || return 0
    dir="${url#file://}/.pulumi/locks"
    [[ -d "$dir" ]] || return 0
    while IFS= read -r -d '' lock; do
        fields="$(node_modules/.bin/node -e '
            const l = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            process.stdout.write([l.pid, l.hostname, String(l.timestamp).replace(/\.\d+/, "")].join("\t"));' "$lock")" ||
            fail "unreadable lock file $lock"
        IFS=$'\t' read -r pid host since <<<"$fields"
        if [[ "$host" != "$(hostname)" ]]; then
            fail "the $stack stack is locked by an update on $host (pid $pid, since $since); this host cannot tell whether it
  still runs. If it does not: pulumi cancel --stack $stack"
        fi
        if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q pulumi; then
            fail "another update (pid $pid, since $since) holds the $stack stack: wait for it to finish, then run this again"
        fi
        rm -f "$lock" "$lock.attrs" # the backend's blob library keeps each file's attributes beside it
        say "cleared the lock of an update that is gone (pid $pid, since $since); this update takes over its pending operations"
    done < <(find "$dir" -path "*/$stack/*.json" -type f -print0)
}
