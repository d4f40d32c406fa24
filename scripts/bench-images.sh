#!/usr/bin/env bash
# Image benchmark (issues 3 and 11): cold build, warm rebuild after a one-line change with its compile and test
# times from BuildKit's own log and the overhead above them (and every step BuildKit ran in the median rebuild,
# and a no-op rebuild: what the overhead is spent on), build context size, runtime image size and its app layers,
# start-to-ready, requests/s and p99 of `/` on 127.0.0.1.
# Run from the repo root: `npm run bench:images`. Prints Markdown and writes it to docs/BENCHMARKS-images.md
# (SLIPWAY_BENCH_OUT to write elsewhere). SLIPWAY_BENCH_COLD_RUNS (default 3) and SLIPWAY_BENCH_WARM_RUNS (default 5)
# set how many cold builds and warm rebuilds the medians are taken over.
#
# Destructive for the local build cache: each cold build starts with `docker builder prune -af`, which empties the
# build cache of every user of this Docker engine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
docker_env="$(bash scripts/docker-env.sh)"
eval "$docker_env"
D="$SLIPWAY_DOCKER"
REG="$SLIPWAY_REGISTRY"
BASE="$SLIPWAY_STANDIN_IMAGE"
NODE="$(readlink -f node_modules/.bin/node)"
WORK="$(mktemp -d /var/tmp/slipway-bench.XXXXXX)"
OUT="${SLIPWAY_BENCH_OUT:-$ROOT/docs/BENCHMARKS-images.md}"
BENCH_SECONDS="${SLIPWAY_BENCH_SECONDS:-10}"
CONTAINERS=()
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do "$D" rm -f "$c" >/dev/null 2>&1 || true; done
  [[ -n "${SLIPWAY_BENCH_KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[bench] %s\n' "$*" >&2; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }

app_build() { # app_build CONTEXT TARGET TAG
  "$D" build --progress=plain --target "$2" -t "$3" \
    --build-arg "BUILD_IMAGE=$BUILD_IMAGE_REF" --build-arg "RUNTIME_BASE_IMAGE=$BASE" \
    --build-arg BUILD_NUMBER=bench --build-arg GIT_BRANCH=bench --build-arg GIT_SHA=bench "$1"
}

# BuildKit's own step timings, from a --progress=plain log: "#16 [compile 4/4] RUN …" names the step, "#16 DONE 7.6s"
# ends it, "#16 CACHED" says it came from cache. step_secs LOG STAGE -> seconds, "cached", or "" (never ran).
step_secs() {
  local id
  id="$(grep -m1 -E "^#[0-9]+ \[$2 [0-9]+/[0-9]+\] RUN " "$1" | cut -d' ' -f1)"
  [[ -n "$id" ]] || return 0
  if grep -qx "$id CACHED" "$1"; then echo cached; return 0; fi
  grep -E "^$id DONE [0-9.]+s$" "$1" | tail -n 1 | awk '{ sub(/s$/, "", $3); print $3 }'
}
# step_times LOG -> "seconds<TAB>name" for every step BuildKit ran to DONE (not cached), in the order BuildKit
# first printed them; steps that ran at the same time overlap, so their times do not add up to the wall time.
step_times() {
  awk '/^#[0-9]+ / {
    id = $1; rest = substr($0, length(id) + 2)
    if (!(id in name)) { name[id] = rest; order[++n] = id; next }
    if (rest ~ /^DONE [0-9.]+s$/) { t = rest; sub(/^DONE /, "", t); sub(/s$/, "", t); done[id] = t }
  } END { for (i = 1; i <= n; i++) if (order[i] in done) printf "%s\t%s\n", done[order[i]], substr(name[order[i]], 1, 64) }' "$1"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)) }'; }
s_to_ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }
# What else is using the CPU (the machine is shared): processes above 10 % over one second (top's second sample),
# busiest first, named by their program (and, for node, the script it runs: "node tsc"); go's per-package compiler
# shows as "compile".
busy() {
  top -b -n 2 -d 1 -c -w 512 | awk '/^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 {
    n = split($12, p, "/"); name = p[n]
    if ((name == "node" || name == "npm") && NF > 12) { m = split($13, q, "/"); name = name " " q[m] }
    if (name == "top") next
    printf "%s%s %d%%", sep, name, $9; sep = ", " }'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
STATE_START="load $(loadavg); busy: $(busy)"

# --- cold: no build cache at all (layers, npm and tsc cache mounts). Run 1 also builds the build image cold.
COLD_RUNS="${SLIPWAY_BENCH_COLD_RUNS:-3}"
WARM_RUNS="${SLIPWAY_BENCH_WARM_RUNS:-5}"
# A copy of the context, so the one-line changes below never touch the work tree.
mkdir -p "$WORK/ctx"
tar -C app --exclude=node_modules --exclude=dist --exclude=test-results.xml -c . | tar -C "$WORK/ctx" -x
COLD=()
for i in $(seq 1 "$COLD_RUNS"); do
  log "cold build $i/$COLD_RUNS (after docker builder prune -af)"
  "$D" rmi -f "$REG/slipway-app:bench" >/dev/null 2>&1 || true
  if ((i == 1)); then "$D" rmi -f "$REG/slipway-build-image:bench" >/dev/null 2>&1 || true; fi
  "$D" builder prune -af >/dev/null
  if ((i == 1)); then
    t=$(ms_now)
    "$D" build --progress=plain --build-arg "BASE_IMAGE=$BASE" -t "$REG/slipway-build-image:bench" build-image \
      >"$WORK/build-image.log" 2>&1
    BUILD_IMAGE_MS=$(($(ms_now) - t))
    "$D" push "$REG/slipway-build-image:bench" >"$WORK/push.log" 2>&1
    BUILD_DIGEST="$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$WORK/push.log" | tail -n 1)"
    BUILD_IMAGE_REF="$REG/slipway-build-image@$BUILD_DIGEST"
  fi
  t=$(ms_now)
  app_build "$WORK/ctx" runtime "$REG/slipway-app:bench" >"$WORK/cold-$i.log" 2>&1
  COLD+=($(($(ms_now) - t)))
done
COLD_MS=$(printf '%s\n' "${COLD[@]}" | median)
# Step times of the median cold build: in a cold build `prune` runs beside `compile` and `test`.
COLD_LOG="$WORK/cold-1.log"
for i in $(seq 1 "$COLD_RUNS"); do if ((COLD[i - 1] == COLD_MS)); then COLD_LOG="$WORK/cold-$i.log"; fi; done
COLD_STEPS="npm ci $(step_secs "$COLD_LOG" deps) s, compile $(step_secs "$COLD_LOG" compile) s, tests $(step_secs "$COLD_LOG" test) s, prune $(step_secs "$COLD_LOG" prune) s"

# --- warm: one changed line of source per run; dependency layers must come from cache. Compile and test times
# come from BuildKit's log of the same build, so overhead = wall − max(compile, tests) is per build: the client and
# its session, context upload, cache lookups, the COPY steps and the image export. `compile` and `test` both start
# from `deps` and run at the same time, so neither waits for the other; on 2 cores they share the CPU.
STATE_WARM="load $(loadavg); busy: $(busy)"
WARM=() COMPILE=() TESTS=() OVERHEAD=() WARM_ROWS=()
DEPS_CACHED=0 PRUNE_CACHED=0
for i in $(seq 1 "$WARM_RUNS"); do
  log "warm rebuild $i/$WARM_RUNS after a one-line source change"
  echo "export const benchRebuild$i = \"$(date +%s%N)\";" >>"$WORK/ctx/src/log.ts"
  load_before="$(loadavg)"
  t=$(ms_now)
  app_build "$WORK/ctx" runtime "$REG/slipway-app:bench" >"$WORK/warm-$i.log" 2>&1
  wall=$(($(ms_now) - t))
  compile="$(step_secs "$WORK/warm-$i.log" compile)"
  tests="$(step_secs "$WORK/warm-$i.log" test)"
  if [[ "$(step_secs "$WORK/warm-$i.log" deps)" == cached ]]; then DEPS_CACHED=$((DEPS_CACHED + 1)); fi
  if [[ "$(step_secs "$WORK/warm-$i.log" prune)" == cached ]]; then PRUNE_CACHED=$((PRUNE_CACHED + 1)); fi
  if ! [[ "$compile" =~ ^[0-9.]+$ && "$tests" =~ ^[0-9.]+$ ]]; then
    log "warm build $i: no BuildKit timing for compile ('$compile') or tests ('$tests'); see $WORK/warm-$i.log"
    exit 1
  fi
  longest=$(s_to_ms "$compile")
  if (($(s_to_ms "$tests") > longest)); then longest=$(s_to_ms "$tests"); fi
  WARM+=("$wall") COMPILE+=("$(s_to_ms "$compile")") TESTS+=("$(s_to_ms "$tests")") OVERHEAD+=($((wall - longest)))
  WARM_ROWS+=("| $i | $(secs "$wall") | ${compile} s | ${tests} s | $(secs $((wall - longest))) | $load_before |")
done
WARM_MS=$(printf '%s\n' "${WARM[@]}" | median)
COMPILE_MS=$(printf '%s\n' "${COMPILE[@]}" | median)
TESTS_MS=$(printf '%s\n' "${TESTS[@]}" | median)
OVERHEAD_MS=$(printf '%s\n' "${OVERHEAD[@]}" | median)
RATIO_PCT=$((WARM_MS * 100 / COLD_MS))
# The median warm rebuild's own log: every step BuildKit ran in it, with its time.
WARM_MEDIAN_RUN=1
for i in $(seq 1 "$WARM_RUNS"); do if ((WARM[i - 1] == WARM_MS)); then WARM_MEDIAN_RUN=$i; fi; done
WARM_STEPS_ROWS="$(step_times "$WORK/warm-$WARM_MEDIAN_RUN.log" | awk -F '\t' '{ gsub(/\|/, "\\|", $2); printf "| `%s` | %s s |\n", $2, $1 }')"
# A no-op rebuild (nothing changed, every step cached): what a build costs before any step has work to do.
NOOP=()
for i in 1 2 3; do
  t=$(ms_now)
  app_build "$WORK/ctx" runtime "$REG/slipway-app:bench" >"$WORK/noop-$i.log" 2>&1
  NOOP+=($(($(ms_now) - t)))
done
NOOP_MS=$(printf '%s\n' "${NOOP[@]}" | median)
goal() { if (($1)); then echo "met"; else echo "**not met**"; fi; }
OVERHEAD_GOAL=$(goal "OVERHEAD_MS <= 1500")
RATIO_GOAL=$(goal "WARM_MS * 100 <= COLD_MS * 40")
STATE_END="load $(loadavg); busy: $(busy)"

# --- context sizes: what Docker sends after .dockerignore, measured as a tar of the context.
context_bytes() { # context_bytes DIR -> bytes of the context tar
  printf 'FROM scratch\nCOPY . /\n' >"$WORK/ctx.Dockerfile"
  "$D" build -q -f "$WORK/ctx.Dockerfile" -o "type=tar,dest=$WORK/ctx.tar" "$1" >/dev/null 2>&1
  stat -c %s "$WORK/ctx.tar"
}
APP_CTX=$(context_bytes app)
APP_CTX_FILES=$(tar -tf "$WORK/ctx.tar" | grep -vc '/$')
BI_CTX=$(context_bytes build-image)

# --- image sizes: total, and the layers the app adds over its base (uncompressed and as pushed).
log "image sizes"
"$D" push "$REG/slipway-app:bench" >"$WORK/push-app.log" 2>&1
IMAGE_BYTES=$("$D" image inspect -f '{{.Size}}' "$REG/slipway-app:bench")
BASE_BYTES=$("$D" image inspect -f '{{.Size}}' "$BASE")
BASE_LAYERS=$("$D" image inspect -f '{{len .RootFS.Layers}}' "$BASE")
APP_LAYERS_BYTES=$((IMAGE_BYTES - BASE_BYTES))
APP_LAYERS_PUSHED=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/slipway-app/manifests/bench" \
  | "$NODE" -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const m = JSON.parse(s); const skip = Number(process.argv[1]);
      console.log(m.layers.slice(skip).reduce((n, l) => n + l.size, 0)); })' "$BASE_LAYERS")
APP_LAYER_COUNT=$(($("$D" image inspect -f '{{len .RootFS.Layers}}' "$REG/slipway-app:bench") - BASE_LAYERS))

# --- start to ready: docker start -> first 200 from /readyz, five runs.
log "start-to-ready"
READY=()
READY_PROC=()
for _ in 1 2 3 4 5; do
  c="$("$D" create -p 127.0.0.1::8080 -e DRAIN_DELAY_MS=0 "$REG/slipway-app:bench")"
  CONTAINERS+=("$c")
  t=$(ms_now)
  "$D" start "$c" >/dev/null
  addr="$("$D" port "$c" 8080/tcp | head -n 1)"
  for _ in $(seq 1 500); do curl -fs -o /dev/null "http://$addr/readyz" && break; sleep 0.01; done
  ready_at=$(ms_now)
  READY+=($((ready_at - t)))
  READY_PROC+=($((ready_at - $(date -d "$("$D" inspect -f '{{.State.StartedAt}}' "$c")" +%s%3N))))
  "$D" rm -f "$c" >/dev/null
done
READY_SORTED=($(printf '%s\n' "${READY[@]}" | sort -n))
READY_MEDIAN=${READY_SORTED[2]}
READY_MAX=${READY_SORTED[4]}
READY_PROC_SORTED=($(printf '%s\n' "${READY_PROC[@]}" | sort -n))

# --- throughput and p99 of GET / with wrk: through the published port (docker-proxy) and, for comparison,
# with the container on the host network bound to 127.0.0.1 only.
log "wrk ${BENCH_SECONDS}s x2"
wrk_run() { # wrk_run URL -> "rps p99"
  wrk -t2 -c32 -d"${BENCH_SECONDS}s" --latency "$1" >"$WORK/wrk.txt" 2>&1
  local rps p99 errs
  rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$WORK/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/wrk.txt" | xargs)
  echo "$rps $p99 ${errs:-none}"
}
c="$("$D" run -d -p 127.0.0.1::8080 -e DRAIN_DELAY_MS=0 "$REG/slipway-app:bench")"
CONTAINERS+=("$c")
addr="$("$D" port "$c" 8080/tcp | head -n 1)"
until curl -fs -o /dev/null "http://$addr/readyz"; do sleep 0.05; done
read -r PROXY_RPS PROXY_P99 PROXY_ERRS <<<"$(wrk_run "http://$addr/")"
"$D" rm -f "$c" >/dev/null
HOST_PORT=18089
c="$("$D" run -d --network host -e HOST=127.0.0.1 -e PORT=$HOST_PORT -e METRICS_PORT=19469 -e DRAIN_DELAY_MS=0 \
  "$REG/slipway-app:bench")"
CONTAINERS+=("$c")
until curl -fs -o /dev/null "http://127.0.0.1:$HOST_PORT/readyz"; do sleep 0.05; done
read -r HOST_RPS HOST_P99 HOST_ERRS <<<"$(wrk_run "http://127.0.0.1:$HOST_PORT/")"
"$D" rm -f "$c" >/dev/null

mkdir -p "$(dirname "$OUT")"
{
  echo "# Image benchmark"
  echo
  echo "Written by \`npm run bench:images\` (scripts/bench-images.sh); every figure below comes from that one run."
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), Docker $("$D" version -f '{{.Server.Version}}')" \
    "(BuildKit of the Docker engine, \`--progress=plain\`)."
  echo "Base images: the local stand-in \`$BASE\` (public registries unreachable)."
  echo
  echo "Machine state (the machine is shared; \"busy\" lists other processes above 10 % CPU, 100 % = one core):"
  echo "- at the start: $STATE_START"
  echo "- before the warm rebuilds: $STATE_WARM"
  echo "- after the warm rebuilds: $STATE_END"
  echo
  echo "| figure | value | goal |"
  echo "|---|---|---|"
  echo "| cold build, build image (no cache) | $(secs "$BUILD_IMAGE_MS") | |"
  echo "| cold build, app image \`runtime\` (no layer cache, empty npm and tsc caches), median of $COLD_RUNS | $(secs "$COLD_MS") (all: $(for c in "${COLD[@]}"; do printf '%s ' "$(secs "$c")"; done | sed 's/ $//'); median run: $COLD_STEPS) | |"
  echo "| warm rebuild after a one-line change in \`app/src\`, median of $WARM_RUNS | $(secs "$WARM_MS") = ${RATIO_PCT} % of the cold app build | ≤ 40 %: $RATIO_GOAL |"
  echo "| … compile step (tsc, incremental), BuildKit's time, median | $(secs "$COMPILE_MS") | |"
  echo "| … test step (node --test on the TypeScript sources, beside compile), BuildKit's time, median | $(secs "$TESTS_MS") | |"
  echo "| … overhead = warm − max(compile, tests), per build, median | $(secs "$OVERHEAD_MS") | ≤ 1.5 s: $OVERHEAD_GOAL |"
  echo "| no-op rebuild (nothing changed, every step cached), median of 3: the floor of any overhead | $(secs "$NOOP_MS") (all: $(for c in "${NOOP[@]}"; do printf '%s ' "$(secs "$c")"; done | sed 's/ $//')) | |"
  echo "| … dependency steps from cache on the warm rebuilds | \`npm ci\`: $DEPS_CACHED/$WARM_RUNS, prune: $PRUNE_CACHED/$WARM_RUNS | all |"
  echo "| build context, app | $(awk -v b="$APP_CTX" 'BEGIN {printf "%.1f kB", b/1000}') ($APP_CTX_FILES files) | < 1 MB |"
  echo "| build context, build-image | $(awk -v b="$BI_CTX" 'BEGIN {printf "%.1f kB", b/1000}') | < 1 MB |"
  echo "| runtime image size (on the stand-in base) | $(mb "$IMAGE_BYTES") (base $(mb "$BASE_BYTES")) | |"
  echo "| app layers over the base | $APP_LAYER_COUNT layers, $(mb "$APP_LAYERS_BYTES") uncompressed, $(mb "$APP_LAYERS_PUSHED") as pushed | ≤ 25 MB |"
  echo "| start-to-ready, process start (State.StartedAt) → first 200 on /readyz, 5 runs | median ${READY_PROC_SORTED[2]} ms, max ${READY_PROC_SORTED[4]} ms | ~1 s |"
  echo "| start-to-ready, \`docker start\` call → first 200 on /readyz, 5 runs | median ${READY_MEDIAN} ms, max ${READY_MAX} ms (all: ${READY[*]}) | |"
  echo "| GET / via published port 127.0.0.1 (docker-proxy), wrk -t2 -c32 ${BENCH_SECONDS}s | ${PROXY_RPS} req/s, p99 ${PROXY_P99}, errors: ${PROXY_ERRS} | |"
  echo "| GET / on host network, 127.0.0.1 only, wrk -t2 -c32 ${BENCH_SECONDS}s | ${HOST_RPS} req/s, p99 ${HOST_P99}, errors: ${HOST_ERRS} | |"
  echo
  echo "Warm rebuilds, each after its own one-line change (\`export const benchRebuildN = …\` appended to src/log.ts);"
  echo "compile and tests are the DONE times BuildKit printed for those steps in the same build:"
  echo
  echo "| run | wall | compile | tests | overhead = wall − max | load average before |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${WARM_ROWS[@]}"
  echo
  echo "Every step BuildKit ran in the median warm rebuild (run $WARM_MEDIAN_RUN, $(secs "$WARM_MS") wall), with the time it printed;"
  echo "steps not listed came from cache. Steps that ran at the same time overlap:"
  echo
  echo "| step | BuildKit's time |"
  echo "|---|---|"
  echo "$WARM_STEPS_ROWS"
  echo
  echo "Stages: \`compile\` (one tsc pass, incremental through a cache mount), \`test\` (\`node --test\` on the"
  echo "TypeScript sources, under Node's type stripping) and \`prune\` all start from \`deps\` and run at the same"
  echo "time; \`runtime\` copies node_modules from \`prune\`, dist from \`compile\` and its package.json from"
  echo "\`test\` (the gate)."
} | tee "$OUT"
