import type { EngineEvent, UpResult } from "@pulumi/pulumi/automation";
import * as assert from "node:assert/strict";
import { deploy } from "../../tools/deploy";
import { ExitCode, ToolError } from "../../tools/errors";
import type { PodFailure, PodJson, ReplicaSetJson } from "../../tools/pod-failure";
import type { PodQuery, PodSource, RolloutObjects } from "../../tools/rollout-watch";
import type { OperationOptions, RefreshOptions, StageStack } from "../../tools/stage-stack";

const PROVIDER = "urn:pulumi:local::slipway::pulumi:providers:kubernetes::k8s";
const SELECTOR = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello-local" };

/** The pod template the Deployment's step applies: the service with one LOG_LEVEL. */
const template = (level: string) => ({
    metadata: { labels: SELECTOR },
    spec: { containers: [{ name: "hello", image: "127.0.0.1:5001/hello@sha256:70e2", env: [{ name: "LOG_LEVEL", value: level }] }] },
});

/** A resourcePreEvent as the engine writes it into the event log. */
function step(type: string, op: string, inputs: Record<string, unknown>, planning = false): EngineEvent {
    const urn = type === "pulumi:providers:kubernetes" ? PROVIDER : `urn:pulumi:local::slipway::${type}::x`;
    return {
        sequence: 0,
        timestamp: 0,
        resourcePreEvent: {
            planning,
            metadata: {
                op: op as never,
                urn,
                type,
                provider: "",
                new: { type, urn, id: "", parent: "", inputs, outputs: {}, provider: `${PROVIDER}::0c1e-provider-id` },
            },
        },
    };
}

/** The steps of an update that deploys `level`, in the engine's order. */
const updateTo = (level: string, op = "update", planning = false) => [
    step("pulumi:providers:kubernetes", "same", { context: "slipway" }),
    step("kubernetes:core/v1:Namespace", "same", { metadata: { name: "hello-local" } }),
    step(
        "kubernetes:apps/v1:Deployment",
        op,
        { metadata: { name: "hello", namespace: "hello-local" }, spec: { selector: { matchLabels: SELECTOR }, template: template(level) } },
        planning,
    ),
];

const ok: UpResult = { stdout: "", stderr: "", outputs: {}, summary: { result: "succeeded" } as UpResult["summary"] };

/**
 * A stack whose `up` emits `events`, then waits `ms` and succeeds, or rejects as the Automation API does when Ctrl-C
 * (the abort signal) cancels the CLI.
 */
function stackEmitting(events: EngineEvent[], ms: number, refreshError?: Error) {
    const seen: OperationOptions[] = [];
    const refreshed: RefreshOptions[] = [];
    const stack = {
        name: "local",
        async refresh(options: RefreshOptions) {
            refreshed.push(options);
            if (refreshError) throw refreshError;
        },
        up(options: OperationOptions = {}): Promise<UpResult> {
            seen.push(options);
            for (const e of events) options.onEvent?.(e);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => resolve(ok), ms);
                options.signal?.addEventListener("abort", () => {
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
}

/** The ReplicaSet of template `level` (hash = level), as the API server returns it: the template plus its hash label. */
const replicaSet = (level: string): ReplicaSetJson => {
    const t = template(level);
    return {
        metadata: { name: `hello-${level}`, labels: { ...SELECTOR, "pod-template-hash": level } },
        spec: { template: { ...t, metadata: { labels: { ...SELECTOR, "pod-template-hash": level } } } },
    };
};
const pod = (name: string, level: string, state: Record<string, unknown>, ready = false): PodJson => ({
    metadata: { name, labels: { ...SELECTOR, "pod-template-hash": level } },
    status: { containerStatuses: [{ name: "hello", ready, restartCount: ready ? 0 : 2, state }] },
});
const crashLoop = { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s restarting failed container" } };
const serving = (name: string) => pod(name, "info", { running: {} }, true);

describe("tools/deploy: fail fast", () => {
    it("cancels the update when a pod of the new template crash-loops, and names the pod, the reason and its last log lines", async () => {
        const { stack, seen, refreshed } = stackEmitting(updateTo("verbose"), 60_000);
        const cluster = new ScriptedCluster([
            // Before the Deployment controller has made the new ReplicaSet; then its pod starting; then crash-looping.
            { replicaSets: [replicaSet("info")], pods: [serving("hello-info-1")] },
            {
                replicaSets: [replicaSet("info"), replicaSet("verbose")],
                pods: [serving("hello-info-1"), pod("hello-verbose-1", "verbose", {})],
            },
            {
                replicaSets: [replicaSet("info"), replicaSet("verbose")],
                pods: [serving("hello-info-1"), pod("hello-verbose-1", "verbose", crashLoop)],
            },
        ]);
        const notes: string[] = [];
        const started = Date.now();
        const err = await deploy(stack, { pods: cluster, note: (s) => notes.push(s), intervalMs: 10 }).then(
            () => assert.fail("deploy must fail"),
            (e: unknown) => e,
        );
        assert.ok(Date.now() - started < 5_000, "cancelled long before the stack's own timeout");
        assert.ok(err instanceof ToolError);
        assert.equal(err.exitCode, ExitCode.Failed);
        assert.match(
            err.message,
            /^the rollout of local failed: pod hello-local\/hello-verbose-1, container hello: CrashLoopBackOff: back-off 20s/,
        );
        assert.match(
            err.message,
            /last log lines of hello \(its previous run\):\n {2}invalid configuration:\n {4}LOG_LEVEL: Invalid option/,
        );
        assert.match(err.message, /npm run rollback -- --stack local/);
        assert.equal(seen[0].signal?.aborted, true, "the CLI got Ctrl-C");
        // The cancelled update left the old template in state; the Deployment is read back, and nothing else.
        assert.deepEqual(refreshed, [{ target: ["urn:pulumi:local::slipway::kubernetes:apps/v1:Deployment::x"] }]);
        assert.equal(cluster.queries.length, 3);
        assert.deepEqual(cluster.queries[0], { namespace: "hello-local", selector: SELECTOR, context: "slipway" });
        assert.deepEqual(
            cluster.logQueries.map((f) => f.pod),
            ["hello-verbose-1"],
        );
        assert.match(
            notes.join(""),
            /pod hello-local\/hello-verbose-1, container hello: CrashLoopBackOff: .*: the rollout cannot succeed; cancelling the update/,
        );
    });

    it("an update that retries a failed rollout blames the template it applies, already running and crash-looping", async () => {
        const { stack, seen } = stackEmitting(updateTo("verbose"), 60_000);
        const cluster = new ScriptedCluster([
            {
                replicaSets: [replicaSet("info"), replicaSet("verbose")],
                pods: [serving("hello-info-1"), pod("hello-verbose-1", "verbose", crashLoop)],
            },
        ]);
        await assert.rejects(deploy(stack, { pods: cluster, note: () => undefined, intervalMs: 10 }), /pod hello-local\/hello-verbose-1/);
        assert.equal(seen[0].signal?.aborted, true);
    });

    it("a failed read-back is a warning beside the rollout's failure, which stays the error", async () => {
        const { stack } = stackEmitting(
            updateTo("verbose"),
            60_000,
            new Error("code: 255\n stdout: \n stderr: error: the stack is locked\n err?: "),
        );
        const cluster = new ScriptedCluster([
            { replicaSets: [replicaSet("verbose")], pods: [pod("hello-verbose-1", "verbose", crashLoop)] },
        ]);
        const notes: string[] = [];
        await assert.rejects(
            deploy(stack, { pods: cluster, note: (s) => notes.push(s), intervalMs: 10 }),
            /the rollout of local failed: pod hello-local\/hello-verbose-1/,
        );
        assert.match(
            notes.join(""),
            /warning: could not record the failed template in the stack's state \(Error: code: 255\): run pulumi refresh/,
        );
    });

    it("a rollback away from a crash-looping release is not cancelled by that release's pods", async () => {
        const { stack, seen } = stackEmitting(updateTo("info"), 300);
        const cluster = new ScriptedCluster([
            {
                replicaSets: [replicaSet("info"), replicaSet("verbose")],
                pods: [serving("hello-info-1"), pod("hello-verbose-1", "verbose", crashLoop)],
            },
        ]);
        assert.equal(await deploy(stack, { pods: cluster, note: () => undefined, intervalMs: 10 }), ok);
        assert.equal(seen[0].signal?.aborted, false);
        const reads = cluster.queries.length;
        assert.ok(reads >= 3, `the watch kept reading (${reads} reads)`);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(cluster.queries.length, reads, "and stopped with the update");
    });

    it("watches nothing for a preview's planning steps or a Deployment left as it was", async () => {
        const events = [...updateTo("verbose", "update", true), ...updateTo("verbose", "same")];
        const { stack } = stackEmitting(events, 100);
        const cluster = new ScriptedCluster([
            { replicaSets: [replicaSet("verbose")], pods: [pod("hello-verbose-1", "verbose", crashLoop)] },
        ]);
        assert.equal(await deploy(stack, { pods: cluster, note: () => undefined, intervalMs: 10 }), ok);
        assert.deepEqual(cluster.queries, []);
    });

    it("a cluster it cannot read gives one warning, and the update goes on to its own end", async () => {
        const { stack } = stackEmitting(updateTo("verbose"), 200);
        const cluster = new ScriptedCluster([new Error('kubectl get replicasets,pods: error: context "slipway" does not exist')]);
        const notes: string[] = [];
        assert.equal(await deploy(stack, { pods: cluster, note: (s) => notes.push(s), intervalMs: 10 }), ok);
        assert.ok(cluster.queries.length >= 3, "it kept trying");
        assert.equal(notes.length, 1);
        assert.match(
            notes[0],
            /^warning: cannot read the pods of hello-local \(kubectl get replicasets,pods: error: context "slipway" does not exist\)/,
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
            deploy(stack, { pods: new ScriptedCluster([]), note: () => undefined }),
            (e: unknown) => !(e instanceof ToolError) && /the registry refused/.test(String(e)),
        );
    });

    it("without a pod source it is plain pulumi up: no signal, no watch", async () => {
        const { stack, seen, refreshed } = stackEmitting(updateTo("verbose"), 10);
        assert.equal(await deploy(stack, { note: () => undefined, message: "m" }), ok);
        assert.deepEqual(seen, [{ message: "m" }]);
        assert.deepEqual(refreshed, []);
    });
});
