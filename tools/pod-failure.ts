/**
 * Which pods of a rollout have failed for good: the states Kubernetes keeps retrying but that no wait will fix
 * (a crash loop, an image that cannot be pulled, a missing ConfigMap or Secret key), read from the Deployment, its
 * ReplicaSets and their pods as the API server returns them.
 */

/** A container's last exit (`state.terminated`, `lastState.terminated`). */
export interface TerminatedJson {
    exitCode?: number;
    reason?: string;
    /** RFC 3339, the cluster's clock. */
    finishedAt?: string;
}

/** The part of a container's status this module reads (`status.containerStatuses[]`). */
export interface ContainerStatusJson {
    name: string;
    ready?: boolean;
    restartCount?: number;
    state?: { waiting?: { reason?: string; message?: string }; terminated?: TerminatedJson };
    lastState?: { terminated?: TerminatedJson };
}

/** The part of a pod this module reads. */
export interface PodJson {
    metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
    status?: { containerStatuses?: ContainerStatusJson[]; initContainerStatuses?: ContainerStatusJson[] };
}

/** The part of a Deployment or ReplicaSet this module reads. */
export interface WorkloadJson {
    metadata: {
        name: string;
        uid?: string;
        generation?: number;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        ownerReferences?: { uid: string }[];
    };
    status?: { observedGeneration?: number };
}

/** A pod that will not become ready however long the rollout waits. */
export interface PodFailure {
    pod: string;
    container: string;
    /** `CrashLoopBackOff`, `ImagePullBackOff`, …, or `exited before ready` */
    reason: string;
    /** The kubelet's message, or the exit code. */
    detail: string;
    /** Whether the container has restarted: its logs are then the previous run's (`kubectl logs --previous`). */
    restarted: boolean;
}

/**
 * Waiting reasons the kubelet only leaves by a change to the pod's spec or to what it names. `ErrImagePull` is not
 * one: the kubelet retries a failed pull before it backs off (`ImagePullBackOff`).
 */
export const FAILED_WAITING_REASONS: ReadonlySet<string> = new Set([
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
]);

/** The label the Deployment controller gives each pod template's pods (and its ReplicaSet). */
export const TEMPLATE_HASH_LABEL = "pod-template-hash";
/** The annotation that numbers a Deployment's templates; its ReplicaSets carry the revision of theirs. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";

/**
 * Why `pod` cannot become ready, or `undefined` while it still may. A pod being deleted never counts, and an earlier
 * exit (`lastState`) only when it happened at or after `sinceMs` (ms since the epoch): a long-running pod that was
 * OOM-killed last week is not this rollout's failure.
 */
export function podFailure(pod: PodJson, sinceMs = Number.NEGATIVE_INFINITY): PodFailure | undefined {
    if (pod.metadata.deletionTimestamp !== undefined) return undefined;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of statuses) {
        const restarted = (c.restartCount ?? 0) > 0;
        const waiting = c.state?.waiting;
        if (waiting?.reason !== undefined && FAILED_WAITING_REASONS.has(waiting.reason)) {
            return { pod: pod.metadata.name, container: c.name, reason: waiting.reason, detail: waiting.message ?? "", restarted };
        }
        // A container that stopped with an error and is not ready: the kubelet restarts it at once, and backs off
        // (CrashLoopBackOff) only from the second exit on. Exit code 0 is left to that back-off.
        const stopped = c.state?.terminated;
        const earlier = c.lastState?.terminated;
        const exit = stopped ?? (earlier !== undefined && exitedSince(earlier, sinceMs) ? earlier : undefined);
        if (exit !== undefined && (exit.exitCode ?? 0) !== 0 && !c.ready) {
            return {
                pod: pod.metadata.name,
                container: c.name,
                reason: "exited before ready",
                detail: `exit code ${exit.exitCode}${exit.reason ? ` (${exit.reason})` : ""}`,
                restarted: stopped === undefined,
            };
        }
    }
    return undefined;
}

/** Whether an exit happened at or after `sinceMs`; one with no time counts only when there is no bound. */
function exitedSince(exit: TerminatedJson, sinceMs: number): boolean {
    const finished = Date.parse(exit.finishedAt ?? "");
    return Number.isNaN(finished) ? sinceMs === Number.NEGATIVE_INFINITY : finished >= sinceMs;
}

/** What the Deployment's step tells about the rollout to expect. */
export interface RolloutStart {
    /** The Deployment's template revision when the update began (from its state); 0 for a new Deployment. */
    revision: number;
    /** Whether the update changes the pod template; when not, the template running is the rollout's. */
    newTemplate: boolean;
    /** A replacement's old object, which is not the rollout's Deployment (by uid). */
    notUid?: string;
}

const revisionOf = (o: WorkloadJson): number => Number(o.metadata.annotations?.[REVISION_ANNOTATION] ?? Number.NaN);

/**
 * The pod template hash of the rollout's own ReplicaSet, or `undefined` until the Deployment controller has made it:
 * the Deployment's current revision once the controller has seen the latest spec, provided that revision is newer
 * than the one before the update when the update brings a new template. That is the new ReplicaSet of a release,
 * the earlier one a rollback brings back (the controller gives it the next revision), or the one already running
 * when an update retries a rollout that failed; never a template the update moves away from.
 */
export function rolloutTemplateHash(
    deployment: WorkloadJson | undefined,
    replicaSets: WorkloadJson[],
    start: RolloutStart,
): string | undefined {
    if (deployment === undefined || (start.notUid !== undefined && deployment.metadata.uid === start.notUid)) return undefined;
    const generation = deployment.metadata.generation ?? 0;
    if ((deployment.status?.observedGeneration ?? 0) < generation) return undefined;
    const revision = revisionOf(deployment);
    if (!Number.isFinite(revision) || (start.newTemplate && revision <= start.revision)) return undefined;
    const own = replicaSets.find(
        (rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid) && revisionOf(rs) === revision,
    );
    return own?.metadata.labels?.[TEMPLATE_HASH_LABEL];
}

/** The first failure among the pods of template `hash` (see {@link rolloutTemplateHash}). */
export function rolloutFailure(pods: PodJson[], hash: string | undefined, sinceMs?: number): PodFailure | undefined {
    if (hash === undefined) return undefined;
    for (const pod of pods) {
        if (pod.metadata.labels?.[TEMPLATE_HASH_LABEL] !== hash) continue;
        const failure = podFailure(pod, sinceMs);
        if (failure !== undefined) return failure;
    }
    return undefined;
}

/** Whether a failed container has run at all, and so may have written a log. */
export function hasRun(failure: PodFailure): boolean {
    return failure.restarted || ["CrashLoopBackOff", "exited before ready", "RunContainerError"].includes(failure.reason);
}

/** A failure in one line: the pod, the container, the reason and the kubelet's detail. */
export function podFailureLine(namespace: string, failure: PodFailure): string {
    const detail = failure.detail ? `: ${failure.detail}` : "";
    return `pod ${namespace}/${failure.pod}, container ${failure.container}: ${failure.reason}${detail}`;
}

/** The report of a failure: its line (see {@link podFailureLine}) and the container's last log lines. */
export function describePodFailure(namespace: string, failure: PodFailure, logLines: string): string {
    const logs = logLines.trim();
    const tail = logs
        ? `\nlast log lines of ${failure.container}:\n${logs.replace(/^/gm, "  ")}`
        : `\n${failure.container} wrote no log lines`;
    return `${podFailureLine(namespace, failure)}${tail}`;
}
