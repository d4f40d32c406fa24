/**
 * The rollout window as the API server reports it: a watch on the namespace's pods, started from a list taken
 * before the operation (list-then-watch, so no change is missed and none is counted twice), each event stamped with
 * this host's clock as it arrives. The node is on this host, so that clock is the one the load generator stamps its
 * requests with, and a watch event arrives within milliseconds of the change (the objects' own timestamps have
 * one-second resolution: too coarse to count a few hundred requests a second against).
 */
import { spawn } from "node:child_process";
import { fromEnv } from "./workspace";
import { kubectlOk } from "./machine";

/** When a rollout's window opened and closed, in ms since the epoch (this host's clock). */
export interface RolloutWindow {
    /** The first pod of a new ReplicaSet appeared (its ADDED event). */
    startMs: number;
    /** No pod of the old ReplicaSets was left that is not terminating: the old ReplicaSets are at 0. */
    endMs: number;
    /** The last pod of the old ReplicaSets was gone (DELETED), after its preStop, drain and shutdown. */
    oldPodsGoneMs: number;
    /** The first new pod's `creationTimestamp` (server side, whole seconds): a cross-check of `startMs`. */
    firstNewPodCreatedMs: number;
    /** Pods of the new ReplicaSet(s), by name, and their pod-template-hash. */
    newPods: Record<string, string>;
    /** Pods that were serving when the watch started, by name, and their pod-template-hash. */
    oldPods: Record<string, string>;
}

/** A running watch: `stop()` ends it and resolves with what it saw (zeros for what never happened). */
export interface RolloutWatch {
    /** Resolves once every old pod is gone (or after `timeoutMs`): the moment a load can stop. */
    oldPodsGone(timeoutMs: number): Promise<boolean>;
    stop(): Promise<RolloutWindow>;
}

interface WatchEvent {
    type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
    object: {
        metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string; labels?: Record<string, string> };
        /** Set on an ERROR event (a Status object). */
        message?: string;
    };
}

const HASH = "pod-template-hash";

/** Starts watching the pods of `namespace`; the pods not terminating now are the old ones. */
export async function watchRollout(namespace: string): Promise<RolloutWatch> {
    const list = JSON.parse(await kubectlOk(["get", "--raw", `/api/v1/namespaces/${namespace}/pods`])) as {
        metadata: { resourceVersion: string };
        items: WatchEvent["object"][];
    };
    const oldPods: Record<string, string> = {};
    for (const pod of list.items) {
        if (!pod.metadata.deletionTimestamp) oldPods[pod.metadata.name] = pod.metadata.labels?.[HASH] ?? "";
    }
    const oldHashes = new Set(Object.values(oldPods));
    /** Old pods not yet terminating, and old pods not yet deleted. */
    const oldActive = new Set(Object.keys(oldPods));
    const oldPresent = new Set(Object.keys(oldPods));
    const window: RolloutWindow = { startMs: 0, endMs: 0, oldPodsGoneMs: 0, firstNewPodCreatedMs: 0, newPods: {}, oldPods };
    let onGone: (() => void) | undefined;
    let watchError = "";

    const seen = (e: WatchEvent, now: number) => {
        if (e.type === "ERROR") {
            watchError ||= e.object.message ?? JSON.stringify(e.object);
            return;
        }
        const { name, labels, deletionTimestamp, creationTimestamp } = e.object.metadata;
        const hash = labels?.[HASH] ?? "";
        if (e.type === "ADDED" && !oldHashes.has(hash)) {
            window.newPods[name] = hash;
            if (window.startMs === 0) {
                window.startMs = now;
                window.firstNewPodCreatedMs = Date.parse(creationTimestamp ?? "") || 0;
            }
        }
        if (oldPresent.has(name)) {
            if (deletionTimestamp || e.type === "DELETED") oldActive.delete(name);
            if (e.type === "DELETED") oldPresent.delete(name);
            if (window.startMs && !window.endMs && oldActive.size === 0) window.endMs = now;
            if (window.endMs && !window.oldPodsGoneMs && oldPresent.size === 0) {
                window.oldPodsGoneMs = now;
                onGone?.();
            }
        }
    };

    // kubectl streams the watch as one JSON event a line; the server ends it after 20 minutes at most.
    const child = spawn(
        "kubectl",
        [
            "get",
            "--raw",
            `/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1200`,
        ],
        { env: { ...process.env, KUBECONFIG: fromEnv("KUBECONFIG") }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let buffered = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
        const now = Date.now();
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines.filter(Boolean)) seen(JSON.parse(line) as WatchEvent, now);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));

    return {
        async oldPodsGone(timeoutMs: number) {
            if (window.oldPodsGoneMs) return true;
            // No rollout started (a failed up, or a change that rolled nothing): nothing to wait for.
            if (!window.startMs) return false;
            const gone = new Promise<void>((resolve) => (onGone = resolve));
            let timer: NodeJS.Timeout | undefined;
            const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
            await Promise.race([gone, timedOut]);
            clearTimeout(timer);
            return window.oldPodsGoneMs > 0;
        },
        async stop() {
            // A watch that died or was cut by the server would leave the window half-measured: say so rather than
            // return it.
            if (watchError) throw new Error(`the pod watch reported an error: ${watchError}`);
            if (child.exitCode !== null) throw new Error(`the pod watch ended early (exit ${child.exitCode}): ${stderr}`);
            child.kill("SIGTERM");
            const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(killer);
            return window;
        },
    };
}
