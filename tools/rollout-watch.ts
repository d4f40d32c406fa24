/**
 * Fail fast: while `pulumi up` waits for a Deployment to become ready (up to its rollout timeout), watch the
 * rollout's own pods and report the first one that has failed for good (tools/pod-failure.ts), so the update can be
 * cancelled within 30 s instead of minutes. What to watch comes from the engine's events, not from config: the
 * Deployment's step names it, its namespace, selector and revision before the update, whatever the program.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import {
    describePodFailure,
    hasRun,
    podFailureLine,
    REVISION_ANNOTATION,
    rolloutFailure,
    rolloutTemplateHash,
    type PodFailure,
    type PodJson,
    type RolloutStart,
    type WorkloadJson,
} from "./pod-failure";

/** Where one Deployment and its pods are. */
export interface PodQuery {
    /** The Deployment's name. */
    deployment: string;
    /** Its namespace; the kube context's own when the program names none. */
    namespace?: string;
    /** Label selector of its pods (`spec.selector.matchLabels`). */
    selector: Record<string, string>;
    /** The kube context the stack's Kubernetes provider names, if any. */
    context?: string;
    /** The kubeconfig the stack's Kubernetes provider names (a path, or the file's content), if any. */
    kubeconfig?: string;
}

/** The Deployment, ReplicaSets and pods one {@link PodQuery} selects. */
export interface RolloutObjects {
    /** Absent until it exists. */
    deployment?: WorkloadJson;
    replicaSets: WorkloadJson[];
    pods: PodJson[];
}

/** Reads a Deployment's rollout and its logs from the cluster a stack deploys to. */
export interface PodSource {
    /** The Deployment, the ReplicaSets and the pods `query` selects. */
    read(query: PodQuery): Promise<RolloutObjects>;
    /** The last `lines` log lines of the failed container: of its previous run where the kubelet still has it. */
    logs(query: PodQuery, failure: PodFailure, lines: number): Promise<string>;
    /** Releases what reads left behind (files written for a kubeconfig given as content). */
    dispose?(): void;
}

/** What {@link RolloutWatchOptions.onFailure} receives. */
export interface FoundFailure {
    /** The Deployment whose rollout failed. */
    deploymentUrn: string;
    /** The pod, the container and the reason, in one line. */
    summary: string;
    /** The full report: the summary, the kubelet's message and the container's last log lines. */
    report(): Promise<string>;
}

/** Options of {@link RolloutWatch}. */
export interface RolloutWatchOptions {
    /**
     * Called once, as soon as a rollout pod has failed for good (before anything else is read, so the update can be
     * cancelled at once): the Deployment's URN, the failure's first line, and the full report with the container's
     * last log lines, read when asked for.
     */
    onFailure(found: FoundFailure): void;
    /** Warnings: the watch cannot read the cluster (the rollout's own timeout still applies). */
    warn(text: string): void;
    /** Milliseconds between two reads of a rollout's pods. Default 2000. */
    intervalMs?: number;
    /** Log lines in the report. Default 20. */
    logLines?: number;
    /** The clock (ms since the epoch); tests pass their own. */
    now?: () => number;
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const KUBERNETES_PROVIDER = "pulumi:providers:kubernetes";
/**
 * Steps after which a Deployment's pods roll (or, for an update that retries a failed rollout, still roll). A
 * replacement's `replace` step only marks it; its `create-replacement` step makes the new object.
 */
const ROLLING_OPS = new Set(["create", "update", "create-replacement"]);
/** How far the cluster's clock may be behind this machine's when deciding whether an exit is the rollout's. */
const CLOCK_SKEW_MS = 30_000;

/** One Deployment to watch. */
interface WatchTarget {
    urn: string;
    query: PodQuery;
    start: RolloutStart;
    startedAt: number;
}

/**
 * Consumes the engine events of one `up` (see {@link onEvent}) and watches the pods of each Deployment it rolls,
 * from the step's start to its end.
 */
export class RolloutWatch {
    private readonly providers = new Map<string, { context?: string; kubeconfig?: string }>();
    private readonly watching = new Map<string, { done: boolean; loop: Promise<void> }>();
    private readonly wakers = new Set<() => void>();
    private stopped = false;
    private failed = false;
    private warned = false;

    constructor(
        private readonly pods: PodSource,
        private readonly options: RolloutWatchOptions,
    ) {}

    /** Hand every engine event of the update here (the Automation API's `onEvent`). */
    onEvent(event: EngineEvent): void {
        const ended = event.resOutputsEvent ?? event.resOpFailedEvent;
        if (ended !== undefined) {
            const watch = this.watching.get(ended.metadata.urn);
            if (watch !== undefined) watch.done = true;
            return;
        }
        const step = event.resourcePreEvent;
        if (step === undefined || step.planning || this.stopped) return;
        const m = step.metadata;
        if (m.type === KUBERNETES_PROVIDER) {
            const inputs = (m.new ?? m.old)?.inputs ?? {};
            this.providers.set(m.urn, { context: usable(inputs.context), kubeconfig: usable(inputs.kubeconfig) });
        } else if (m.type === DEPLOYMENT && ROLLING_OPS.has(m.op) && !this.watching.has(m.urn)) {
            const target = this.target(m);
            if (target === undefined) return;
            const watch = { done: false, loop: Promise.resolve() };
            watch.loop = this.watch(target, watch).catch((err: unknown) => this.warnOnce(target.query, err));
            this.watching.set(m.urn, watch);
        }
    }

    /** URNs of the Deployments whose step began and has not ended: an update cancelled now leaves them half done. */
    unfinished(): string[] {
        return [...this.watching].filter(([, w]) => !w.done).map(([urn]) => urn);
    }

    /** Ends every watch; resolves when they have stopped. */
    async stop(): Promise<void> {
        this.stopped = true;
        for (const wake of this.wakers) wake();
        await Promise.all([...this.watching.values()].map((w) => w.loop));
    }

    private target(m: StepEventMetadata): WatchTarget | undefined {
        const inputs = m.new?.inputs;
        const name = inputs?.metadata?.name;
        const selector = inputs?.spec?.selector?.matchLabels;
        if (typeof name !== "string" || selector === null || typeof selector !== "object" || Object.keys(selector).length === 0) {
            return undefined;
        }
        // A provider reference is `<provider URN>::<provider id>`.
        const providerRef = m.new?.provider ?? "";
        const provider = this.providers.get(providerRef.slice(0, providerRef.lastIndexOf("::"))) ?? {};
        const namespace = usable(inputs?.metadata?.namespace);
        // A replacement is a new object: its revisions start again, and the old object (still there when the new one
        // is made first) is not it.
        const replacing = m.op === "create-replacement";
        const revision = replacing ? 0 : Number(m.old?.outputs?.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
        const oldUid = m.old?.outputs?.metadata?.uid;
        return {
            urn: m.urn,
            query: { deployment: name, namespace, selector: selector as Record<string, string>, ...provider },
            start: {
                revision: Number.isFinite(revision) ? revision : 0,
                newTemplate: changesTemplate(m),
                ...(replacing && typeof oldUid === "string" ? { notUid: oldUid } : {}),
            },
            startedAt: this.now(),
        };
    }

    /** Reads the Deployment's rollout until its step ends, the update ends, or one of the rollout's pods has failed. */
    private async watch({ urn, query, start, startedAt }: WatchTarget, state: { done: boolean }): Promise<void> {
        while (!this.stopped && !this.failed && !state.done) {
            let failure: PodFailure | undefined;
            try {
                const { deployment, replicaSets, pods } = await this.pods.read(query);
                failure = rolloutFailure(pods, rolloutTemplateHash(deployment, replicaSets, start), startedAt - CLOCK_SKEW_MS);
            } catch (err) {
                this.warnOnce(query, err);
            }
            if (failure !== undefined && !this.stopped && !this.failed && !state.done) {
                this.failed = true;
                const found = failure;
                const namespace = query.namespace ?? "(the context's namespace)";
                this.options.onFailure({
                    deploymentUrn: urn,
                    summary: podFailureLine(namespace, found),
                    report: async () => {
                        // A container that never started has no log to read.
                        const logs = hasRun(found)
                            ? await this.pods
                                  .logs(query, found, this.options.logLines ?? 20)
                                  .catch((err: unknown) => `(no logs: ${String(err)})`)
                            : "";
                        return describePodFailure(namespace, found, logs);
                    },
                });
                return;
            }
            await new Promise<void>((resolve) => {
                const wake = () => {
                    clearTimeout(timer);
                    this.wakers.delete(wake);
                    resolve();
                };
                const timer = setTimeout(wake, this.options.intervalMs ?? 2000);
                this.wakers.add(wake);
            });
        }
    }

    private now(): number {
        return (this.options.now ?? Date.now)();
    }

    private warnOnce(query: PodQuery, err: unknown): void {
        if (this.warned) return;
        this.warned = true;
        const message = err instanceof Error ? err.message : String(err);
        this.options.warn(
            `cannot read the rollout of ${query.namespace ?? ""}/${query.deployment} (${message.split("\n")[0]}): a failing pod is ` +
                `noticed only when the rollout times out\n`,
        );
    }
}

/** Whether a provider's `kubeconfig` is the file's content rather than a path (it accepts both). */
function isKubeconfigContent(kubeconfig: string): boolean {
    return /[\n{]/.test(kubeconfig);
}

/** `~/…` in each entry of a path list, as the provider expands it. */
function expandHome(paths: string): string {
    return paths
        .split(path.delimiter)
        .map((p) => (p.startsWith("~/") ? path.join(homedir(), p.slice(2)) : p))
        .join(path.delimiter);
}

/** A string input Pulumi shows in clear: not empty, not a secret's placeholder. */
function usable(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" && value !== "[secret]" ? value : undefined;
}

/**
 * Whether a Deployment's step changes its pod template. An update without such a change is a retry of a rollout
 * that failed (Pulumi updates a resource it recorded as not ready, with an empty diff) or a change elsewhere.
 */
export function changesTemplate(m: Pick<StepEventMetadata, "op" | "diffs" | "detailedDiff">): boolean {
    if (m.op !== "update") return true;
    if (m.detailedDiff !== undefined && m.detailedDiff !== null) {
        return Object.keys(m.detailedDiff).some((key) => key === "spec" || key.startsWith("spec.template"));
    }
    return (m.diffs ?? []).includes("spec");
}

/** {@link PodSource} over `kubectl` on PATH, with the stack's environment (its KUBECONFIG). */
export class KubectlPodSource implements PodSource {
    private kubeconfigFiles = new Map<string, string>();

    constructor(
        private readonly env: NodeJS.ProcessEnv,
        private readonly command = "kubectl",
    ) {}

    async read(query: PodQuery): Promise<RolloutObjects> {
        const selector = Object.entries(query.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        const [deployments, workloads] = await Promise.all([
            this.kubectl(query, ["get", "deployments", "-o", "json", "--field-selector", `metadata.name=${query.deployment}`]),
            this.kubectl(query, ["get", "replicasets,pods", "-o", "json", "-l", selector]),
        ]);
        const items = (JSON.parse(workloads) as { items: ({ kind: string } & PodJson & WorkloadJson)[] }).items;
        return {
            deployment: (JSON.parse(deployments) as { items: WorkloadJson[] }).items[0],
            replicaSets: items.filter((i) => i.kind === "ReplicaSet"),
            pods: items.filter((i) => i.kind === "Pod"),
        };
    }

    async logs(query: PodQuery, failure: PodFailure, lines: number): Promise<string> {
        const read = (previous: boolean) =>
            this.kubectl(query, [
                "logs",
                failure.pod,
                "-c",
                failure.container,
                "--tail",
                String(lines),
                ...(previous ? ["--previous"] : []),
            ]).then(
                (text) => (/^unable to retrieve container logs/.test(text) ? "" : text),
                () => "",
            );
        // The kubelet keeps one dead container, and removes its log with it once the next one has exited too: the
        // previous run's log may be gone by the time it is read. The run after it crashed the same way, or will have.
        for (let attempt = 0; attempt < 3; attempt += 1) {
            const text = (failure.restarted ? await read(true) : "") || (await read(false));
            if (text.trim() !== "") return text;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        return this.kubectl(query, ["logs", failure.pod, "-c", failure.container, "--tail", String(lines)]);
    }

    /** Removes the kubeconfig files written for providers that carry the file's content. */
    dispose(): void {
        for (const file of this.kubeconfigFiles.values()) rmSync(path.dirname(file), { recursive: true, force: true });
        this.kubeconfigFiles.clear();
    }

    private scope(query: PodQuery): string[] {
        return [
            ...(query.kubeconfig && isKubeconfigContent(query.kubeconfig) ? ["--kubeconfig", this.kubeconfigFile(query.kubeconfig)] : []),
            ...(query.context ? ["--context", query.context] : []),
            ...(query.namespace ? ["-n", query.namespace] : []),
        ];
    }

    /** A kubeconfig given as the file's content, written to a file of its own (mode 0600). */
    private kubeconfigFile(kubeconfig: string): string {
        let file = this.kubeconfigFiles.get(kubeconfig);
        if (file === undefined) {
            file = path.join(mkdtempSync(path.join(tmpdir(), "slipway-kubeconfig-")), "config");
            writeFileSync(file, kubeconfig, { mode: 0o600 });
            this.kubeconfigFiles.set(kubeconfig, file);
            // A second Ctrl-C ends the process without unwinding: the file goes then too.
            process.once("exit", () => this.dispose());
        }
        return file;
    }

    private kubectl(query: PodQuery, args: string[]): Promise<string> {
        const argv = ["--request-timeout=10s", ...this.scope(query), ...args];
        // A path (or a list of paths, as KUBECONFIG takes them) goes where kubectl reads lists: its environment.
        const paths = query.kubeconfig && !isKubeconfigContent(query.kubeconfig) ? query.kubeconfig : undefined;
        const env = paths ? { ...this.env, KUBECONFIG: expandHome(paths) } : this.env;
        return new Promise((resolve, reject) => {
            // The timeout also bounds an exec credential plugin (aws eks get-token), which --request-timeout does not.
            execFile(this.command, argv, { env, maxBuffer: 64 * 1024 * 1024, timeout: 20_000 }, (err, stdout, stderr) => {
                if (err) reject(new Error(`kubectl ${args.join(" ")}: ${String(stderr).trim() || err.message}`));
                else resolve(stdout);
            });
        });
    }
}
