/**
 * Faults a user meets (issue 16), on the real engine and node: `npm run up:local` killed with SIGKILL in the middle of
 * a rollout, the whole process group at once (npm, the Slipway CLI, the Pulumi CLI and its plugins), as a closed
 * laptop or an OOM kill does. The Pulumi lock and the update's pending operations stay behind; the next up:local must
 * take over and converge, and the service must keep answering throughout. The registry, then BuildKit, killed in
 * the middle of a build; the whole node killed under the running app (every process of it at once, as a power cut
 * does): one more up:local each time, and nothing is left behind. And a pin to a digest the registry does not
 * have: the deploy fails fast on ImagePullBackOff.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { activePods, answeredSha, buildkitBuilds, deployedImage, firstSeen, get, kubectlOk } from "./support/machine";
import { startLoad, summarize } from "./support/load";
import { changeAppSource, orphans, stackFile, stackHistory, stackOutputs, workspace } from "./support/shared";
import { fromEnv, ok, run, type Ran } from "./support/workspace";

const ws = workspace();
const LOCAL = "local";
/** The qa-shaped stack of the engine suite (1-engine.e2e.test.ts). */
const QA = "e2e-qa";
const NAMESPACE = "hello-local";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The NodePort the local stack's Service serves `http` on, from the stack file. */
const nodePort = () => Number((stackFile(ws, LOCAL)["slipway:app"] as { nodePort: number }).nodePort);

/** Names of the Deployment's ReplicaSets. */
async function replicaSets(): Promise<string[]> {
    return (await kubectlOk(["-n", NAMESPACE, "get", "replicasets", "-o", "jsonpath={.items[*].metadata.name}"]))
        .split(" ")
        .filter(Boolean);
}

/** The local stack's files under the file backend's locks: a lock, and the attributes file written beside it. */
function locks(): string[] {
    const dir = path.join(ws.dir, ".pulumi", ".pulumi", "locks", "organization", "slipway", LOCAL);
    try {
        return readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => e.name);
    } catch {
        return [];
    }
}

/** Where the local loop's daemons keep their pid files (scripts/lib/daemon.sh). */
const STATE_DIR = process.env.SLIPWAY_STATE_DIR ?? "/var/lib/slipway";
const pidOf = (file: string) => Number(readFileSync(path.join(STATE_DIR, file), "utf8").trim());

/** Warnings the engine printed in its summary (a line of its own, as the Diagnostics section has them). */
const engineWarnings = (output: string) => output.split("\n").filter((line) => /^\s+warning: /.test(line));

/**
 * After one more up:local: the update finished and recorded, nothing pending, no lock, nothing in the namespace
 * the state does not hold, and no engine warning but those the repair is expected to print.
 */
async function convergedAfter(again: Ran, expectedWarnings: RegExp[] = []): Promise<void> {
    const printed = engineWarnings(again.stdout + again.stderr);
    // The expected ones must be there: they show the detector reads the engine's warnings at all.
    for (const expected of expectedWarnings)
        assert.ok(
            printed.some((w) => expected.test(w)),
            `the engine warned ${expected}`,
        );
    assert.deepEqual(
        printed.filter((w) => !expectedWarnings.some((e) => e.test(w))),
        [],
        "the engine printed no other warning",
    );
    const state = JSON.parse(ok(await ws.pulumi(["stack", "export", "--stack", LOCAL]), "stack export").stdout);
    assert.deepEqual(state.deployment.pending_operations ?? [], [], "no pending operation is left");
    assert.deepEqual(locks(), [], "no lock is left");
    assert.deepEqual(await orphans(ws, LOCAL, NAMESPACE), [], "no object in the namespace that the state does not hold");
    const [last] = await stackHistory(ws, LOCAL);
    assert.equal(last.result, "succeeded");
}

/**
 * up:local with a new commit of the app, with `kill` run the moment the engine starts building the app image;
 * gives that run's result.
 */
async function upKilledMidBuild(what: string, kill: () => void): Promise<Ran> {
    changeAppSource(ws, `${what} (${Date.now()})`); // unique: BuildKit keeps its cache across runs
    let killed = false;
    let ended = false;
    const killOnce = () => {
        if (!killed) {
            killed = true;
            kill();
        }
    };
    // The build has started when BuildKit records a new build (its history lists running builds too), or when the
    // engine's progress says the app image's step is running (a display in CI may not print that line).
    const before = new Set(await buildkitBuilds());
    const watch = (async () => {
        while (!killed && !ended) {
            if ((await buildkitBuilds().catch(() => [])).some((ref) => !before.has(ref))) killOnce();
            else await sleep(100);
        }
    })();
    let output = "";
    const up = await ws.npm("up:local", [], {
        timeoutSeconds: 600,
        onOutput: (text) => {
            // Chunks end anywhere, a line included: look at all of it so far.
            output += text;
            if (/docker-build:index:Image\s+app-image\s+(creating|updating)/.test(output)) killOnce();
        },
    });
    ended = true;
    await watch;
    assert.ok(killed, `the build started (up:local exited ${up.code})`);
    return up;
}

describe("issue 16: faults a user meets, survived", function () {
    before(async () => {
        // The node suite's rollback left the local stack pinned, and a pinned stack builds nothing: the builds below
        // need it building again. That suite committed the pin, and the local stack's slipway:image before it was
        // only `source: build`, so writing that back is what restoring the file would do.
        const image = stackFile(ws, LOCAL)["slipway:image"] as { source: string };
        if (image.source !== "build") {
            ok(await ws.pulumi(["config", "rm", "--stack", LOCAL, "slipway:image"]), "config rm slipway:image");
            ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", "slipway:image.source", "build"]), "config set image.source");
        }
        assert.equal((stackFile(ws, LOCAL)["slipway:image"] as { source: string }).source, "build");
        // Its source is still the release that never got ready (the service binds loopback): fixed forward here, as
        // the person who rolled back would, so the builds below deploy a service that answers.
        const config = path.join(ws.dir, "app", "src", "config.ts");
        const loopbackOnly = 'HOST: text.default("127.0.0.1")';
        if (readFileSync(config, "utf8").includes(loopbackOnly)) {
            ws.edit("app/src/config.ts", (t) => t.replace(loopbackOnly, 'HOST: text.default("0.0.0.0")'));
        }
        assert.match(readFileSync(config, "utf8"), /HOST: text\.default\("0\.0\.0\.0"\)/);
        ws.commit("e2e: building again after the rollback, the service fixed forward");
    });

    it("up:local killed with SIGKILL mid-rollout leaves a lock and pending operations; the next up:local takes over and converges, the service answering throughout", async () => {
        const setsBefore = await replicaSets();
        // A change that rolls the pods: a new config file.
        const message = `Hello from a release interrupted by SIGKILL (${Date.now()})`;
        ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", "app.configFile.content.message", message]), "config set message");

        const load = startLoad({ port: nodePort(), rate: 50, maxSeconds: 600 });
        // Its own process group, as a terminal runs it: the kill reaches npm, the CLI and the Pulumi engine at once.
        const up = spawn("npm", ["run", "--silent", "up:local"], { cwd: ws.dir, env: ws.env, detached: true, stdio: "ignore" });
        let ended = false;
        const exited = new Promise<number | null>((resolve) =>
            up.on("exit", (code, signal) => {
                ended = true;
                resolve(signal === null ? code : -1);
            }),
        );
        // The moment to kill: the Deployment's step has reached the cluster (a new ReplicaSet exists).
        const deadline = Date.now() + 600_000;
        let killedDuring = "";
        while (Date.now() < deadline && !ended) {
            const sets = await replicaSets();
            if (sets.some((s) => !setsBefore.includes(s))) {
                killedDuring = `a new ReplicaSet (${sets.filter((s) => !setsBefore.includes(s)).join(", ")})`;
                break;
            }
            await sleep(200);
        }
        assert.ok(killedDuring, "the update reached the Deployment within 10 minutes");
        process.kill(-up.pid!, "SIGKILL");
        assert.equal(await exited, -1, "up:local was killed, not finished");
        console.log(`      killed up:local with SIGKILL once it had made ${killedDuring}`);

        // The fault is real: the update's lock and its pending operations are left behind, and plain `pulumi up`
        // stops on the lock (the negative control: without up:local's takeover nothing deploys).
        assert.equal(locks().filter((name) => name.endsWith(".json")).length, 1, "a Pulumi lock is left behind");
        const exported = JSON.parse(ok(await ws.pulumi(["stack", "export", "--stack", LOCAL]), "stack export").stdout);
        const pending = (exported.deployment.pending_operations ?? []) as { type: string; resource: { urn: string } }[];
        console.log(
            `      left behind: 1 lock, pending operations ${JSON.stringify(pending.map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`))}`,
        );
        assert.ok(pending.length > 0, "the update's pending operations are in the state");
        const plain = await ws.pulumi(["up", "--stack", LOCAL, "--yes", "--skip-preview"], { timeoutSeconds: 120 });
        assert.notEqual(plain.code, 0);
        assert.match(plain.stdout + plain.stderr, /the stack is currently locked/);

        const again = ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "up:local after the kill");
        assert.match(again.stdout + again.stderr, /cleared the lock of an update that is gone \(pid \d+/);
        const samples = await load.stop();
        const whole = summarize(samples);
        console.log(`      the service meanwhile: ${whole.sent} requests, ${whole.failed} failed`);

        const answer = await get(nodePort(), "/");
        assert.equal(answer.status, 200);
        assert.ok(answer.body.includes(message), `the interrupted release is deployed: ${answer.body}`);
        assert.equal(await deployedImage(NAMESPACE), String((await stackOutputs(ws, LOCAL)).appImageRef));
        // The one warning here reports the repair itself: the engine resolving the killed update's pending operation.
        await convergedAfter(again, [
            /warning: Attempting to deploy or update resources with 1 pending operations from previous deployment\./,
        ]);
        assert.equal(whole.failed, 0, `requests failed around the kill: ${JSON.stringify(whole.errors)}`);
        assert.ok(whole.sent >= 500, `the load ran through it (${whole.sent} requests)`);
    });

    for (const part of [
        {
            name: "the registry",
            pidFile: () => `registry-${fromEnv("SLIPWAY_E2E_REGISTRY").split(":")[1]}/registry.pid`,
            said: /the registry \(127\.0\.0\.1:\d+\)/,
        },
        { name: "BuildKit", pidFile: () => "buildkit/buildkitd.pid", said: /BuildKit/ },
    ]) {
        it(`${part.name} killed mid-build fails up:local naming it; the next up:local starts it again and deploys the commit`, async () => {
            const failed = await upKilledMidBuild(`a build that loses ${part.name}`, () => process.kill(pidOf(part.pidFile()), "SIGKILL"));
            const sha = ws.git("rev-parse", "HEAD");
            const output = failed.stdout + failed.stderr;
            assert.equal(failed.code, 1, "the build failed");
            assert.match(output, new RegExp(`${part.said.source}[^\n]* stopped during this run: run npm run up:local again`));
            console.log(`      ${part.name} killed mid-build: up:local exited 1 and said so`);

            const again = ok(await ws.npm("up:local", [], { timeoutSeconds: 600 }), "up:local after the kill");
            assert.equal(await deployedImage(NAMESPACE), String((await stackOutputs(ws, LOCAL)).appImageRef));
            // The pod it replaced may answer for a moment more while the Service lets go of it.
            const deadline = Date.now() + 10_000;
            let answered: string | undefined;
            while ((answered = await answeredSha(nodePort())) !== sha && Date.now() < deadline) await sleep(200);
            assert.equal(answered, sha, "within 10 s, the commit that was being built answers");
            await convergedAfter(again);
        });
    }

    it("the node killed under the running app (every process of it, as a power cut): the next up:local clears what it left, starts it again, and the app answers", async () => {
        const image = await deployedImage(NAMESPACE);
        assert.equal((await get(nodePort(), "/readyz")).status, 200, "the app answers before");
        const runDir = path.join(STATE_DIR, "node", "run");
        const daemons = readdirSync(runDir)
            .filter((f) => f.endsWith(".pid"))
            .map((f) => Number(readFileSync(path.join(runDir, f), "utf8")));
        // The containers too: a shim's children outlive it, and the machine losing power stops them all.
        const shims = (
            await run("pgrep", [
                "-f",
                `containerd-shim-runc-v2 .*-address ${path.join(STATE_DIR, "node", "containerd", "containerd.sock")}`,
            ])
        ).stdout
            .split("\n")
            .filter(Boolean)
            .map(Number);
        const containers = (
            await run("sh", [
                "-c",
                "find /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null",
            ])
        ).stdout
            .split("\n")
            .filter(Boolean)
            .map(Number);
        assert.ok(
            daemons.length >= 7 && shims.length > 0 && containers.length > 0,
            `the node runs (${daemons.length} daemons, ${shims.length} shims, ${containers.length} container processes)`,
        );
        for (const pid of [...daemons, ...shims, ...containers]) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone already (a container process that its shim took with it)
            }
        }
        await sleep(1000);
        assert.equal((await get(nodePort(), "/readyz")).status, 0, "nothing answers once the node is gone");
        console.log(`      killed ${daemons.length} daemons, ${shims.length} shims, ${containers.length} container processes`);

        const again = ok(await ws.npm("up:local", [], { timeoutSeconds: 600 }), "up:local after the node was killed");
        assert.match(
            again.stdout + again.stderr,
            /the node stopped without a down \(killed, crashed, or the machine restarted\): clearing what it left/,
        );
        assert.equal((await get(nodePort(), "/readyz")).status, 200, "the app answers again");
        assert.equal(await deployedImage(NAMESPACE), image, "the same image runs");
        console.log(`      the next up:local brought the node and the app back in ${again.seconds.toFixed(0)} s`);
        await convergedAfter(again);
    });

    it("a pin to a digest the registry does not have fails npm run up within 30 s of ImagePullBackOff, and the pods before keep serving", async () => {
        // The qa-shaped stack the engine suite made: pinned, on this node, in its own namespace.
        const namespace = "hello-qa";
        const pods = () => activePods(namespace);
        // What its stack file says runs first (the suites before this one deployed config they have since put back).
        ok(await ws.npm("up", ["--stack", QA], { timeoutSeconds: 600 }), `up ${QA}`);
        // Settled: as many pods as the Deployment asks for, all ready. Right after a rollout the old ReplicaSet's last
        // pod may still run (not yet deleted), and it would be gone below for a reason that is not the bad pin.
        const replicas = Number(await kubectlOk(["-n", namespace, "get", "deployment", "hello", "-o", "jsonpath={.spec.replicas}"]));
        const settled = (running: any[]) =>
            running.length === replicas && running.every((p) => p.status?.containerStatuses?.every((c: any) => c.ready));
        const deadline = Date.now() + 60_000;
        while (!settled(await pods()) && Date.now() < deadline) await sleep(500);
        const serving = (await pods()).map((p) => p.metadata.name as string).sort();
        assert.equal(serving.length, replicas, `${QA} settled on ${replicas} pods`);
        const pinned = ok(await ws.pulumi(["config", "get", "--stack", QA, "--path", "image.ref"]), "config get").stdout.trim();
        const missing = `${fromEnv("SLIPWAY_E2E_REGISTRY")}/hello@sha256:${"0".repeat(64)}`;
        ok(await ws.pulumi(["config", "set", "--stack", QA, "--path", "image.ref", missing]), "pin a missing digest");
        try {
            const backOff = firstSeen(async () =>
                (await pods()).some((p) =>
                    (p.status?.containerStatuses ?? []).some((c: any) => c.state?.waiting?.reason === "ImagePullBackOff"),
                ),
            );
            const up = await ws.npm("up", ["--stack", QA], { timeoutSeconds: 600 });
            const ended = Date.now();
            const backOffAt = await backOff.stop();
            const output = up.stdout + up.stderr;
            console.log(
                `      npm run up exited ${up.code} after ${up.seconds.toFixed(1)} s${backOffAt ? `, ${((ended - backOffAt) / 1000).toFixed(1)} s after the test saw ImagePullBackOff` : ""}`,
            );
            assert.equal(up.code, 1);
            assert.match(
                output,
                new RegExp(
                    `error: the rollout of ${QA} failed: pod ${namespace}/hello-[a-z0-9]+-[a-z0-9]+, container hello: ImagePullBackOff`,
                ),
            );
            assert.ok(backOffAt !== undefined, "the test saw the pod in ImagePullBackOff");
            assert.ok(ended - backOffAt <= 30_000, `up ended ${(ended - backOffAt) / 1000} s after ImagePullBackOff`);
            const still = (await pods()).map((p) => p.metadata.name as string);
            for (const name of serving) assert.ok(still.includes(name), `${name} kept serving`);
        } finally {
            ok(await ws.pulumi(["config", "set", "--stack", QA, "--path", "image.ref", pinned]), "pin back");
        }
        ok(await ws.npm("up", ["--stack", QA], { timeoutSeconds: 600 }), "up with the pin restored");
        const restored = Date.now() + 60_000;
        while ((await pods()).length !== serving.length && Date.now() < restored) await sleep(500);
        assert.deepEqual((await pods()).map((p) => p.metadata.name).sort(), serving, "the pods that served never restarted");
    });
});
