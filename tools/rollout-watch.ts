/**
 * Fail fast: while `pulumi up` waits for a Deployment to become ready (up to its rollout timeout), watch the
 * rollout's own pods and report the first one that has failed for good (tools/pod-failure.ts), so the update can be
 * cancelled within seconds instead of minutes. What to watch comes from the engine's events, not from config: the
 * Deployment's step names its namespace, selector and the pod template it applies, whatever the program.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import { describePodFailure, rolloutFailure, rolloutTemplates, type PodFailure, type PodJson, type ReplicaSetJson } from "./pod-failure";

/** Where one Deployment's pods are. */
export interface PodQuery {
    namespace: string;
    /** Label selector (`spec.selector.matchLabels`). */
    selector: Record<string, string>;
    /** The kube context the stack's Kubernetes provider names, if any. */
    context?: string;
}

/** The ReplicaSets and pods one {@link PodQuery} selects. */
export interface RolloutObjects {
    replicaSets: ReplicaSetJson[];
    pods: PodJson[];
}

/** Reads pods and logs from the cluster a stack deploys to. */
export interface PodSource {
    /** The ReplicaSets and pods `query` selects, read at one moment. */
    read(query: PodQuery): Promise<RolloutObjects>;
    /** The last `lines` log lines of the failed container (of its previous run when it has restarted). */
    logs(query: PodQuery, failure: PodFailure, lines: number): Promise<string>;
}

/** Options of {@link RolloutWatch}. */
export interface RolloutWatchOptions {
    /** Called once, with the report and the Deployment's URN, when a rollout pod has failed for good. */
    onFailure(report: string, deploymentUrn: string): void;
    /** Warnings: the watch cannot read the cluster (the rollout's own timeout still applies). */
    warn(text: string): void;
    /** Milliseconds between two reads of a rollout's pods. Default 2000. */
    intervalMs?: number;
    /** Log lines in the report. Default 20. */
    logLines?: number;
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const KUBERNETES_PROVIDER = "pulumi:providers:kubernetes";
/** Steps after which a Deployment's pods roll (or, for an update that retries a failed rollout, still roll). */
const ROLLING_OPS = new Set(["create", "update", "replace", "create-replacement"]);

/** One Deployment to watch: where its pods are, and the pod template the update applies. */
interface WatchTarget {
    urn: string;
    query: PodQuery;
    template: unknown;
}

/** Consumes the engine events of one `up` (see {@link onEvent}) and watches the pods of each Deployment it rolls. */
export class RolloutWatch {
    private readonly providerContexts = new Map<string, string | undefined>();
    private readonly loops: Promise<void>[] = [];
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
        const step = event.resourcePreEvent;
        if (step === undefined || step.planning || this.stopped) return;
        const m = step.metadata;
        if (m.type === KUBERNETES_PROVIDER) {
            const context = (m.new ?? m.old)?.inputs?.context;
            this.providerContexts.set(m.urn, typeof context === "string" && context !== "" ? context : undefined);
        } else if (m.type === DEPLOYMENT && ROLLING_OPS.has(m.op)) {
            const target = this.target(m);
            if (target !== undefined) this.loops.push(this.watch(target));
        }
    }

    /** Ends every watch; resolves when they have stopped. */
    async stop(): Promise<void> {
        this.stopped = true;
        for (const wake of this.wakers) wake();
        await Promise.all(this.loops);
    }

    private target(m: StepEventMetadata): WatchTarget | undefined {
        const inputs = m.new?.inputs;
        const selector = inputs?.spec?.selector?.matchLabels;
        const template = inputs?.spec?.template;
        if (selector === null || typeof selector !== "object" || Object.keys(selector).length === 0 || template === undefined) {
            return undefined;
        }
        const namespace = typeof inputs?.metadata?.namespace === "string" ? inputs.metadata.namespace : "default";
        // A provider reference is `<provider URN>::<provider id>`.
        const provider = m.new?.provider ?? "";
        const context = this.providerContexts.get(provider.slice(0, provider.lastIndexOf("::")));
        return { urn: m.urn, query: { namespace, selector: selector as Record<string, string>, context }, template };
    }

    /** Reads the Deployment's ReplicaSets and pods until the update ends or one of the rollout's pods has failed. */
    private async watch({ urn, query, template }: WatchTarget): Promise<void> {
        while (!this.stopped && !this.failed) {
            let failure: PodFailure | undefined;
            try {
                const { replicaSets, pods } = await this.pods.read(query);
                failure = rolloutFailure(pods, rolloutTemplates(replicaSets, template));
            } catch (err) {
                this.warnOnce(query, err);
            }
            if (failure !== undefined && !this.stopped && !this.failed) {
                this.failed = true;
                const logs = await this.pods
                    .logs(query, failure, this.options.logLines ?? 20)
                    .catch((err: unknown) => `(no logs: ${String(err)})`);
                this.options.onFailure(describePodFailure(query.namespace, failure, logs), urn);
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

    private warnOnce(query: PodQuery, err: unknown): void {
        if (this.warned) return;
        this.warned = true;
        const message = err instanceof Error ? err.message : String(err);
        this.options.warn(
            `cannot read the pods of ${query.namespace} (${message.split("\n")[0]}): a failing pod is noticed only when the ` +
                `rollout times out\n`,
        );
    }
}

/** {@link PodSource} over `kubectl` on PATH, with the stack's environment (its KUBECONFIG). */
export class KubectlPodSource implements PodSource {
    constructor(private readonly env: NodeJS.ProcessEnv) {}

    async read(query: PodQuery): Promise<RolloutObjects> {
        const selector = Object.entries(query.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        const out = await this.kubectl([...this.scope(query), "get", "replicasets,pods", "-o", "json", "-l", selector]);
        const items = (JSON.parse(out) as { items: ({ kind: string } & PodJson & ReplicaSetJson)[] }).items;
        return { replicaSets: items.filter((i) => i.kind === "ReplicaSet"), pods: items.filter((i) => i.kind === "Pod") };
    }

    logs(query: PodQuery, failure: PodFailure, lines: number): Promise<string> {
        const previous = failure.restarted ? ["--previous"] : [];
        return this.kubectl([...this.scope(query), "logs", failure.pod, "-c", failure.container, "--tail", String(lines), ...previous]);
    }

    private scope(query: PodQuery): string[] {
        return [...(query.context ? ["--context", query.context] : []), "-n", query.namespace];
    }

    private kubectl(args: string[]): Promise<string> {
        return new Promise((resolve, reject) => {
            execFile(
                "kubectl",
                ["--request-timeout=10s", ...args],
                { env: this.env, maxBuffer: 64 * 1024 * 1024 },
                (err, stdout, stderr) => {
                    if (err) reject(new Error(`kubectl ${args.join(" ")}: ${String(stderr).trim() || err.message}`));
                    else resolve(stdout);
                },
            );
        });
    }
}
