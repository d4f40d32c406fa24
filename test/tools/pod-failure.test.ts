import * as assert from "node:assert/strict";
import {
    describePodFailure,
    hasEvery,
    podFailure,
    rolloutFailure,
    rolloutTemplates,
    type PodJson,
    type ReplicaSetJson,
} from "../../tools/pod-failure";

/** A pod of template `hash` as `kubectl get pods -o json` shows it, with one container `hello` in `state`. */
function pod(name: string, hash: string, container: Record<string, unknown>, extra: Partial<PodJson["metadata"]> = {}): PodJson {
    return {
        metadata: { name, labels: { "app.kubernetes.io/name": "hello", "pod-template-hash": hash }, ...extra },
        status: { containerStatuses: [{ name: "hello", ready: false, restartCount: 0, ...container }] },
    };
}

const running = { ready: true, state: { running: { startedAt: "2026-12-07T16:00:00Z" } } };
const crashLoop = {
    restartCount: 2,
    state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s restarting failed container=hello pod=hello-7c9d-x2k4p" } },
    lastState: { terminated: { exitCode: 1, reason: "Error" } },
};

describe("tools/pod-failure", () => {
    it("names the waiting reasons no wait will fix, with the kubelet's message", () => {
        for (const reason of [
            "CrashLoopBackOff",
            "ImagePullBackOff",
            "InvalidImageName",
            "CreateContainerConfigError",
            "CreateContainerError",
        ]) {
            const failure = podFailure(pod("p", "h", { state: { waiting: { reason, message: `why ${reason}` } } }));
            assert.deepEqual(failure, { pod: "p", container: "hello", reason, detail: `why ${reason}`, restarted: false });
        }
    });

    it("leaves states that may still pass alone: creating, a first failed pull (retried once), running, ready", () => {
        for (const state of [
            { waiting: { reason: "ContainerCreating" } },
            { waiting: { reason: "ErrImagePull", message: "i/o timeout" } },
        ]) {
            assert.equal(podFailure(pod("p", "h", { state })), undefined, JSON.stringify(state));
        }
        assert.equal(podFailure(pod("p", "h", { state: { running: {} } })), undefined);
        assert.equal(podFailure(pod("p", "h", running)), undefined);
    });

    it("a container that exited with an error before it was ever ready fails at once, before the kubelet backs off", () => {
        // The first exit: the kubelet has restarted it already; its logs are the previous run's.
        const restarted = pod("p", "h", {
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, reason: "Error" } },
        });
        assert.deepEqual(podFailure(restarted), {
            pod: "p",
            container: "hello",
            reason: "exited before ready",
            detail: "exit code 1 (Error)",
            restarted: true,
        });
        // Caught between the exit and the restart: the logs are the current run's.
        const exited = pod("p", "h", { state: { terminated: { exitCode: 137, reason: "OOMKilled" } } });
        assert.deepEqual(podFailure(exited), {
            pod: "p",
            container: "hello",
            reason: "exited before ready",
            detail: "exit code 137 (OOMKilled)",
            restarted: false,
        });
        // Exit code 0 is left to the back-off; a container that is ready again is not failing.
        assert.equal(podFailure(pod("p", "h", { state: { terminated: { exitCode: 0, reason: "Completed" } } })), undefined);
        assert.equal(podFailure(pod("p", "h", { ...running, restartCount: 1, lastState: { terminated: { exitCode: 1 } } })), undefined);
    });

    it("reads init containers too, and never blames a pod that is being deleted", () => {
        const init: PodJson = {
            metadata: { name: "p", labels: { "pod-template-hash": "h" } },
            status: { initContainerStatuses: [{ name: "migrate", state: { waiting: { reason: "CrashLoopBackOff" } }, restartCount: 3 }] },
        };
        assert.equal(podFailure(init)?.container, "migrate");
        assert.equal(podFailure(pod("p", "h", crashLoop, { deletionTimestamp: "2026-12-07T16:00:00Z" })), undefined);
    });

    it("hasEvery: the server's object holds every value the inputs name; defaults and extra labels do not matter", () => {
        const desired = {
            metadata: { labels: { app: "hello" } },
            spec: {
                containers: [{ name: "hello", env: [{ name: "LOG_LEVEL", value: "info" }], ports: [{ containerPort: 8080 }] }],
                securityContext: {},
            },
        };
        const served = {
            metadata: { labels: { app: "hello", "pod-template-hash": "58767dfcf5" } },
            spec: {
                containers: [
                    {
                        name: "hello",
                        env: [{ name: "LOG_LEVEL", value: "info" }],
                        ports: [{ containerPort: 8080, protocol: "TCP" }],
                        terminationMessagePath: "/dev/termination-log",
                    },
                ],
                dnsPolicy: "ClusterFirst",
            },
        };
        assert.equal(hasEvery(desired, served), true);
        const changed = structuredClone(served);
        changed.spec.containers[0].env[0].value = "verbose";
        assert.equal(hasEvery(desired, changed), false, "one env value differs");
        assert.equal(hasEvery({ env: [{ name: "A" }, { name: "B" }] }, { env: [{ name: "A" }] }), false, "a list of another length");
        assert.equal(
            hasEvery({ env: [{ name: "DB", value: "[secret]" }] }, { env: [{ name: "DB", value: "hunter2" }] }),
            true,
            "a secret input matches",
        );
        assert.equal(hasEvery({ port: 8080 }, { port: "8080" }), true);
        assert.equal(hasEvery({ a: { b: 1 } }, { a: "x" }), false);
    });

    it("the rollout's own templates: the ReplicaSet whose template has the new one, never the one the update leaves", () => {
        const template = (level: string) => ({ spec: { containers: [{ name: "hello", env: [{ name: "LOG_LEVEL", value: level }] }] } });
        const rs = (hash: string, level: string): ReplicaSetJson => ({
            metadata: { name: `hello-${hash}`, labels: { "pod-template-hash": hash } },
            spec: { template: { metadata: { labels: { "pod-template-hash": hash } }, ...template(level) } },
        });
        const replicaSets = [rs("good", "info"), rs("bad", "verbose")];
        assert.deepEqual([...rolloutTemplates(replicaSets, template("verbose"))], ["bad"], "a release (or a retry) of the bad template");
        assert.deepEqual([...rolloutTemplates(replicaSets, template("info"))], ["good"], "a rollback to the good one");
        assert.deepEqual([...rolloutTemplates(replicaSets.slice(0, 1), template("verbose"))], [], "before the new ReplicaSet exists");

        const pods = [pod("hello-bad-1", "bad", crashLoop), pod("hello-good-1", "good", running)];
        assert.equal(rolloutFailure(pods, new Set(["bad"]))?.pod, "hello-bad-1");
        assert.equal(rolloutFailure(pods, new Set(["good"])), undefined, "the crash loop the rollback leaves is not its failure");
        assert.equal(rolloutFailure(pods, new Set()), undefined);
    });

    it("reports the pod, the reason, the kubelet's message and the last log lines", () => {
        const failure = podFailure(pod("hello-7c9d-x2k4p", "new", crashLoop))!;
        assert.equal(
            describePodFailure("hello-local", failure, '{"level":"error","msg":"LOG_LEVEL: expected info, warn or error"}\n'),
            "pod hello-local/hello-7c9d-x2k4p, container hello: CrashLoopBackOff: back-off 20s restarting failed container=hello pod=hello-7c9d-x2k4p\n" +
                "last log lines of hello (its previous run):\n" +
                '  {"level":"error","msg":"LOG_LEVEL: expected info, warn or error"}',
        );
        assert.equal(
            describePodFailure("ns", { pod: "p", container: "c", reason: "ImagePullBackOff", detail: "", restarted: false }, ""),
            "pod ns/p, container c: ImagePullBackOff\nc wrote no log lines",
        );
    });
});
