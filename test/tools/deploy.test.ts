import type { EngineEvent, UpResult } from "@pulumi/pulumi/automation";
import * as assert from "node:assert/strict";
import { deploy, type DeployOptions } from "../../tools/deploy";
import { ExitCode, ToolError } from "../../tools/errors";
import type { PodFailure, PodJson, WorkloadJson } from "../../tools/pod-failure";
import { changesTemplate, type PodQuery, type PodSource, type RolloutObjects } from "../../tools/rollout-watch";
import type { OperationOptions, RefreshOptions, StageStack } from "../../tools/stage-stack";

const PROVIDER = "urn:pulumi:local::slipway::pulumi:providers:kubernetes::k8s";
const DEPLOYMENT_URN = "urn:pulumi:local::slipway::slipway:app:AppDeployment$kubernetes:apps/v1:Deployment::app-deployment";
const SELECTOR = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello-local" };
const NEXT = "Fix the change and deploy again.";

type Meta = Record<string, unknown>;

/** An engine event as the event log carries it. */
const event = (e: Partial<EngineEvent>): EngineEvent => ({ sequence: 0, timestamp: 0, ...e });

/** A resourcePreEvent: `old` outputs are what the state recorded, `meta` adds detailedDiff or planning. */
function step(type: string, op: string, urn: string, inputs: Meta, old?: Meta, meta: Meta = {}): EngineEvent {
    const state = (i: Meta, outputs: Meta = {}) => ({
        type,
        urn,
        id: "",
        parent: "",
        inputs: i,
        outputs,
        provider: `${PROVIDER}::0c1e-id`,
    });
    const { planning, ...rest } = meta;
    return event({
        resourcePreEvent: {
            planning: planning as boolean | undefined,
            metadata: { op: op as never, urn, type, provider: "", new: state(inputs), old: old && state({}, old), ...rest },
        },
    });
}

const deploymentInputs = { metadata: { name: "hello", namespace: "hello-local" }, spec: { selector: { matchLabels: SELECTOR } } };
const recordedRevision = (revision: number) => ({ metadata: { annotations: { "deployment.kubernetes.io/revision": String(revision) } } });
const templateDiff = { detailedDiff: { "spec.template.spec.containers[0].env[10].value": { diffKind: "update", inputDiff: false } } };

/** The steps of an update of the Deployment whose state recorded `revision`. */
const updateSteps = (revision: number, meta: Meta = templateDiff, op = "update") => [
    step("pulumi:providers:kubernetes", "same", PROVIDER, { context: "slipway", kubeconfig: "[secret]" }),
    step("kubernetes:core/v1:Namespace", "same", "urn:ns", { metadata: { name: "hello-local" } }),
    step("kubernetes:apps/v1:Deployment", op, DEPLOYMENT_URN, deploymentInputs, recordedRevision(revision), meta),
];

const ok: UpResult = { stdout: "", stderr: "", outputs: {}, summary: { result: "succeeded" } as UpResult["summary"] };

/**
 * A stack whose `up` emits `events`, then waits `ms` and succeeds (emitting `after` first), or rejects as the
 * Automation API does when Ctrl-C (the abort signal) cancels the CLI.
 */
function stackEmitting(events: EngineEvent[], ms: number, options: { refreshError?: Error; after?: EngineEvent[] } = {}) {
    const seen: OperationOptions[] = [];
    const refreshed: RefreshOptions[] = [];
    const stack = {
        name: "local",
        async refresh(o: RefreshOptions) {
            refreshed.push(o);
            if (options.refreshError) throw options.refreshError;
        },
        up(o: OperationOptions = {}): Promise<UpResult> {
            seen.push(o);
            for (const e of events) o.onEvent?.(e);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => {
                    for (const e of options.after ?? []) o.onEvent?.(e);
                    resolve(ok);
                }, ms);
                o.signal?.addEventListener("abort", () => {
                    clearTimeout(timer);
                    reject(
                        new Error(
                            "code: -2\n stdout: \n stderr: Command failed with exit code 255: pulumi up\nerror: update canceled\n err?: ",
                        ),
                    );
                });
            });
        },
    } as unknown as StageStack;
    return { stack, seen, refreshed };
}

/** The cluster by read: the first read returns `reads[0]`, and so on; the last one repeats. */
class ScriptedCluster implements PodSource {
    readonly queries: PodQuery[] = [];
    readonly logQueries: PodFailure[] = [];
    disposed = 0;
    constructor(private readonly reads: (RolloutObjects | Error)[]) {}
    async read(query: PodQuery): Promise<RolloutObjects> {
        this.queries.push(query);
        const read = this.reads[Math.min(this.queries.length - 1, this.reads.length - 1)];
        if (read instanceof Error) throw read;
        return read;
    }
    async logs(_query: PodQuery, failure: PodFailure): Promise<string> {
        this.logQueries.push(failure);
        return 'invalid configuration:\n  LOG_LEVEL: Invalid option: expected one of "info"|"warn"|"error"\n';
    }
    dispose() {
        this.disposed += 1;
    }
}

const UID = "3f1c-uid";
const deployment = (revision: number): WorkloadJson => ({
    metadata: { name: "hello", uid: UID, generation: revision + 1, annotations: { "deployment.kubernetes.io/revision": String(revision) } },
    status: { observedGeneration: revision + 1 },
});
const replicaSet = (hash: string, revision: number): WorkloadJson => ({
    metadata: {
        name: `hello-${hash}`,
        labels: { ...SELECTOR, "pod-template-hash": hash },
        annotations: { "deployment.kubernetes.io/revision": String(revision) },
        ownerReferences: [{ uid: UID }],
    },
});
const pod = (name: string, hash: string, state: Meta, ready = false): PodJson => ({
    metadata: { name, labels: { ...SELECTOR, "pod-template-hash": hash } },
    status: { containerStatuses: [{ name: "hello", ready, restartCount: ready ? 0 : 2, state }] },
});
const crashLoop = { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s restarting failed container" } };
const serving = (name: string) => pod(name, "good", { running: {} }, true);

/** good (revision 2) serving, bad (revision 3) crash-looping, the Deployment at `revision`. */
const bothRunning = (revision: number): RolloutObjects => ({
    deployment: deployment(revision),
    replicaSets: [replicaSet("good", revision === 4 ? 4 : 2), replicaSet("bad", 3)],
    pods: [serving("hello-good-1"), pod("hello-bad-1", "bad", crashLoop)],
});

const options = (pods: PodSource, notes: string[] = []): DeployOptions => ({
    pods,
    note: (s) => notes.push(s),
    nextStep: NEXT,
    intervalMs: 10,
});

describe("tools/deploy: fail fast", () => {
    it("cancels the update when a pod of the new revision crash-loops, names the pod, the reason and its logs, and records what runs", async () => {
        const { stack, seen, refreshed } = stackEmitting(updateSteps(2), 60_000);
        const cluster = new ScriptedCluster([
            // The patch not applied yet; then the new ReplicaSet's pod starting; then crash-looping.
            { deployment: deployment(2), replicaSets: [replicaSet("good", 2)], pods: [serving("hello-good-1")] },
            {
                deployment: deployment(3),
                replicaSets: [replicaSet("good", 2), replicaSet("bad", 3)],
                pods: [serving("hello-good-1"), pod("hello-bad-1", "bad", {})],
            },
            bothRunning(3),
        ]);
        const notes: string[] = [];
        const started = Date.now();
        const err = await deploy(stack, options(cluster, notes)).then(
            () => assert.fail("deploy must fail"),
            (e: unknown) => e,
        );
        assert.ok(Date.now() - started < 5_000, "cancelled long before the stack's own timeout");
        assert.ok(err instanceof ToolError);
        assert.equal(err.exitCode, ExitCode.Failed);
        assert.equal(
            err.message,
            "the rollout of local failed: pod hello-local/hello-bad-1, container hello: CrashLoopBackOff: back-off 20s restarting failed container\n" +
                "last log lines of hello:\n" +
                '  invalid configuration:\n    LOG_LEVEL: Invalid option: expected one of "info"|"warn"|"error"\n' +
                `the update was cancelled. ${NEXT}`,
        );
        assert.equal(seen[0].signal?.aborted, true, "the CLI got Ctrl-C");
        assert.deepEqual(refreshed, [{ target: [DEPLOYMENT_URN] }], "the cancelled Deployment is read back, and nothing else");
        assert.equal(cluster.queries.length, 3);
        // Where: the Deployment the step names, in its namespace, the provider's context; its kubeconfig was a secret.
        assert.deepEqual(cluster.queries[0], {
            deployment: "hello",
            namespace: "hello-local",
            selector: SELECTOR,
            context: "slipway",
            kubeconfig: undefined,
        });
        assert.deepEqual(
            cluster.logQueries.map((f) => f.pod),
            ["hello-bad-1"],
        );
        assert.equal(cluster.disposed, 1);
        assert.match(
            notes.join(""),
            /pod hello-local\/hello-bad-1, container hello: CrashLoopBackOff: .*: the rollout cannot succeed; cancelling the update/,
        );
    });

    it("an update that retries a failed rollout (no template change) blames the revision running, at once", async () => {
        const { stack, seen } = stackEmitting(updateSteps(3, { detailedDiff: {} }), 60_000);
        await assert.rejects(deploy(stack, options(new ScriptedCluster([bothRunning(3)]))), /pod hello-local\/hello-bad-1/);
        assert.equal(seen[0].signal?.aborted, true);
    });

    it("a rollback away from a crash-looping release is never cancelled by that release's pods", async () => {
        // State recorded revision 3 (bad); the rollback's template is the good one, which comes back as revision 4.
        const { stack, seen, refreshed } = stackEmitting(updateSteps(3), 300);
        const cluster = new ScriptedCluster([bothRunning(3), bothRunning(3), bothRunning(4)]);
        assert.equal(await deploy(stack, options(cluster)), ok);
        assert.equal(seen[0].signal?.aborted, false);
        assert.deepEqual(refreshed, []);
        const reads = cluster.queries.length;
        assert.ok(reads >= 3, `the watch kept reading (${reads} reads)`);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(cluster.queries.length, reads, "and stopped with the update");
    });

    it("stops watching a Deployment when its step ends: a later crash is not that update's", async () => {
        const done = event({
            resOutputsEvent: {
                metadata: { op: "update" as never, urn: DEPLOYMENT_URN, type: "kubernetes:apps/v1:Deployment", provider: "" },
            },
        });
        const { stack, seen } = stackEmitting([...updateSteps(2), done], 200);
        const cluster = new ScriptedCluster([bothRunning(3)]);
        assert.equal(await deploy(stack, options(cluster)), ok);
        assert.equal(seen[0].signal?.aborted, false);
        assert.ok(cluster.queries.length <= 1, `${cluster.queries.length} reads after the step ended`);
    });

    it("watches nothing for a preview's planning steps or a Deployment left as it was", async () => {
        const events = [...updateSteps(2, { ...templateDiff, planning: true }), ...updateSteps(2, {}, "same")];
        const { stack } = stackEmitting(events, 100);
        const cluster = new ScriptedCluster([bothRunning(3)]);
        assert.equal(await deploy(stack, options(cluster)), ok);
        assert.deepEqual(cluster.queries, []);
    });

    it("a cluster it cannot read gives one warning, and the update goes on to its own end", async () => {
        const { stack } = stackEmitting(updateSteps(2), 200);
        const cluster = new ScriptedCluster([new Error('kubectl get deployments: error: context "slipway" does not exist')]);
        const notes: string[] = [];
        assert.equal(await deploy(stack, options(cluster, notes)), ok);
        assert.ok(cluster.queries.length >= 3, "it kept trying");
        assert.equal(notes.length, 1);
        assert.match(
            notes[0],
            /^warning: cannot read the rollout of hello-local\/hello \(kubectl get deployments: error: context "slipway" does not exist\)/,
        );
    });

    it("a failed read-back is a warning beside the rollout's failure, which stays the error", async () => {
        const { stack } = stackEmitting(updateSteps(2), 60_000, {
            refreshError: new Error("code: 255\n stdout: \n stderr: error: the stack is locked\n err?: "),
        });
        const notes: string[] = [];
        await assert.rejects(
            deploy(stack, options(new ScriptedCluster([bothRunning(3)]), notes)),
            /the rollout of local failed: pod hello-local\/hello-bad-1/,
        );
        assert.match(
            notes.join(""),
            /warning: could not record the failed template in the stack's state \(Error: code: 255\): run pulumi refresh/,
        );
    });

    it("an update that fails for another reason fails with Pulumi's own error", async () => {
        const stack = {
            name: "local",
            up: async () => {
                throw new Error("code: 255\n stdout: \n stderr: error: the registry refused the push\n err?: ");
            },
        } as unknown as StageStack;
        await assert.rejects(
            deploy(stack, options(new ScriptedCluster([]))),
            (e: unknown) => !(e instanceof ToolError) && /the registry refused/.test(String(e)),
        );
    });

    it("Ctrl-C while it deploys is noted, not fatal: the handler is held for the update only", async () => {
        const { stack } = stackEmitting(updateSteps(2), 50);
        const handlers: (() => void)[] = [];
        let removed = 0;
        const notes: string[] = [];
        const running = deploy(stack, {
            ...options(new ScriptedCluster([bothRunning(2)]), notes),
            onInterrupt: (h) => {
                handlers.push(h);
                return () => (removed += 1);
            },
        });
        handlers[0]();
        assert.equal(await running, ok);
        assert.match(notes.join(""), /interrupted: Pulumi cancels the update and records what it did; waiting for it/);
        assert.equal(removed, 1);
    });

    it("a replaced Deployment: the new object (revisions start again), never the old one still there", async () => {
        const oldObject = { metadata: { uid: "old-uid", annotations: { "deployment.kubernetes.io/revision": "7" } } };
        const events = [
            step("pulumi:providers:kubernetes", "same", PROVIDER, { context: "slipway" }),
            step("kubernetes:apps/v1:Deployment", "replace", DEPLOYMENT_URN, deploymentInputs, oldObject, templateDiff),
            step("kubernetes:apps/v1:Deployment", "create-replacement", DEPLOYMENT_URN, deploymentInputs, oldObject, templateDiff),
        ];
        const { stack, seen } = stackEmitting(events, 60_000);
        const crashing = pod("hello-bad-1", "bad", crashLoop);
        const oldDeployment: WorkloadJson = { ...deployment(7), metadata: { ...deployment(7).metadata, uid: "old-uid" } };
        const cluster = new ScriptedCluster([
            // The old object, crash-looping at its revision 7: not the replacement's.
            {
                deployment: oldDeployment,
                replicaSets: [
                    { ...replicaSet("bad", 7), metadata: { ...replicaSet("bad", 7).metadata, ownerReferences: [{ uid: "old-uid" }] } },
                ],
                pods: [crashing],
            },
            // The new object at revision 1.
            { deployment: deployment(1), replicaSets: [replicaSet("bad", 1)], pods: [crashing] },
        ]);
        await assert.rejects(deploy(stack, options(cluster)), /pod hello-local\/hello-bad-1/);
        assert.equal(seen[0].signal?.aborted, true);
        assert.equal(cluster.queries.length, 2, "the old object's crash loop was not blamed");
    });

    it("after a Ctrl-C, a failing pod sends Pulumi no second SIGINT (it would end Pulumi before it records anything)", async () => {
        const { stack, seen, refreshed } = stackEmitting(updateSteps(2), 300);
        const handlers: (() => void)[] = [];
        const notes: string[] = [];
        const running = deploy(stack, {
            ...options(new ScriptedCluster([bothRunning(3)]), notes),
            onInterrupt: (h) => {
                handlers.push(h);
                return () => undefined;
            },
        });
        handlers[0]();
        // The stack here succeeds after 300 ms (Pulumi's own cancel is not simulated): what matters is no abort.
        assert.equal(await running, ok);
        assert.equal(seen[0].signal?.aborted, false);
        assert.deepEqual(refreshed, []);
        assert.doesNotMatch(notes.join(""), /cancelling the update/);
    });

    it("a container that never started: the report says it wrote no log lines, and no log is read", async () => {
        const { stack } = stackEmitting(updateSteps(2), 60_000);
        const pulling = { ...pod("hello-bad-1", "bad", { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } }) };
        pulling.status!.containerStatuses![0].restartCount = 0;
        const cluster = new ScriptedCluster([{ ...bothRunning(3), pods: [serving("hello-good-1"), pulling] }]);
        await assert.rejects(deploy(stack, options(cluster)), /ImagePullBackOff: Back-off pulling image\nhello wrote no log lines/);
        assert.deepEqual(cluster.logQueries, []);
    });

    it("without a pod source it is plain pulumi up: no signal, no watch", async () => {
        const { stack, seen, refreshed } = stackEmitting(updateSteps(2), 10);
        assert.equal(await deploy(stack, { note: () => undefined, nextStep: NEXT, message: "m" }), ok);
        assert.deepEqual(seen, [{ message: "m" }]);
        assert.deepEqual(refreshed, []);
    });

    it("changesTemplate: what counts as a new pod template", () => {
        const diff = (key: string) => ({ [key]: { diffKind: "update" as never, inputDiff: true } });
        assert.equal(changesTemplate({ op: "create" }), true);
        assert.equal(changesTemplate({ op: "replace" }), true);
        assert.equal(changesTemplate({ op: "update", detailedDiff: diff("spec.template.metadata.annotations.x") }), true);
        assert.equal(changesTemplate({ op: "update", detailedDiff: diff("spec.replicas") }), false);
        assert.equal(changesTemplate({ op: "update", detailedDiff: {} }), false);
        assert.equal(changesTemplate({ op: "update", diffs: ["spec"] }), true, "without a detailed diff, any spec change");
        assert.equal(changesTemplate({ op: "update", diffs: ["metadata"] }), false);
    });
});
