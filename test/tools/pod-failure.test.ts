import * as assert from "node:assert/strict";
import {
    describePodFailure,
    FAILED_WAITING_REASONS,
    podFailure,
    rolloutFailure,
    rolloutTemplateHash,
    type PodJson,
    type WorkloadJson,
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
        for (const reason of FAILED_WAITING_REASONS) {
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

    it("an earlier exit counts only from the rollout's start on: last week's OOM kill is not this rollout's failure", () => {
        const since = Date.parse("2026-12-07T16:00:00Z");
        const exitedAt = (finishedAt: string) =>
            pod("p", "h", {
                restartCount: 1,
                state: { running: {} },
                lastState: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt } },
            });
        assert.equal(podFailure(exitedAt("2026-11-30T03:12:00Z"), since), undefined);
        assert.equal(podFailure(exitedAt("2026-12-07T16:00:05Z"), since)?.reason, "exited before ready");
        // A container stopped right now is current, whenever the rollout began.
        assert.equal(
            podFailure(pod("p", "h", { state: { terminated: { exitCode: 1, finishedAt: "2026-11-30T03:12:00Z" } } }), since)?.reason,
            "exited before ready",
        );
    });

    describe("the rollout's own template (rolloutTemplateHash)", () => {
        const uid = "3f1c-deployment-uid";
        const deployment = (revision: number, generation = 4, observed = 4): WorkloadJson => ({
            metadata: { name: "hello", uid, generation, annotations: { "deployment.kubernetes.io/revision": String(revision) } },
            status: { observedGeneration: observed },
        });
        const rs = (hash: string, revision: number, owner = uid): WorkloadJson => ({
            metadata: {
                name: `hello-${hash}`,
                labels: { "pod-template-hash": hash },
                annotations: { "deployment.kubernetes.io/revision": String(revision) },
                ownerReferences: [{ uid: owner }],
            },
        });
        // Revision 2 (good) ran; the update brings revision 3 (bad).
        const sets = [rs("good", 2), rs("bad", 3)];

        it("a release: the new revision once the controller has made it, nothing before", () => {
            const start = { revision: 2, newTemplate: true };
            assert.equal(rolloutTemplateHash(deployment(2, 3, 3), [rs("good", 2)], start), undefined, "the patch has not landed yet");
            assert.equal(rolloutTemplateHash(deployment(2, 4, 3), [rs("good", 2)], start), undefined, "the controller has not seen it yet");
            assert.equal(rolloutTemplateHash(deployment(3), sets, start), "bad");
        });

        it("a rollback to the good template, which the controller brings back as revision 4: never the bad one it leaves", () => {
            const start = { revision: 3, newTemplate: true };
            assert.equal(rolloutTemplateHash(deployment(3, 5, 5), sets, start), undefined, "before the rollback's patch: not the bad one");
            assert.equal(rolloutTemplateHash(deployment(4, 6, 6), [rs("good", 4), rs("bad", 3)], start), "good");
        });

        it("a retry with no template change: the template running is the rollout's at once", () => {
            assert.equal(rolloutTemplateHash(deployment(3), sets, { revision: 3, newTemplate: false }), "bad");
        });

        it("only the Deployment's own ReplicaSets, and nothing without the Deployment", () => {
            assert.equal(
                rolloutTemplateHash(deployment(3), [rs("good", 2), rs("other", 3, "another-uid")], { revision: 2, newTemplate: true }),
                undefined,
            );
            assert.equal(rolloutTemplateHash(undefined, sets, { revision: 0, newTemplate: true }), undefined);
        });

        it("rolloutFailure blames pods of that template only", () => {
            const pods = [pod("hello-bad-1", "bad", crashLoop), pod("hello-good-1", "good", running)];
            assert.equal(rolloutFailure(pods, "bad")?.pod, "hello-bad-1");
            assert.equal(rolloutFailure(pods, "good"), undefined, "the crash loop a rollback leaves is not its failure");
            assert.equal(rolloutFailure(pods, undefined), undefined);
        });
    });

    it("reports the pod, the reason, the kubelet's message and the last log lines", () => {
        const failure = podFailure(pod("hello-7c9d-x2k4p", "new", crashLoop))!;
        assert.equal(
            describePodFailure("hello-local", failure, '{"level":"error","msg":"LOG_LEVEL: expected info, warn or error"}\n'),
            "pod hello-local/hello-7c9d-x2k4p, container hello: CrashLoopBackOff: back-off 20s restarting failed container=hello pod=hello-7c9d-x2k4p\n" +
                "last log lines of hello:\n" +
                '  {"level":"error","msg":"LOG_LEVEL: expected info, warn or error"}',
        );
        assert.equal(
            describePodFailure("ns", { pod: "p", container: "c", reason: "ImagePullBackOff", detail: "", restarted: false }, ""),
            "pod ns/p, container c: ImagePullBackOff\nc wrote no log lines",
        );
    });
});
