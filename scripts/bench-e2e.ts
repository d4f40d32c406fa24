/**
 * `npm run bench:e2e`: the engine and the node, measured in one run (issues 8, 9, 11). Run by scripts/bench-e2e.sh,
 * which starts the toolchain, registry, BuildKit and a freshly started node first.
 *
 * Prints Markdown (and writes docs/BENCHMARKS-e2e.md): a fresh clone's cold `npm run up:local`; preview, no-op up and
 * warm up in both compile modes (type-checking and transpile-only) side by side; the no-op `npm run up:local`; an
 * up after a one-line change against the same work done by hand; a rollout of three replicas under load, and a
 * rollback. Medians of SLIPWAY_BENCH_RUNS (default 3) where a step is repeated. Benchmarks, not tests: nothing here
 * fails on a slow figure.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { engineEvents, stepWindow } from "../test/e2e/support/events";
import { buildkitBuilds, kubectlOk } from "../test/e2e/support/machine";
import { changeAppSource } from "../test/e2e/support/shared";
import { startLoad, summarize } from "../test/e2e/support/load";
import { ok, REPO, run, Workspace, type Ran } from "../test/e2e/support/workspace";

const RUNS = Number(process.env.SLIPWAY_BENCH_RUNS ?? "3");
/** Requests per second through the NodePort while rolling out. */
const RATE = 300;
const STATE = process.env.SLIPWAY_STATE_DIR ?? "/var/lib/slipway";
const BUILDKIT = `unix://${path.join(STATE, "buildkit", "buildkitd.sock")}`;
const TYPECHECK = { PULUMI_NODEJS_TRANSPILE_ONLY: "false" };
const rows: [string, string][] = [];

const log = (s: string) => process.stderr.write(`[bench:e2e] ${s}\n`);
const secs = (n: number) => `${n.toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
function row(what: string, value: string): void {
    rows.push([what, value]);
    log(`${what}: ${value}`);
}

async function timed(times: number, step: () => Promise<Ran>): Promise<number> {
    const seconds: number[] = [];
    for (let i = 0; i < times; i++) seconds.push(ok(await step(), "benchmark step").seconds);
    return median(seconds);
}

/** Resolves with the time (ms since the epoch) when every pod of the namespace runs `ref` and is ready. */
async function servingWithin(namespace: string, ref: string, seconds: number): Promise<number> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
        const pods = (JSON.parse(await kubectlOk(["-n", namespace, "get", "pods", "-o", "json"])).items as any[]).filter(
            (p) => !p.metadata.deletionTimestamp,
        );
        const ready = (p: any) => p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
        if (pods.length > 0 && pods.every((p) => p.spec.containers[0].image === ref && ready(p))) return Date.now();
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${namespace} did not serve ${ref} within ${seconds} s`);
}

/** Resident memory of the node: its daemons, the containerd shims and every process of its pods, in MiB. */
function nodeMemoryMiB(): number {
    let kib = 0;
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
            const cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
            if (!cmdline.includes(`${STATE}/node/`) && !cgroup.includes("kubepods")) continue;
            kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        } catch {
            // The process ended while we looked.
        }
    }
    return kib / 1024;
}

async function main(): Promise<void> {
    row("node: cold start from cached binaries to Ready, with DNS", `${process.env.SLIPWAY_E2E_NODE_SECONDS} s`);
    await new Promise((r) => setTimeout(r, 10_000));
    row("node: resident memory when idle (daemons, shims, CoreDNS)", `${nodeMemoryMiB().toFixed(0)} MiB`);

    // A fresh clone: no node_modules, an empty BuildKit cache. up:local runs npm ci, builds both images, deploys.
    const ws = new Workspace("bench", { installDependencies: true });
    Object.assign(ws.env, { PULUMI_BACKEND_URL: `file://${path.join(ws.dir, ".pulumi")}`, SLIPWAY_OFFLINE: "1" });
    ok(await run("buildctl", ["--addr", BUILDKIT, "prune", "--all"]), "buildctl prune --all");
    const cold = ok(await ws.npm("up:local", [], { timeoutSeconds: 1800 }), "cold up:local");
    row("`npm run up:local` on a fresh clone (npm ci, both images cold, deploy, app answers)", secs(cold.seconds));
    Object.assign(ws.env, { KUBECONFIG: path.join(ws.dir, ".slipway", "kubeconfig") });
    // No commit here: a new commit is a new GIT_SHA build arg, and the first "no-op" would rebuild.

    const pulumi =
        (args: string[], env: NodeJS.ProcessEnv = {}) =>
        () =>
            ws.pulumi(args, { env, timeoutSeconds: 900 });
    const builds = (await buildkitBuilds()).length;
    const preview = await timed(RUNS, pulumi(["preview", "--stack", "local"]));
    const previewChecked = await timed(RUNS, pulumi(["preview", "--stack", "local"], TYPECHECK));
    const noop = await timed(RUNS, pulumi(["up", "--stack", "local", "--yes", "--skip-preview"]));
    const noopChecked = await timed(RUNS, pulumi(["up", "--stack", "local", "--yes", "--skip-preview"], TYPECHECK));
    const noopWithPreview = await timed(1, pulumi(["up", "--stack", "local", "--yes"]));
    const noopWithPreviewChecked = await timed(1, pulumi(["up", "--stack", "local", "--yes"], TYPECHECK));
    const noopUpLocal = await timed(RUNS, () => ws.npm("up:local", [], { timeoutSeconds: 900 }));
    const noopBuilds = (await buildkitBuilds()).length - builds;

    const change = (n: number) => changeAppSource(ws, `bench: one-line change ${n}`);
    change(1);
    const warm = ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "up:local after a change").seconds;
    change(2);
    const warmChecked = ok(
        await ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview"], { env: TYPECHECK, timeoutSeconds: 900 }),
        "up after a change (type-checked)",
    ).seconds;

    // The same work by hand: build and push the app image with buildctl, point the Deployment at it, wait.
    change(3);
    const outputs = JSON.parse(ok(await ws.pulumi(["stack", "output", "--stack", "local", "--json"]), "outputs").stdout);
    const registry = String(outputs.registryServer);
    // The offline base up:local chose on this machine (it keeps it out of the tracked stack file).
    const base = readFileSync(path.join(ws.dir, ".slipway", "base-image"), "utf8").trim();
    const handStart = process.hrtime.bigint();
    const build = ok(
        await run(
            "buildctl",
            [
                "--addr",
                BUILDKIT,
                "build",
                "--frontend",
                "dockerfile.v0",
                "--local",
                `context=${path.join(ws.dir, "app")}`,
                "--local",
                `dockerfile=${path.join(ws.dir, "app")}`,
                "--opt",
                "target=runtime",
                "--opt",
                `build-arg:BUILD_IMAGE=${outputs.buildImageRef}`,
                "--opt",
                `build-arg:RUNTIME_BASE_IMAGE=${base}`,
                "--opt",
                "build-arg:BUILD_NUMBER=bench",
                "--opt",
                "build-arg:GIT_BRANCH=bench",
                "--opt",
                `build-arg:GIT_SHA=${ws.git("rev-parse", "HEAD")}`,
                "--import-cache",
                `type=registry,ref=${registry}/hello:buildcache`,
                "--output",
                `type=image,name=${registry}/hello:by-hand,push=true`,
                "--metadata-file",
                path.join(ws.dir, ".slipway", "by-hand.json"),
            ],
            { timeoutSeconds: 900 },
        ),
        "buildctl build",
    );
    void build;
    const digest = JSON.parse(readFileSync(path.join(ws.dir, ".slipway", "by-hand.json"), "utf8"))["containerimage.digest"];
    const kubeEnv = { ...ws.env };
    ok(
        await run("kubectl", ["-n", "hello-local", "set", "image", "deploy/hello", `hello=${registry}/hello@${digest}`], { env: kubeEnv }),
        "set image",
    );
    ok(
        await run("kubectl", ["-n", "hello-local", "rollout", "status", "deploy/hello", "--timeout", "300s"], { env: kubeEnv }),
        "rollout status",
    );
    const byHand = Number(process.hrtime.bigint() - handStart) / 1e9;
    // Back to what the stack says, so the rollout below starts from Pulumi's own state.
    ok(await ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--refresh"], { timeoutSeconds: 900 }), "up --refresh");

    // Three replicas (and the quota a rollout of three needs), then a new digest under steady load through the NodePort.
    ok(await ws.pulumi(["config", "set", "--stack", "local", "--path", "app.replicas", "3"]), "replicas");
    ok(await ws.pulumi(["config", "set", "--stack", "local", "--path", "--type", "string", "app.quota.cpu", "4"]), "quota");
    ws.commit("bench: three replicas");
    ok(await ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview"], { timeoutSeconds: 900 }), "up with three replicas");
    const port = Number((ws.git("show", "HEAD:Pulumi.local.yaml").match(/nodePort: (\d+)/) ?? [])[1]);
    const steadyLoad = startLoad({ port, rate: RATE, maxSeconds: 10 });
    await new Promise((r) => setTimeout(r, 10_500));
    const steady = summarize(await steadyLoad.stop());
    const previous = String(
        JSON.parse(ok(await ws.pulumi(["stack", "output", "--stack", "local", "--json"]), "outputs").stdout).appImageRef,
    );
    change(4);
    const eventLog = path.join(ws.dir, ".slipway", "bench-events.jsonl");
    const load = startLoad({ port, rate: RATE, maxSeconds: 900 });
    const forward = ok(
        await ws.pulumi(["up", "--stack", "local", "--yes", "--skip-preview", "--event-log", eventLog], {
            timeoutSeconds: 900,
            env: { PULUMI_DEBUG_COMMANDS: "true" },
        }),
        "rollout under load",
    );
    const during = summarize(await load.stop());
    const window = stepWindow(engineEvents(readFileSync(eventLog, "utf8")), "app-deployment");
    const rolloutSeconds = (window.endMs - window.startMs) / 1000;
    const replicas = Number(await kubectlOk(["-n", "hello-local", "get", "deploy", "hello", "-o", "jsonpath={.status.updatedReplicas}"]));

    // Rollback to the digest before that change: to serving it, against the forward up to serving the new one.
    const rollbackBuilds = (await buildkitBuilds()).length;
    const rollbackLoad = startLoad({ port, rate: RATE, maxSeconds: 900 });
    const rollbackStart = Date.now();
    const serving = servingWithin("hello-local", previous, 900);
    const rollback = ok(await ws.npm("rollback", ["--stack", "local"], { timeoutSeconds: 900 }), "rollback");
    const rollbackToServing = ((await serving) - rollbackStart) / 1000;
    const rollbackLoadSummary = summarize(await rollbackLoad.stop());
    const rollbackBuilt = (await buildkitBuilds()).length - rollbackBuilds;

    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    row(
        "`pulumi preview` (transpile-only / type-checking)",
        `${secs(preview)} / ${secs(previewChecked)} = ${ratio(preview, previewChecked)}`,
    );
    row("no-op `pulumi up --skip-preview` (transpile-only / type-checking)", `${secs(noop)} / ${secs(noopChecked)}`);
    row(
        "no-op `pulumi up --yes`, preview first (transpile-only / type-checking)",
        `${secs(noopWithPreview)} / ${secs(noopWithPreviewChecked)}`,
    );
    row("no-op `npm run up:local` (everything up to date)", `${secs(noopUpLocal)} = ${ratio(noopUpLocal, preview)} the preview`);
    row("no-op up: `pulumi up` against `pulumi preview`", ratio(noop, preview));
    row("image builds during every no-op above", String(noopBuilds));
    row(
        "warm up after a one-line change in app/src (`npm run up:local` / type-checked `pulumi up`)",
        `${secs(warm)} / ${secs(warmChecked)}`,
    );
    row(
        "the same change by hand (buildctl build + push, kubectl set image, rollout status)",
        `${secs(byHand)}; up:local is ${ratio(warm, byHand)}`,
    );
    row(
        `rollout of a new digest to ${replicas} replicas under load: the Deployment's step / the whole up, build included`,
        `${secs(rolloutSeconds)} (${secs(rolloutSeconds / replicas)} per replica) / ${secs(forward.seconds)}`,
    );
    row(`requests during that up at ${RATE}/s: sent / failed / non-2xx`, `${during.sent} / ${during.failed} / ${during.non2xx}`);
    row("p99 latency: steady state / during the rollout", `${steady.p99Ms} ms / ${during.p99Ms} ms`);
    row(
        "`npm run rollback` to the previous digest: to serving it / the whole command",
        `${secs(rollbackToServing)} / ${secs(rollback.seconds)}; ${rollbackBuilt} builds; ` +
            `${rollbackLoadSummary.sent} requests, ${rollbackLoadSummary.failed} failed`,
    );
    row("rollback to serving, against the forward up to serving", ratio(rollbackToServing, forward.seconds));

    const table = ["| what | figure |", "|---|---|", ...rows.map(([w, v]) => `| ${w} | ${v} |`)].join("\n");
    const note = `${new Date().toISOString().slice(0, 10)}, ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length} cores, medians of ${RUNS} runs where repeated`;
    process.stdout.write(`${table}\n\n${note}\n`);
    writeFileSync(path.join(REPO, "docs", "BENCHMARKS-e2e.md"), `# End-to-end figures (\`npm run bench:e2e\`)\n\n${table}\n\n${note}\n`);
    ok(await ws.npm("down:local", [], { timeoutSeconds: 600 }), "down:local");
    ws.dispose();
}

main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
});
