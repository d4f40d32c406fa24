/**
 * Slipway's promises in a real cluster (issue 9), on Slipway's own node: rollouts of a new digest and of a config
 * file under steady load through the NodePort on 127.0.0.1, a rollout that never gets ready, rollback, the HPA
 * with `ignoreChanges` under server-side apply, and server-side validation of every object of all four stacks.
 */
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { engineEvents, stepWindow } from "./support/events";
import { buildkitBuilds, get, kubectlOk } from "./support/machine";
import { startLoad, summarize, type LoadSummary } from "./support/load";
import { stackFile, stackHistory, stackOutputs, workspace } from "./support/shared";
import { ok } from "./support/workspace";

const ws = workspace();
const LOCAL = "local";
const NAMESPACE = "hello-local";
/** Requests per second through the NodePort. */
const RATE = 300;
/** Requests each rollout must carry without a failure. */
const ROLLOUT_REQUESTS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps a load that started at `startedAt` going until it has sent `ROLLOUT_REQUESTS`, and at least 3 s more, so
 * requests to pods that are terminating right now count too. A fast rollback (16 s on a cold node) would
 * otherwise carry too few requests to say "0 failed" about; the extra ones hit the state the operation left.
 */
async function untilEnoughRequests(startedAt: number): Promise<void> {
    const enoughMs = (ROLLOUT_REQUESTS / RATE) * 1000 + 1000;
    await sleep(Math.max(3000, enoughMs - (Date.now() - startedAt)));
}

/** The namespace's pods that are not terminating. */
async function activePods(): Promise<any[]> {
    const pods = JSON.parse(await kubectlOk(["-n", NAMESPACE, "get", "pods", "-o", "json"])).items as any[];
    return pods.filter((p) => !p.metadata.deletionTimestamp);
}

/**
 * The active pods once there are `count` of them (the old ReplicaSet's last pod is deleted by the controller just
 * after the Deployment reports the rollout done), or whatever is there after 60 s.
 */
async function settledPods(count: number): Promise<any[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const running = await activePods();
        if (running.length === count || Date.now() > deadline) return running;
        await sleep(500);
    }
}

/** The figures the README quotes; printed at the end of the suite. */
const figures: Record<string, unknown> = {};

/** The NodePort the local stack's Service serves `http` on, from the stack file. */
function nodePort(): number {
    return Number((stackFile(ws, LOCAL)["slipway:app"] as { nodePort: number }).nodePort);
}

/**
 * Runs `pulumi up` of the local stack (after committing `change`) under steady load; returns the up's result, the
 * load in the Deployment's rollout window and over the whole up, and the rollout's seconds.
 */
async function upUnderLoad(change: string, options: { expectFailure?: boolean } = {}) {
    ws.commit(change);
    const eventLog = path.join(ws.dir, ".slipway", `events-${Date.now()}.jsonl`);
    const load = startLoad({ port: nodePort(), rate: RATE, maxSeconds: 900 });
    // --event-log is one of the CLI's debug commands (the Automation API turns them on the same way).
    const up = await ws.pulumi(["up", "--stack", LOCAL, "--yes", "--skip-preview", "--event-log", eventLog], {
        timeoutSeconds: 900,
        env: { PULUMI_DEBUG_COMMANDS: "true" },
    });
    await untilEnoughRequests(load.startedAt);
    const samples = await load.stop();
    if (!options.expectFailure) ok(up, `up after "${change}"`);
    const window = stepWindow(engineEvents(readFileSync(eventLog, "utf8")), "app-deployment");
    const rollout = summarize(samples, window.startMs - load.startedAt, window.endMs - load.startedAt);
    return { up, whole: summarize(samples), rollout, rolloutSeconds: (window.endMs - window.startMs) / 1000 };
}

function assertNoFailure(what: string, s: LoadSummary, atLeast = 0): void {
    assert.equal(s.failed, 0, `${what}: ${s.failed} of ${s.sent} requests failed: ${JSON.stringify(s.errors)}`);
    assert.equal(s.non2xx, 0, `${what}: non-2xx answers`);
    assert.ok(s.sent >= atLeast, `${what}: only ${s.sent} requests, expected at least ${atLeast}`);
}

describe("issue 9: Slipway's promises on a real node", function () {
    let steady: LoadSummary;
    let forwardRolloutSeconds = 0;

    before(async () => {
        // Three replicas, and a short rollout timeout so a rollout that never gets ready fails in under a minute.
        ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", "app.replicas", "3"]), "replicas 3");
        ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", "app.rolloutTimeoutSeconds", "45"]), "rollout timeout");
        // Room for a rollout of 3: 3 new + 1 surge + 3 old still draining, at 500m each (the schema insists).
        ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", "--type", "string", "app.quota.cpu", "4"]), "quota");
        ws.commit("e2e: three replicas");
        ok(await ws.pulumi(["up", "--stack", LOCAL, "--yes", "--skip-preview"], { timeoutSeconds: 900 }), "up with 3 replicas");
        const load = startLoad({ port: nodePort(), rate: RATE, maxSeconds: 15 });
        await new Promise((r) => setTimeout(r, 15_500));
        steady = summarize(await load.stop());
        figures.steadyState = steady;
        assertNoFailure("steady state", steady);
    });

    after(() => {
        console.log(`\n[e2e figures] ${JSON.stringify(figures, null, 2)}`);
    });

    it("rolls out a new digest to 3 replicas under load with 0 failed requests", async () => {
        ws.edit("app/src/main.ts", (t) => `${t}// a new digest under load\n`);
        const r = await upUnderLoad("app: a new digest under load");
        const outputs = await stackOutputs(ws, LOCAL);
        const running = await settledPods(3);
        assert.equal(running.length, 3);
        for (const pod of running) assert.equal(pod.spec.containers[0].image, outputs.appImageRef);
        figures.digestRollout = {
            seconds: r.rolloutSeconds,
            secondsPerReplica: r.rolloutSeconds / 3,
            rollout: r.rollout,
            wholeUp: r.whole,
        };
        assertNoFailure("the whole up", r.whole, ROLLOUT_REQUESTS);
        forwardRolloutSeconds = r.rolloutSeconds;
    });

    it("a config-file change rolls the pods onto a new ConfigMap, deleting the old one only after the rollout", async () => {
        const before = await kubectlOk(["-n", NAMESPACE, "get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"]);
        ws.edit(`Pulumi.${LOCAL}.yaml`, (t) => t.replace("message: Hello from the local stage", "message: Hello from a new config file"));
        const eventLogStart = Date.now();
        const r = await upUnderLoad("config: a new message");
        assertNoFailure("config-file rollout", r.whole, ROLLOUT_REQUESTS);
        const after = await kubectlOk(["-n", NAMESPACE, "get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"]);
        const oldName = before.split(" ").find((n) => n.startsWith("app-config"))!;
        const newName = after.split(" ").find((n) => n.startsWith("app-config"))!;
        assert.notEqual(newName, oldName, "a content change gives the ConfigMap a new name");
        assert.ok(!after.includes(oldName), "the old ConfigMap is gone after the up");
        const mounted = await kubectlOk([
            "-n",
            NAMESPACE,
            "get",
            "deploy",
            "hello",
            "-o",
            "jsonpath={.spec.template.spec.volumes[?(@.name=='config')].configMap.name}",
        ]);
        assert.equal(mounted, newName);
        const answer = await get(nodePort(), "/");
        assert.match(answer.body, /Hello from a new config file/);
        // Order in the engine's own events: the Deployment's rollout finished before the old ConfigMap was deleted.
        const events = readdirSync(path.join(ws.dir, ".slipway"))
            .filter((f) => f.startsWith("events-"))
            .sort()
            .pop()!;
        const lines = engineEvents(readFileSync(path.join(ws.dir, ".slipway", events), "utf8"));
        const deploymentDone = lines.findIndex((e) => e.resOutputsEvent?.metadata.urn.endsWith("::app-deployment"));
        const configDeleted = lines.findIndex(
            (e) => e.resourcePreEvent?.metadata.urn.endsWith("::app-config") && /delete/.test(e.resourcePreEvent.metadata.op),
        );
        assert.ok(
            deploymentDone >= 0 && configDeleted > deploymentDone,
            `deployment done at event ${deploymentDone}, old ConfigMap deleted at ${configDeleted}`,
        );
        figures.configRollout = { seconds: r.rolloutSeconds, rollout: r.rollout, wholeUp: r.whole, startedAt: eventLogStart };
    });

    it("a rollout that never gets ready fails within its timeout, is kept in history, and the old pods keep serving", async () => {
        const goodRef = String((await stackOutputs(ws, LOCAL)).appImageRef);
        // A classic: the service binds loopback inside the pod. Its tests pass (they bind loopback on purpose),
        // the image builds, and the kubelet's probes to the pod IP never get an answer.
        ws.edit("app/src/config.ts", (t) => t.replace('HOST: text.default("0.0.0.0")', 'HOST: text.default("127.0.0.1")'));
        const r = await upUnderLoad("app: readiness never passes", { expectFailure: true });
        assert.notEqual(r.up.code, 0, "pulumi up must fail");
        assert.ok(r.up.seconds < 45 + 60 + 240, `up took ${r.up.seconds} s`);
        assertNoFailure("failed rollout", r.whole, ROLLOUT_REQUESTS);
        const [last] = await stackHistory(ws, LOCAL);
        assert.equal(last.result, "failed");
        const answer = await get(nodePort(), "/");
        assert.equal(answer.status, 200);
        assert.match(answer.body, /Hello from a new config file/);
        const ready = await kubectlOk(["-n", NAMESPACE, "get", "deploy", "hello", "-o", "jsonpath={.status.readyReplicas}"]);
        assert.equal(ready, "3");
        figures.failedRollout = { upSeconds: r.up.seconds, wholeUp: r.whole, goodRef };
    });

    it("npm run rollback brings back the last good digest without a build, and up converges", async () => {
        const goodRef = (figures.failedRollout as { goodRef: string }).goodRef;
        const serving = (await activePods()).filter((p) => p.spec.containers[0].image === goodRef).map((p) => p.metadata.name);
        assert.equal(serving.length, 3, "the old pods kept serving through the failed rollout");
        const builds = await buildkitBuilds();
        const load = startLoad({ port: nodePort(), rate: RATE, maxSeconds: 600 });
        const rollback = await ws.npm("rollback", ["--stack", LOCAL], { timeoutSeconds: 600 });
        await untilEnoughRequests(load.startedAt);
        const samples = await load.stop();
        ok(rollback, "npm run rollback");
        assert.deepEqual(await buildkitBuilds(), builds, "rollback builds nothing");
        const running = await settledPods(3);
        assert.equal(running.length, 3);
        for (const pod of running) assert.equal(pod.spec.containers[0].image, goodRef);
        // The pin carries the metadata the image was built with (its labels), so the pod template is the one that ran:
        // Kubernetes keeps the pods that were serving and only removes the broken one. Nothing restarts.
        assert.deepEqual(running.map((p) => p.metadata.name).sort(), serving.sort());
        const whole = summarize(samples);
        assertNoFailure("rollback", whole, ROLLOUT_REQUESTS);
        ws.commit("e2e: rolled back");
        const again = ok(
            await ws.pulumi(["up", "--stack", LOCAL, "--yes", "--skip-preview"], { timeoutSeconds: 600 }),
            "up after rollback",
        );
        const [last] = await stackHistory(ws, LOCAL);
        assert.deepEqual(
            Object.entries(last.resourceChanges ?? {})
                .filter(([, n]) => n > 0)
                .map(([k]) => k),
            ["same"],
        );
        figures.rollback = {
            seconds: rollback.seconds,
            forwardRolloutSeconds,
            ratio: rollback.seconds / forwardRolloutSeconds,
            load: whole,
            upAfter: again.seconds,
        };
    });
});
