#!/usr/bin/env bash
# Image benchmark (issue 3): cold build, warm rebuild after a one-line change, build context size, runtime image
# size and its app layers, start-to-ready, requests/s and p99 of `/` on 127.0.0.1.
# Run from the repo root: `npm run bench:images`. Prints a Markdown table (also written to .bench/images.md).
#
# Destructive for the local build cache: the cold build starts with `docker builder prune -af`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "$(bash scripts/docker-env.sh)"
D="$SLIPWAY_DOCKER"
REG="$SLIPWAY_REGISTRY"
BASE="$SLIPWAY_STANDIN_IMAGE"
NODE="$(readlink -f node_modules/.bin/node)"
WORK="$(mktemp -d /var/tmp/slipway-bench.XXXXXX)"
OUT_DIR="$ROOT/.bench"
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

# --- cold: no build cache at all (layers and npm cache mounts), then the build image, then the app.
log "cold build (after docker builder prune -af)"
"$D" rmi -f "$REG/slipway-app:bench" "$REG/slipway-build-image:bench" >/dev/null 2>&1 || true
"$D" builder prune -af >/dev/null
t=$(ms_now)
"$D" build --progress=plain --build-arg "BASE_IMAGE=$BASE" -t "$REG/slipway-build-image:bench" build-image \
  >"$WORK/build-image.log" 2>&1
BUILD_IMAGE_MS=$(($(ms_now) - t))
"$D" push "$REG/slipway-build-image:bench" >"$WORK/push.log" 2>&1
BUILD_DIGEST="$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$WORK/push.log" | tail -n 1)"
BUILD_IMAGE_REF="$REG/slipway-build-image@$BUILD_DIGEST"
# A copy of the context, so the one-line change below never touches the work tree.
mkdir -p "$WORK/ctx"
tar -C app --exclude=node_modules --exclude=dist --exclude=test-results.xml -c . | tar -C "$WORK/ctx" -x
t=$(ms_now)
app_build "$WORK/ctx" runtime "$REG/slipway-app:bench" >"$WORK/cold.log" 2>&1
COLD_MS=$(($(ms_now) - t))

# --- warm: one changed line of source; dependency layers must come from cache.
log "warm rebuild after a one-line source change"
echo "export const benchRebuild = \"$(date +%s%N)\";" >>"$WORK/ctx/src/log.ts"
t=$(ms_now)
app_build "$WORK/ctx" runtime "$REG/slipway-app:bench" >"$WORK/warm.log" 2>&1
WARM_MS=$(($(ms_now) - t))
# BuildKit's plain log: "#12 [deps 4/4] RUN … npm ci …", later "#12 CACHED" when the layer came from cache.
NPM_STEP="$(grep -m1 -E '^#[0-9]+ \[deps [0-9]+/[0-9]+\] RUN .*npm ci' "$WORK/warm.log" | cut -d' ' -f1)"
if [[ -n "$NPM_STEP" ]] && grep -qx "$NPM_STEP CACHED" "$WORK/warm.log"; then DEPS_CACHED=yes; else DEPS_CACHED=no; fi
# How much of the warm rebuild is the test stage (tsc + unit tests), which any source change must re-run.
TEST_STEP="$(grep -m1 -E '^#[0-9]+ \[test [0-9]+/[0-9]+\] RUN ' "$WORK/warm.log" | cut -d' ' -f1)"
TEST_SECS="$(grep -E "^$TEST_STEP DONE " "$WORK/warm.log" | awk '{print $3}')"

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

mkdir -p "$OUT_DIR"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), Docker $("$D" version -f '{{.Server.Version}}')," \
    "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Base images: the local stand-in \`$BASE\` (public registries unreachable)."
  echo
  echo "| figure | value | goal |"
  echo "|---|---|---|"
  echo "| cold build, build image (no cache) | $(secs "$BUILD_IMAGE_MS") | |"
  echo "| cold build, app image \`runtime\` (no layer cache, empty npm cache) | $(secs "$COLD_MS") | |"
  echo "| warm rebuild after a one-line source change | $(secs "$WARM_MS") = $((WARM_MS * 100 / COLD_MS)) % of cold app build, $((WARM_MS * 100 / (COLD_MS + BUILD_IMAGE_MS))) % of cold build image + app; \`npm ci\` layer cached: $DEPS_CACHED; test stage (tsc + unit tests) ${TEST_SECS:-?} of it | ≤ 20 % |"
  echo "| build context, app | $(awk -v b="$APP_CTX" 'BEGIN {printf "%.1f kB", b/1000}') ($APP_CTX_FILES files) | < 1 MB |"
  echo "| build context, build-image | $(awk -v b="$BI_CTX" 'BEGIN {printf "%.1f kB", b/1000}') | < 1 MB |"
  echo "| runtime image size (on the stand-in base) | $(mb "$IMAGE_BYTES") (base $(mb "$BASE_BYTES")) | |"
  echo "| app layers over the base | $APP_LAYER_COUNT layers, $(mb "$APP_LAYERS_BYTES") uncompressed, $(mb "$APP_LAYERS_PUSHED") as pushed | ≤ 25 MB |"
  echo "| start-to-ready, process start (State.StartedAt) → first 200 on /readyz, 5 runs | median ${READY_PROC_SORTED[2]} ms, max ${READY_PROC_SORTED[4]} ms | ~1 s |"
  echo "| start-to-ready, \`docker start\` call → first 200 on /readyz, 5 runs | median ${READY_MEDIAN} ms, max ${READY_MAX} ms (all: ${READY[*]}) | |"
  echo "| GET / via published port 127.0.0.1 (docker-proxy), wrk -t2 -c32 ${BENCH_SECONDS}s | ${PROXY_RPS} req/s, p99 ${PROXY_P99}, errors: ${PROXY_ERRS} | |"
  echo "| GET / on host network, 127.0.0.1 only, wrk -t2 -c32 ${BENCH_SECONDS}s | ${HOST_RPS} req/s, p99 ${HOST_P99}, errors: ${HOST_ERRS} | |"
} | tee "$OUT_DIR/images.md"
