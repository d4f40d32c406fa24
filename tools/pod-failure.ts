/**
 * Which pods of a rollout have failed for good: the states Kubernetes keeps retrying but that no wait will fix
 * (a crash loop, an image that cannot be pulled, a missing ConfigMap or Secret key), read from pod status alone.
 */

/** The part of a container's status this module reads (`status.containerStatuses[]`). */
export interface ContainerStatusJson {
    name: string;
    ready?: boolean;
    restartCount?: number;
    state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string } };
    lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/** The part of a pod this module reads. */
export interface PodJson {
    metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
    status?: { containerStatuses?: ContainerStatusJson[]; initContainerStatuses?: ContainerStatusJson[] };
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
 * one: the kubelet retries a failed pull once before backing off (`ImagePullBackOff`), which rides out a registry's
 * restart.
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

/** Why `pod` cannot become ready, or `undefined` while it still may. A pod being deleted never counts. */
export function podFailure(pod: PodJson): PodFailure | undefined {
    if (pod.metadata.deletionTimestamp !== undefined) return undefined;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of statuses) {
        const restarted = (c.restartCount ?? 0) > 0;
        const waiting = c.state?.waiting;
        if (waiting?.reason !== undefined && FAILED_WAITING_REASONS.has(waiting.reason)) {
            return { pod: pod.metadata.name, container: c.name, reason: waiting.reason, detail: waiting.message ?? "", restarted };
        }
        // A container that stopped with an error before it was ever ready: the kubelet restarts it at once, and backs
        // off (CrashLoopBackOff) only from the second exit on. Exit code 0 is left to that back-off.
        const exited = c.state?.terminated ?? (c.ready ? undefined : c.lastState?.terminated);
        if (exited !== undefined && (exited.exitCode ?? 0) !== 0 && !c.ready) {
            return {
                pod: pod.metadata.name,
                container: c.name,
                reason: "exited before ready",
                detail: `exit code ${exited.exitCode}${exited.reason ? ` (${exited.reason})` : ""}`,
                restarted: c.state?.terminated === undefined,
            };
        }
    }
    return undefined;
}

/** The part of a ReplicaSet this module reads. */
export interface ReplicaSetJson {
    metadata: { name: string; labels?: Record<string, string> };
    spec?: { template?: unknown };
}

/** What Pulumi's event log shows in place of a secret input. */
const SECRET_PLACEHOLDER = "[secret]";

/**
 * Whether `actual` (an object as the API server returns it) has every value `desired` (the inputs Pulumi applies)
 * names. The server adds defaults and labels, so `actual` may hold more; a secret input matches anything, and an empty
 * object matches an absent one (the server drops it).
 */
export function hasEvery(desired: unknown, actual: unknown): boolean {
    if (desired === SECRET_PLACEHOLDER || desired === null || desired === undefined) return true;
    if (Array.isArray(desired)) {
        return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => hasEvery(d, actual[i]));
    }
    if (typeof desired === "object") {
        const entries = Object.entries(desired as Record<string, unknown>);
        if (actual === undefined || actual === null) return entries.length === 0;
        if (typeof actual !== "object") return false;
        return entries.every(([key, value]) => hasEvery(value, (actual as Record<string, unknown>)[key]));
    }
    return String(desired) === String(actual);
}

/**
 * The rollout's own pod templates: the hashes of the ReplicaSets whose template has everything the Deployment's new
 * template names. That is the new ReplicaSet of a release, an earlier one a rollback brings back, or the one already
 * running when an update retries a rollout that failed; never a template the update moves away from.
 */
export function rolloutTemplates(replicaSets: ReplicaSetJson[], desiredTemplate: unknown): Set<string> {
    return new Set(
        replicaSets.flatMap((rs) => {
            const hash = rs.metadata.labels?.[TEMPLATE_HASH_LABEL];
            return hash !== undefined && hasEvery(desiredTemplate, rs.spec?.template) ? [hash] : [];
        }),
    );
}

/** The first failure among pods of the rollout's own templates (see {@link rolloutTemplates}). */
export function rolloutFailure(pods: PodJson[], templates: ReadonlySet<string>): PodFailure | undefined {
    for (const pod of pods) {
        const hash = pod.metadata.labels?.[TEMPLATE_HASH_LABEL];
        if (hash === undefined || !templates.has(hash)) continue;
        const failure = podFailure(pod);
        if (failure !== undefined) return failure;
    }
    return undefined;
}

/** The report of a failure: the pod, the reason, the kubelet's detail, and the container's last log lines. */
export function describePodFailure(namespace: string, failure: PodFailure, logLines: string): string {
    const detail = failure.detail ? `: ${failure.detail}` : "";
    const logs = logLines.trim();
    const tail = logs
        ? `\nlast log lines of ${failure.container}${failure.restarted ? " (its previous run)" : ""}:\n${logs.replace(/^/gm, "  ")}`
        : `\n${failure.container} wrote no log lines`;
    return `pod ${namespace}/${failure.pod}, container ${failure.container}: ${failure.reason}${detail}${tail}`;
}
