/**
 * `npm run bench:e2e` (issue 18): Slipway against the same work done without it, on the real engine and node, in
 * one run. Run by scripts/bench-e2e.sh, which starts the toolchain, registry, BuildKit and a freshly started node.
 *
 * Every comparison is paired and interleaved (A, B, A, B …, SLIPWAY_BENCH_PAIRS of each, default 5), timed with ms
 * timers outside the engine, and reported as medians with their spread (min–max) and the machine's load beside
 * them. Engine steps are timed by when their events reach the event log (the events' own timestamps have whole
 * seconds). Prints Markdown and writes docs/BENCHMARKS-e2e.md. Benchmarks, not tests: nothing fails on a slow figure.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { answeredSha, kubectlOk } from "../test/e2e/support/machine";
import { changeAppSource } from "../test/e2e/support/shared";
import { startLoad, summarize, type Sample } from "../test/e2e/support/load";
import { ok, REPO, run, Workspace } from "../test/e2e/support/workspace";

const PAIRS = Number(process.env.SLIPWAY_BENCH_PAIRS ?? "5");
const STATE = process.env.SLIPWAY_STATE_DIR ?? "/var/lib/slipway";
const BUILDKIT = `unix://${path.join(STATE, "buildkit", "buildkitd.sock")}`;
const NAMESPACE = "hello-local";
const REPLICAS = 3;
/** Requests per second through the NodePort, for each of the two kinds of client. */
const RATE = 150;

const log = (s: string) => process.stderr.write(`[bench:e2e] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

/** One timed run: seconds, and the 1-minute load average when it started. */
interface Timed {
    seconds: number;
    load: number;
}
interface Spread {
    median: number;
    min: number;
    max: number;
}
function spread(xs: number[]): Spread {
    const s = [...xs].sort((a, b) => a - b);
    const mid = s.length / 2;
    const median = s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
    return { median, min: s[0], max: s[s.length - 1] };
}
const fmt = (x: Spread, unit = "s", digits = 1) =>
    `${x.median.toFixed(digits)} ${unit} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;

/** A row of the table: what A and B are, their figures, the ratio of medians against its goal, and the load. */
interface Row {
    figure: string;
    a: string;
    b: string;
    ratio?: number;
    goal?: number;
    load: Spread;
}
const rows: Row[] = [];
function pairRow(figure: string, a: Timed[], b: Timed[], goal: number): void {
    const sa = spread(a.map((t) => t.seconds));
    const sb = spread(b.map((t) => t.seconds));
    const row: Row = { figure, a: fmt(sa), b: fmt(sb), ratio: sa.median / sb.median, goal, load: spread([...a, ...b].map((t) => t.load)) };
    rows.push(row);
    log(`${figure}: ${row.a} / ${row.b} = ${row.ratio!.toFixed(2)}× (goal ≤ ${goal}×), load ${fmt(row.load, "", 2)}`);
}

/** Runs `a` and `b` interleaved, `PAIRS` times each (A first), each timed by `step` itself. */
async function interleaved(what: string, a: () => Promise<number>, b: () => Promise<number>): Promise<[Timed[], Timed[]]> {
    const as: Timed[] = [];
    const bs: Timed[] = [];
    for (let i = 0; i < PAIRS; i++) {
        for (const [side, step, into] of [
            ["A", a, as],
            ["B", b, bs],
        ] as const) {
            const load = loadAverage();
            const seconds = await step();
            into.push({ seconds, load });
            log(`${what} ${side}${i + 1}: ${seconds.toFixed(2)} s (load ${load})`);
        }
    }
    return [as, bs];
}

/** Wall-clock seconds of an async step. */
async function seconds(step: () => Promise<unknown>): Promise<number> {
    const t = process.hrtime.bigint();
    await step();
    return Number(process.hrtime.bigint() - t) / 1e9;
}

/**
 * Resolves with the wall-clock ms when the change is live on every replica: every pod of the namespace that is not
 * terminating runs with `sha` in its GIT_SHA and is ready, and `GET /` answers with it. A Service spreads requests
 * over old and new pods during a rollout, so a few answers with the new sha are not yet "live".
 */
async function liveAt(port: number, sha: string, timeoutSeconds: number): Promise<number> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (Date.now() < deadline) {
        const at = Date.now();
        const pods = (JSON.parse(await kubectlOk(["-n", NAMESPACE, "get", "pods", "-o", "json"])).items as any[]).filter(
            (p) => !p.metadata.deletionTimestamp,
        );
        const runsSha = (p: any) => p.spec.containers[0].env?.some((e: any) => e.name === "GIT_SHA" && e.value === sha);
        const ready = (p: any) => p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
        if (pods.length === REPLICAS && pods.every((p) => runsSha(p) && ready(p)) && (await answeredSha(port)) === sha) return at;
        await sleep(200);
    }
    throw new Error(`the pods did not all run ${sha} within ${timeoutSeconds} s`);
}

/** Resolves with the wall-clock ms when every pod of the namespace runs `ref` and is ready. */
async function servingAt(ref: string, timeoutSeconds: number): Promise<number> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (Date.now() < deadline) {
        const pods = (JSON.parse(await kubectlOk(["-n", NAMESPACE, "get", "pods", "-o", "json"])).items as any[]).filter(
            (p) => !p.metadata.deletionTimestamp,
        );
        const ready = (p: any) => p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
        if (pods.length === REPLICAS && pods.every((p) => p.spec.containers[0].image === ref && ready(p))) return Date.now();
        await sleep(200);
    }
    throw new Error(`${NAMESPACE} did not serve ${ref} within ${timeoutSeconds} s`);
}

/**
 * Stamps each line of an engine event log with the wall-clock ms it appeared (polled every 25 ms), since the
 * events' own timestamps have whole seconds. `stop()` gives the stamped events.
 */
function tailEvents(file: string): { stop(): Promise<{ at: number; event: any }[]> } {
    const events: { at: number; event: any }[] = [];
    let offset = 0;
    let rest = "";
    let stopped = false;
    const poll = () => {
        if (!existsSync(file)) return;
        const text = readFileSync(file);
        if (text.length <= offset) return;
        const at = Date.now();
        const lines = (rest + text.subarray(offset).toString("utf8")).split("\n");
        offset = text.length;
        rest = lines.pop() ?? "";
        for (const line of lines.filter(Boolean)) events.push({ at, event: JSON.parse(line) });
    };
    const loop = (async () => {
        while (!stopped) {
            poll();
            await sleep(25);
        }
        poll();
    })();
    return {
        async stop() {
            stopped = true;
            await loop;
            return events;
        },
    };
}

/** When the step of the resource named `name` started and ended (wall-clock ms of its events' arrival). */
function stepMs(events: { at: number; event: any }[], name: string): { start: number; end: number } {
    const of = (e: any) => e?.metadata?.urn?.endsWith(`::${name}`);
    const start = events.find((e) => of(e.event.resourcePreEvent))?.at;
    const end = events.find((e) => of(e.event.resOutputsEvent))?.at;
    if (start === undefined || end === undefined) throw new Error(`no step of ${name} in the event log`);
    return { start, end };
}

/**
 * Where one run of an npm script spends its time: each process it starts that says something about it (every Pulumi
 * CLI call, the local loop's scripts, kubectl, curl, the Slipway CLI), from its exec to its exit. strace follows the
 * whole process tree and records only execs and exits. Calls nest (a script runs kubectl): the list is not a sum.
 */
async function profile(ws: Workspace, script: string, args: string[]): Promise<string> {
    const trace = path.join(ws.dir, ".slipway", `${script}.strace`);
    const t0 = Date.now();
    ok(
        await run(
            "strace",
            [
                ...["-f", "-q", "--seccomp-bpf", "-ttt", "-s", "256", "-e", "trace=execve", "-e", "signal=none", "-o", trace],
                ...["npm", "run", "--silent", script, "--", ...args],
            ],
            { cwd: ws.dir, env: { ...ws.env, PATH: `${path.join(REPO, "node_modules", ".bin")}:${ws.env.PATH}` }, timeoutSeconds: 900 },
        ),
        `profiled ${script}`,
    );
    const total = Date.now() - t0;
    const label = (file: string, argv: string[]): string | undefined => {
        const name = path.basename(file);
        if (name === "pulumi") return `pulumi ${argv.slice(1, argv[2]?.startsWith("-") ? 2 : 3).join(" ")}`;
        const sh = argv.find((a) => a.endsWith(".sh"));
        if (sh) return `${path.basename(sh)} ${argv[argv.indexOf(sh) + 1] ?? ""}`.trim();
        const ts = argv.find((a) => a.endsWith("tools/main.ts"));
        if (ts) return `slipway ${argv[argv.indexOf(ts) + 1]} (ts-node)`;
        if (name === "kubectl" || name === "curl" || name === "buildctl") return name;
        return undefined;
    };
    // `<pid> <seconds> execve("<file>", ["<argv0>", …], …) = 0` … `<pid> <seconds> +++ exited with 0 +++`
    const started = new Map<string, { at: number; what: string }>();
    const calls: { at: number; ms: number; what: string }[] = [];
    for (const line of readFileSync(trace, "utf8").split("\n")) {
        const exec = /^(\d+)\s+([\d.]+) execve\("([^"]*)", \[(.*?)\], .* = 0$/.exec(line);
        if (exec) {
            const what = label(
                exec[3],
                [...exec[4].matchAll(/"([^"]*)"/g)].map((m) => m[1]),
            );
            // A script execs bash again under the same pid (a shebang): the first exec names the call.
            if (what && !started.has(exec[1])) started.set(exec[1], { at: Number(exec[2]) * 1000, what });
            continue;
        }
        const exit = /^(\d+)\s+([\d.]+) \+\+\+ (exited|killed)/.exec(line);
        const call = exit && started.get(exit[1]);
        if (exit && call) {
            calls.push({ at: call.at, ms: Number(exit[2]) * 1000 - call.at, what: call.what });
            started.delete(exit[1]);
        }
    }
    if (calls.length === 0) throw new Error(`nothing to profile in ${trace}`);
    const byWhat = new Map<string, { n: number; ms: number; first: number }>();
    calls.sort((x, y) => x.at - y.at);
    // A script that execs another under one name (npm's sh, then bash) counts once: its outermost call.
    const nested = (c: (typeof calls)[number]) =>
        calls.some(
            (o) =>
                o !== c &&
                o.what === c.what &&
                o.at + o.ms >= c.at + c.ms &&
                (o.at < c.at || (o.at === c.at && calls.indexOf(o) < calls.indexOf(c))),
        );
    for (const c of calls.filter((c) => c.ms >= 10 && !nested(c))) {
        const seen = byWhat.get(c.what) ?? { n: 0, ms: 0, first: c.at };
        byWhat.set(c.what, { n: seen.n + 1, ms: seen.ms + c.ms, first: Math.min(seen.first, c.at) });
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const list = [...byWhat]
        .sort(([, x], [, y]) => x.first - y.first)
        .map(([what, v]) => `${what}${v.n > 1 ? ` ${v.n}×` : ""} ${s(v.ms)}`)
        .join("; ");
    return `where one \`npm run ${[script, ...(args.length ? ["--", ...args] : [])].join(" ")}\` spends its ${s(total)} (under strace), in the order it starts them: ${list}`;
}

async function main(): Promise<void> {
    const startedAt = new Date();
    const extra: string[] = [];
    extra.push(`node: cold start from cached binaries to Ready, with DNS: ${process.env.SLIPWAY_E2E_NODE_SECONDS} s`);

    const ws = new Workspace("bench");
    mkdirSync(path.join(ws.dir, ".pulumi"));
    Object.assign(ws.env, {
        PULUMI_BACKEND_URL: `file://${path.join(ws.dir, ".pulumi")}`,
        KUBECONFIG: path.join(ws.dir, ".slipway", "kubeconfig"),
        SLIPWAY_OFFLINE: "1",
    });
    const pulumi = (args: string[], options: { env?: NodeJS.ProcessEnv } = {}) => ws.pulumi(args, { timeoutSeconds: 900, ...options });
    ok(await ws.npm("up:local", [], { timeoutSeconds: 1800 }), "first up:local");
    // Three replicas (and the quota a rollout of three needs): rollouts and rollbacks below roll three pods.
    ok(await pulumi(["config", "set", "--stack", "local", "--path", "app.replicas", String(REPLICAS)]), "replicas");
    ok(await pulumi(["config", "set", "--stack", "local", "--path", "--type", "string", "app.quota.cpu", "4"]), "quota");
    ws.commit("bench: three replicas");
    ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "up:local with three replicas");
    const port = Number((readFileSync(path.join(ws.dir, "Pulumi.local.yaml"), "utf8").match(/nodePort: (\d+)/) ?? [])[1]);
    const outputs = async () => JSON.parse(ok(await pulumi(["stack", "output", "--stack", "local", "--json"]), "outputs").stdout);
    const registry = String((await outputs()).registryServer);
    const buildImageRef = String((await outputs()).buildImageRef);
    // The offline base up:local chose for this machine: the bench's own `pulumi up`s build from it too.
    const base = readFileSync(path.join(ws.dir, ".slipway", "base-image"), "utf8").trim();
    ws.env.SLIPWAY_BASE_IMAGE = base;
    let changes = 0;
    // Unique text: BuildKit keeps its cache across runs, and a change it has built before would cost nothing.
    const change = () => changeAppSource(ws, `bench: one-line change ${++changes} at ${Date.now()}`);

    // --- change to live: up:local against the same work by hand ------------------------------------------------
    // By hand does what the engine's build does (same daemon, same build args and target, the same registry cache
    // imported and exported in max mode, the same three tags pushed), then points the Deployment at the digest.
    const byHandBuild: Timed[] = [];
    const byHandRollout: Timed[] = [];
    const [upLocal, byHand] = await interleaved(
        "change to live",
        async () => {
            const sha = change();
            const t0 = Date.now();
            const live = liveAt(port, sha, 900);
            ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "up:local after a change");
            return ((await live) - t0) / 1000;
        },
        async () => {
            const sha = change();
            const t0 = Date.now();
            const live = liveAt(port, sha, 900);
            const repo = `${registry}/hello`;
            const metadata = path.join(ws.dir, ".slipway", "by-hand.json");
            const load = loadAverage();
            const buildSeconds = await seconds(async () =>
                ok(
                    await run(
                        "buildctl",
                        [
                            ...["--addr", BUILDKIT, "build", "--frontend", "dockerfile.v0"],
                            ...["--local", `context=${path.join(ws.dir, "app")}`, "--local", `dockerfile=${path.join(ws.dir, "app")}`],
                            ...["--opt", "target=runtime"],
                            ...["--opt", `build-arg:BUILD_IMAGE=${buildImageRef}`],
                            ...["--opt", `build-arg:RUNTIME_BASE_IMAGE=${base}`],
                            ...["--opt", "build-arg:BUILD_NUMBER=local", "--opt", "build-arg:GIT_BRANCH=main"],
                            ...["--opt", `build-arg:GIT_SHA=${sha}`],
                            ...["--import-cache", `type=registry,ref=${repo}:buildcache`],
                            ...["--export-cache", `type=registry,ref=${repo}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`],
                            ...[
                                "--output",
                                `type=image,"name=${repo}:build-local,${repo}:sha-${sha.slice(0, 7)},${repo}:branch-main",push=true`,
                            ],
                            ...["--metadata-file", metadata],
                        ],
                        { timeoutSeconds: 900 },
                    ),
                    "buildctl build",
                ),
            );
            byHandBuild.push({ seconds: buildSeconds, load });
            const digest = JSON.parse(readFileSync(metadata, "utf8"))["containerimage.digest"] as string;
            const rolloutLoad = loadAverage();
            const rolloutSeconds = await seconds(async () => {
                // What Slipway's update changes in the pod template, in one patch: the image, the build's sha in
                // the env (the app answers with it) and the annotations that name both.
                const patch = {
                    spec: {
                        template: {
                            metadata: { annotations: { "slipway.dev/git-sha": sha, "slipway.dev/image": `${repo}@${digest}` } },
                            spec: { containers: [{ name: "hello", image: `${repo}@${digest}`, env: [{ name: "GIT_SHA", value: sha }] }] },
                        },
                    },
                };
                ok(
                    await run("kubectl", ["-n", NAMESPACE, "patch", "deploy/hello", "--type", "strategic", "-p", JSON.stringify(patch)], {
                        env: ws.env,
                    }),
                    "patch",
                );
                ok(
                    await run("kubectl", ["-n", NAMESPACE, "rollout", "status", "deploy/hello", "--timeout", "300s"], { env: ws.env }),
                    "rollout status",
                );
            });
            byHandRollout.push({ seconds: rolloutSeconds, load: rolloutLoad });
            return ((await live) - t0) / 1000;
        },
    );
    pairRow(
        "a one-line change in app/src to responses carrying its sha: `npm run up:local` / by hand (buildctl with the same cache and tags, one `kubectl patch` of the same template fields)",
        upLocal,
        byHand,
        1.3,
    );

    // --- the engine's own steps against the same step by hand ----------------------------------------------------
    // `pulumi up` after a change, its event log stamped as it is written: the image build step and the
    // Deployment's rollout step, against by hand's build and its patch to rollout complete (above,
    // interleaved with these).
    const engineBuild: Timed[] = [];
    const engineRollout: Timed[] = [];
    for (let i = 0; i < PAIRS; i++) {
        change();
        const file = path.join(ws.dir, ".slipway", `bench-events-${i}.jsonl`);
        const load = loadAverage();
        const tail = tailEvents(file);
        ok(
            await pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--event-log", file], {
                env: { PULUMI_DEBUG_COMMANDS: "true" },
            }),
            "up with an event log",
        );
        const events = await tail.stop();
        const build = stepMs(events, "app-image");
        const rollout = stepMs(events, "app-deployment");
        engineBuild.push({ seconds: (build.end - build.start) / 1000, load });
        engineRollout.push({ seconds: (rollout.end - rollout.start) / 1000, load });
        log(
            `engine steps ${i + 1}: build ${((build.end - build.start) / 1000).toFixed(2)} s, rollout ${((rollout.end - rollout.start) / 1000).toFixed(2)} s`,
        );
    }
    pairRow("the image build: the engine's step / `buildctl build` on the same daemon, same work", engineBuild, byHandBuild, 1.1);
    pairRow(
        `rollout of ${REPLICAS} replicas to a new digest: the Deployment's step / one \`kubectl patch\` of the same template fields + \`rollout status\``,
        engineRollout,
        byHandRollout,
        1.1,
    );

    // --- no-op up:local against the CLI starting an empty program -------------------------------------------------
    const empty = mkdtempSync(path.join(tmpdir(), "slipway-bench-empty-"));
    writeFileSync(path.join(empty, "Pulumi.yaml"), "name: empty\nruntime: nodejs\n");
    writeFileSync(path.join(empty, "index.js"), 'require("@pulumi/pulumi");\n');
    writeFileSync(path.join(empty, "package.json"), '{"name":"empty","main":"index.js"}\n');
    symlinkSync(path.join(REPO, "node_modules"), path.join(empty, "node_modules"));
    // Plain JavaScript: without the transpile-only tsconfig the toolchain names for Slipway's own program.
    const { PULUMI_NODEJS_TSCONFIG_PATH: _tsconfig, ...plain } = ws.env;
    const emptyEnv = { ...plain, PULUMI_BACKEND_URL: `file://${empty}` };
    ok(await run("pulumi", ["stack", "init", "bench"], { cwd: empty, env: emptyEnv }), "stack init");
    ok(await run("pulumi", ["up", "--stack", "bench", "--yes", "--skip-preview"], { cwd: empty, env: emptyEnv }), "first empty up");
    const [noop, emptyUp] = await interleaved(
        "no-op",
        () => seconds(async () => ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "no-op up:local")),
        () =>
            seconds(async () =>
                ok(await run("pulumi", ["up", "--stack", "bench", "--yes", "--skip-preview"], { cwd: empty, env: emptyEnv }), "empty up"),
            ),
    );
    pairRow("no change: `npm run up:local` / `pulumi up` of an empty program (CLI start and SDK load)", noop, emptyUp, 2.5);
    extra.push(await profile(ws, "up:local", []));
    rmSync(empty, { recursive: true, force: true });

    // --- rollback against `kubectl rollout undo`, from the same start state -------------------------------------
    // Start state: the newest update runs Y, the one before ran X. Each side restores X; then Y is deployed again
    // (untimed), from the stack file as committed.
    const backToY = async (args: string[]) => {
        ws.git("checkout", "--", "Pulumi.local.yaml");
        ok(await pulumi(["up", "--stack", "local", "--yes", "--skip-preview", ...args]), "back to Y");
        await servingAt(String((await outputs()).appImageRef), 300);
    };
    // Each side's command returns once the rollout is done (Pulumi's await, `kubectl rollout status`); serving is
    // then checked, and a side that returned early is timed to when every replica served.
    const timedToServing = async (command: () => Promise<void>, target: () => Promise<string>) => {
        const t0 = Date.now();
        await command();
        const t1 = Date.now();
        const ref = await target();
        const at = await servingAt(ref, 300);
        // servingAt's first look comes after `target()`: serving then means serving when the command returned.
        return ((at - t1 < 1500 ? t1 : at) - t0) / 1000;
    };
    const [rollback, undo] = await interleaved(
        "rollback",
        async () => {
            const s = await timedToServing(
                async () => void ok(await ws.npm("rollback", ["--stack", "local"], { timeoutSeconds: 900 }), "rollback"),
                async () => String((await outputs()).appImageRef),
            );
            await backToY([]);
            return s;
        },
        async () => {
            const s = await timedToServing(
                async () => {
                    ok(await run("kubectl", ["-n", NAMESPACE, "rollout", "undo", "deploy/hello"], { env: ws.env }), "rollout undo");
                    ok(
                        await run("kubectl", ["-n", NAMESPACE, "rollout", "status", "deploy/hello", "--timeout", "300s"], { env: ws.env }),
                        "rollout status",
                    );
                },
                () => kubectlOk(["-n", NAMESPACE, "get", "deploy", "hello", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
            );
            await backToY(["--refresh"]);
            return s;
        },
    );
    pairRow("back to the previous image, serving on every replica: `npm run rollback` / `kubectl rollout undo`", rollback, undo, 1.5);
    extra.push(await profile(ws, "rollback", ["--stack", "local"]));
    await backToY([]);

    // --- p99 inside the rollout window against steady state -------------------------------------------------------
    // Two kinds of client at once, RATE/s each: a new connection per request, and 8 keep-alive connections. The
    // rollout is a config-only change (no build under the load); its window is the Deployment's step.
    const p99: Record<"fresh" | "keepAlive", { steady: number[]; rollout: number[] }> = {
        fresh: { steady: [], rollout: [] },
        keepAlive: { steady: [], rollout: [] },
    };
    const loads: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
        loads.push(loadAverage());
        const fresh = startLoad({ port, rate: RATE, maxSeconds: 300 });
        const keepAlive = startLoad({ port, rate: RATE, maxSeconds: 300, keepAliveClients: 8 });
        await sleep(10_000);
        const steadyEnd = Date.now();
        ok(await pulumi(["config", "set", "--stack", "local", "--path", "app.configFile.content.message", `bench rollout ${i}`]), "config");
        const file = path.join(ws.dir, ".slipway", `bench-p99-${i}.jsonl`);
        const tail = tailEvents(file);
        ok(
            await pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--event-log", file], {
                env: { PULUMI_DEBUG_COMMANDS: "true" },
            }),
            "config rollout",
        );
        const window = stepMs(await tail.stop(), "app-deployment");
        for (const [kind, running] of [
            ["fresh", fresh],
            ["keepAlive", keepAlive],
        ] as const) {
            const samples: Sample[] = await running.stop();
            const rel = (ms: number) => ms - running.startedAt;
            const steady = summarize(samples, rel(steadyEnd - 8_000), rel(steadyEnd));
            const during = summarize(samples, rel(window.start), rel(window.end));
            if (during.failed > 0) extra.push(`rollout ${i + 1}, ${kind} clients: ${during.failed} of ${during.sent} requests failed`);
            p99[kind].steady.push(steady.p99Ms);
            p99[kind].rollout.push(during.p99Ms);
        }
        log(
            `p99 ${i + 1}: fresh ${p99.fresh.steady.at(-1)} → ${p99.fresh.rollout.at(-1)} ms, keep-alive ${p99.keepAlive.steady.at(-1)} → ${p99.keepAlive.rollout.at(-1)} ms`,
        );
    }
    for (const kind of ["fresh", "keepAlive"] as const) {
        const r = spread(p99[kind].rollout);
        const s = spread(p99[kind].steady);
        rows.push({
            figure: `p99 latency at ${RATE} requests/s, ${kind === "fresh" ? "a new connection per request" : "8 keep-alive clients"}: inside the rollout window / steady state`,
            a: fmt(r, "ms"),
            b: fmt(s, "ms"),
            ratio: r.median / s.median,
            goal: 1.5,
            load: spread(loads),
        });
    }
    ws.git("checkout", "--", "Pulumi.local.yaml");

    // --- a cold up:local: a fresh clone, no node_modules, an empty BuildKit cache and an empty registry -----------
    // down:local stops the node, the registry and BuildKit; the registry's data is set aside for the cold run and
    // put back after it.
    ok(await ws.npm("down:local", [], { timeoutSeconds: 600 }), "down:local");
    const data = path.join(STATE, `registry-${registry.split(":")[1]}`, "data");
    ok(await run("bash", [path.join(REPO, "scripts", "registry.sh"), "down"]), "registry down");
    renameSync(data, `${data}.bench-saved`);
    try {
        ok(await run("bash", [path.join(REPO, "scripts", "buildkit.sh"), "up"]), "buildkit up");
        ok(await run("buildctl", ["--addr", BUILDKIT, "prune", "--all"]), "buildctl prune --all");
        const cold = new Workspace("bench-cold", { installDependencies: true });
        mkdirSync(path.join(cold.dir, ".pulumi"));
        Object.assign(cold.env, { PULUMI_BACKEND_URL: `file://${path.join(cold.dir, ".pulumi")}`, SLIPWAY_OFFLINE: "1" });
        const load = loadAverage();
        const up = ok(await cold.npm("up:local", [], { timeoutSeconds: 3600 }), "cold up:local");
        extra.push(
            `\`npm run up:local\` really cold (a fresh clone: npm ci from npm's cache; the registry, BuildKit and the node started; the offline base and both images built with an empty BuildKit cache into an empty registry; only the toolchain's binaries were there): ${up.seconds.toFixed(1)} s (load ${load})`,
        );
        ok(await cold.npm("down:local", [], { timeoutSeconds: 600 }), "cold down:local");
        cold.dispose();
    } finally {
        await run("bash", [path.join(REPO, "scripts", "registry.sh"), "down"]);
        rmSync(data, { recursive: true, force: true });
        renameSync(`${data}.bench-saved`, data);
    }
    ws.dispose();

    const table = [
        "| figure | A | B | A / B | goal | met | load (1 min) |",
        "|---|---|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${r.figure} | ${r.a} | ${r.b} | ${r.ratio!.toFixed(2)}× | ≤ ${r.goal}× | ${r.ratio! <= r.goal! ? "yes" : "no"} | ${fmt(r.load, "", 2)} |`,
        ),
    ].join("\n");
    const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length;
    const note =
        `${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ${cores} cores; ${PAIRS} interleaved pairs per row ` +
        `(A, B, A, B …): medians, (min–max); load is the 1-minute load average when each run started.`;
    const markdown = `# End-to-end figures (\`npm run bench:e2e\`)\n\n${table}\n\n${note}\n\n${extra.map((e) => `- ${e}`).join("\n")}\n`;
    process.stdout.write(markdown);
    writeFileSync(path.join(REPO, "docs", "BENCHMARKS-e2e.md"), markdown);
}

main().then(
    // Pollers of a failed step may still be scheduled: end here rather than wait for them.
    () => process.exit(0),
    (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
    },
);
