/**
 * Faults a user meets (issue 16), on the real engine and node: `npm run up:local` killed with SIGKILL in the middle of
 * a rollout, the whole process group at once (npm, the Slipway CLI, the Pulumi CLI and its plugins), as a closed
 * laptop or an OOM kill does. The Pulumi lock and the update's pending operations stay behind; the next up:local must
 * take over and converge, and the service must keep answering throughout. And a pin to a digest the registry does
 * not have: the deploy fails fast on ImagePullBackOff.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { activePods, deployedImage, firstSeen, get, kubectlOk } from "./support/machine";
import { startLoad, summarize } from "./support/load";
import { stackFile, stackHistory, stackOutputs, workspace } from "./support/shared";
import { fromEnv, ok } from "./support/workspace";

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

describe("issue 16: faults a user meets, survived", function () {
    it("up:local killed with SIGKILL mid-rollout leaves a lock and pending operations; the next up:local takes over and converges, the service answering throughout", async () => {
        const setsBefore = await replicaSets();
        // A change that rolls the pods: a new config file (the suites before pinned the image by rolling it back).
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
        assert.deepEqual(locks(), []);
        const state = JSON.parse(ok(await ws.pulumi(["stack", "export", "--stack", LOCAL]), "stack export").stdout);
        assert.deepEqual(state.deployment.pending_operations ?? [], [], "no pending operation is left");
        const [last] = await stackHistory(ws, LOCAL);
        assert.equal(last.result, "succeeded");
        assert.equal(whole.failed, 0, `requests failed around the kill: ${JSON.stringify(whole.errors)}`);
        assert.ok(whole.sent >= 500, `the load ran through it (${whole.sent} requests)`);
    });

    it("a pin to a digest the registry does not have fails npm run up within 30 s of ImagePullBackOff, and the pods before keep serving", async () => {
        // The qa-shaped stack the engine suite made: pinned, on this node, in its own namespace.
        const namespace = "hello-qa";
        const pods = () => activePods(namespace);
        // What its stack file says runs first (the suites before this one deployed config they have since put back).
        ok(await ws.npm("up", ["--stack", QA], { timeoutSeconds: 600 }), `up ${QA}`);
        const deadline = Date.now() + 60_000;
        while ((await pods()).some((p) => !p.status?.containerStatuses?.every((c: any) => c.ready)) && Date.now() < deadline)
            await sleep(500);
        const serving = (await pods()).map((p) => p.metadata.name as string).sort();
        assert.ok(serving.length > 0, `${QA} runs`);
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
        const settled = Date.now() + 60_000;
        while ((await pods()).length !== serving.length && Date.now() < settled) await sleep(500);
        assert.deepEqual((await pods()).map((p) => p.metadata.name).sort(), serving, "the pods that served never restarted");
    });
});
