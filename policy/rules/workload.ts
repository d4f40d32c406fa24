import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { isDigestPinned, parseImageRef } from "../lib/images";
import {
    ContainerRef,
    K8S,
    PodTemplate,
    containersOf,
    describeContainer,
    parseQuantity,
    podTemplateOf,
    portIsExposed,
    probePort,
    selectorMatches,
} from "../lib/kube";
import { configWithDefaults } from "../lib/config";

/**
 * Runs `check` on the pod template of any pod controller (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
 * CronJob, Pod); marks the policy not applicable for every other type.
 */
function forPodTemplate(
    check: (template: PodTemplate, report: ReportViolation, args: ResourceValidationArgs) => void,
): (args: ResourceValidationArgs, report: ReportViolation) => void {
    return (args, report) => {
        const template = podTemplateOf(args.type, args.props);
        if (!template) {
            return args.notApplicable("not a pod controller");
        }
        check(template, report, args);
    };
}

/** Containers that serve traffic and run for the pod's life (init containers have no probes). */
function longRunning(spec: Record<string, any>): ContainerRef[] {
    return containersOf(spec).filter((c) => c.kind === "container");
}

/** Every container runs an image pinned by `@sha256:` digest. */
export const imageDigest: ResourceValidationPolicy = {
    name: "slipway-image-digest",
    description: "Containers run images by @sha256: digest only (no tag-only references, no latest).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["supply-chain"],
    remediationSteps: "Deploy the digest AppImage outputs (repo@sha256:…); in qa/prod promote a digest into slipway:image.ref.",
    validateResource: forPodTemplate((template, report) => {
        for (const ref of containersOf(template.spec)) {
            const image = ref.container.image;
            if (isDigestPinned(image)) {
                continue;
            }
            const parsed = parseImageRef(image);
            const what = !parsed
                ? "has no image"
                : parsed.tag === "latest" || (!parsed.tag && !parsed.digest)
                  ? `runs "${image}", which floats on the latest tag`
                  : `runs "${image}" by tag, which can be re-pushed to different content`;
            report(
                `${describeContainer(ref)} ${what}. Fix: reference the image as <repository>@sha256:<64 hex> ` +
                    `(AppImage's ref output, or promote a digest into slipway:image.ref).`,
            );
        }
    }),
};

/** Every container sets CPU and memory requests and limits, and no request exceeds its limit. */
export const containerResources: ResourceValidationPolicy = {
    name: "slipway-container-resources",
    description: "Every container sets CPU and memory requests and limits, with requests no larger than limits.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["reliability", "isolation"],
    remediationSteps: "Set slipway:app.resources.{requests,limits}.{cpu,memory}.",
    validateResource: forPodTemplate((template, report) => {
        for (const ref of containersOf(template.spec)) {
            if (ref.kind === "ephemeralContainer") continue; // ephemeral containers cannot set resources
            const resources = ref.container.resources ?? {};
            const missing: string[] = [];
            for (const kind of ["requests", "limits"] as const) {
                for (const resource of ["cpu", "memory"] as const) {
                    if (resources[kind]?.[resource] === undefined) missing.push(`${kind}.${resource}`);
                }
            }
            if (missing.length > 0) {
                report(
                    `${describeContainer(ref)} has no resources.${missing.join(", resources.")}. ` +
                        `Fix: set requests and limits for cpu and memory (slipway:app.resources) so the scheduler can place ` +
                        `the pod and one service cannot starve its neighbours.`,
                );
                continue;
            }
            for (const resource of ["cpu", "memory"] as const) {
                const request = parseQuantity(resources.requests[resource]);
                const limit = parseQuantity(resources.limits[resource]);
                if (request === undefined || limit === undefined) {
                    report(
                        `${describeContainer(ref)} has an unparsable ${resource} quantity ` +
                            `(request "${resources.requests[resource]}", limit "${resources.limits[resource]}"). ` +
                            `Fix: use Kubernetes quantities such as "250m" or "256Mi".`,
                    );
                } else if (request > limit) {
                    report(
                        `${describeContainer(ref)} requests more ${resource} (${resources.requests[resource]}) than ` +
                            `its limit (${resources.limits[resource]}). Fix: lower the request or raise the limit.`,
                    );
                }
            }
        }
    }),
};

/** Readiness and liveness probes on every long-running container, aimed at a port the container declares. */
export const probes: ResourceValidationPolicy = {
    name: "slipway-probes",
    description: "Every long-running container has readiness and liveness probes on a port it exposes.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["reliability"],
    remediationSteps: "Add readinessProbe (GET /readyz) and livenessProbe (GET /healthz) on the named app port.",
    validateResource: forPodTemplate((template, report, args) => {
        // Jobs and CronJobs run to completion: readiness means nothing for them.
        if (args.type === K8S.Job || args.type === K8S.CronJob) {
            return args.notApplicable("run-to-completion workload");
        }
        for (const ref of longRunning(template.spec)) {
            for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
                const definition = ref.container[probe];
                if (!definition) {
                    if (probe !== "startupProbe") {
                        report(
                            `${describeContainer(ref)} has no ${probe}. Fix: add a ${probe} ` +
                                `(httpGet on the app port: /readyz for readiness, /healthz for liveness).`,
                        );
                    }
                    continue;
                }
                const port = probePort(definition);
                if (port !== undefined && !portIsExposed(ref.container, port)) {
                    report(
                        `${describeContainer(ref)} ${probe} targets port ${JSON.stringify(port)}, which the ` +
                            `container does not declare in ports. Fix: probe a declared port by its name.`,
                    );
                }
            }
            const readiness = ref.container.readinessProbe;
            const liveness = ref.container.livenessProbe;
            if (readiness && liveness && JSON.stringify(readiness) === JSON.stringify(liveness)) {
                report(
                    `${describeContainer(ref)} uses the same probe for readiness and liveness, so a busy pod is ` +
                        `restarted instead of taken out of rotation. Fix: point liveness at /healthz and readiness at /readyz.`,
                );
            }
        }
    }),
};

const ALLOWED_ADDED_CAPABILITIES = ["NET_BIND_SERVICE"];
const ALLOWED_SECCOMP = ["RuntimeDefault", "Localhost"];

/** The Kubernetes "restricted" Pod Security Standard, container by container. */
export const restrictedSecurityContext: ResourceValidationPolicy = {
    name: "slipway-restricted-security-context",
    description: "Containers follow the restricted Pod Security Standard (non-root, read-only root, no escalation, drop ALL, seccomp).",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["security"],
    remediationSteps:
        "Set runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation: false, capabilities.drop [ALL], seccompProfile RuntimeDefault.",
    validateResource: forPodTemplate((template, report) => {
        const pod = template.spec.securityContext ?? {};
        for (const ref of containersOf(template.spec)) {
            const sc = ref.container.securityContext ?? {};
            const problems: string[] = [];
            if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
                problems.push("runAsNonRoot is not true");
            }
            if ((sc.runAsUser ?? pod.runAsUser) === 0) {
                problems.push("runAsUser is 0 (root)");
            }
            if (sc.readOnlyRootFilesystem !== true) {
                problems.push("readOnlyRootFilesystem is not true");
            }
            if (sc.allowPrivilegeEscalation !== false) {
                problems.push("allowPrivilegeEscalation is not false");
            }
            if (sc.privileged === true) {
                problems.push("privileged is true");
            }
            const drop: unknown[] = sc.capabilities?.drop ?? [];
            if (!drop.includes("ALL")) {
                problems.push("capabilities.drop does not include ALL");
            }
            const added = (sc.capabilities?.add ?? []).filter((c: string) => !ALLOWED_ADDED_CAPABILITIES.includes(c));
            if (added.length > 0) {
                problems.push(`capabilities.add has ${added.join(", ")}`);
            }
            const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
            if (!ALLOWED_SECCOMP.includes(seccomp)) {
                problems.push(`seccompProfile.type is ${seccomp ?? "unset"}`);
            }
            if (problems.length > 0) {
                report(
                    `${describeContainer(ref)}: ${problems.join("; ")}. Fix: set securityContext { runAsNonRoot: true, ` +
                        `runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, ` +
                        `capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } } and mount an emptyDir ` +
                        `where the process must write.`,
                );
            }
        }
    }),
};

/** No sharing of the node's namespaces, filesystem or ports. */
export const noHostAccess: ResourceValidationPolicy = {
    name: "slipway-no-host-access",
    description: "Pods do not use hostNetwork, hostPID, hostIPC, hostPath volumes or hostPort.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["security", "isolation"],
    remediationSteps: "Remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort; use a Service and emptyDir/ConfigMap volumes.",
    validateResource: forPodTemplate((template, report) => {
        const spec = template.spec;
        for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
            if (spec[field] === true) {
                report(
                    `the pod sets ${field}: true, which shares the node's namespace with every app on it. ` +
                        `Fix: remove ${field}; expose the app through its Service.`,
                );
            }
        }
        for (const volume of Array.isArray(spec.volumes) ? spec.volumes : []) {
            if (volume?.hostPath) {
                report(
                    `volume "${volume.name}" mounts hostPath "${volume.hostPath.path}" from the node. ` +
                        `Fix: use an emptyDir, ConfigMap, Secret or PersistentVolumeClaim instead.`,
                );
            }
        }
        for (const ref of containersOf(spec)) {
            for (const port of Array.isArray(ref.container.ports) ? ref.container.ports : []) {
                if (port?.hostPort) {
                    report(
                        `${describeContainer(ref)} binds hostPort ${port.hostPort} on the node. ` +
                            `Fix: drop hostPort and reach the pod through its Service (or an Ingress).`,
                    );
                }
            }
        }
    }),
};

/** The same env var name twice in a container: Kubernetes keeps the last one silently. */
export const noDuplicateEnv: ResourceValidationPolicy = {
    name: "slipway-no-duplicate-env",
    description: "No container defines the same environment variable twice.",
    enforcementLevel: "mandatory",
    severity: "medium",
    tags: ["correctness"],
    remediationSteps: "Remove the duplicate: a key in slipway:app.env must not also be in slipway:secretEnv or the built-in env.",
    validateResource: forPodTemplate((template, report) => {
        for (const ref of containersOf(template.spec)) {
            const seen = new Set<string>();
            const duplicates = new Set<string>();
            for (const env of Array.isArray(ref.container.env) ? ref.container.env : []) {
                if (seen.has(env?.name)) duplicates.add(env.name);
                seen.add(env?.name);
            }
            if (duplicates.size > 0) {
                report(
                    `${describeContainer(ref)} defines ${[...duplicates].sort().join(", ")} more than once; ` +
                        `Kubernetes silently keeps the last value. Fix: define each variable once (a name in ` +
                        `slipway:app.env must not repeat one from slipway:secretEnv or the built-in STAGE/PORT/… variables).`,
                );
            }
        }
    }),
};

const topologyConfigSchema = {
    properties: {
        topologyKeys: {
            type: "array" as const,
            items: { type: "string" as const },
            default: ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
            description: "Topology keys that count as spreading replicas.",
        },
    },
};

/** Replicas spread over nodes/zones by a constraint that really selects the workload's own pods. */
export const topologySpread: ResourceValidationPolicy = {
    name: "slipway-topology-spread",
    description: "Replicated workloads spread their pods over nodes or zones (topologySpreadConstraints or podAntiAffinity).",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["availability", "prod"],
    configSchema: topologyConfigSchema,
    remediationSteps: "Add topologySpreadConstraints on kubernetes.io/hostname selecting the pod's own labels.",
    validateResource: (args, report) => {
        if (args.type !== K8S.Deployment && args.type !== K8S.StatefulSet) {
            return args.notApplicable("only Deployments and StatefulSets keep replicas");
        }
        const template = podTemplateOf(args.type, args.props);
        if (!template) {
            return args.notApplicable("no pod template");
        }
        const { topologyKeys } = configWithDefaults<{ topologyKeys: string[] }>(topologyConfigSchema, args);
        const labels = template.metadata.labels;
        const constraints: any[] = template.spec.topologySpreadConstraints ?? [];
        const antiAffinity = template.spec.affinity?.podAntiAffinity;
        const antiTerms: any[] = [
            ...(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
            ...(antiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t.podAffinityTerm),
        ];
        const good = [
            ...constraints.filter((c) => topologyKeys.includes(c?.topologyKey) && selectorMatches(c.labelSelector, labels)),
            ...antiTerms.filter((t) => topologyKeys.includes(t?.topologyKey) && selectorMatches(t.labelSelector, labels)),
        ];
        if (good.length > 0) {
            return;
        }
        const why =
            constraints.length + antiTerms.length === 0
                ? "has no topologySpreadConstraints or podAntiAffinity"
                : "has spread rules, but none uses one of the topology keys " +
                  `${topologyKeys.join(", ")} with a labelSelector that matches its own pod labels`;
        report(
            `the pod template ${why}, so all replicas may land on one node. Fix: add topologySpreadConstraints ` +
                `[{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", ` +
                `labelSelector: { matchLabels: <the pod's app.kubernetes.io labels> } }].`,
        );
    },
};

/** Zero-downtime rollouts: surge new pods first, drain old pods before SIGTERM. */
export const zeroDowntimeRollout: ResourceValidationPolicy = {
    name: "slipway-zero-downtime-rollout",
    description: "Deployments roll out with RollingUpdate, maxUnavailable 0, a surge, and a preStop drain within the grace period.",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["availability", "prod"],
    remediationSteps:
        "strategy { type: RollingUpdate, rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, a preStop sleep shorter than terminationGracePeriodSeconds.",
    validateResource: (args, report) => {
        if (args.type !== K8S.Deployment) {
            return args.notApplicable("only Deployments have a rollout strategy of this shape");
        }
        const strategy = args.props.spec?.strategy ?? {};
        if (strategy.type !== undefined && strategy.type !== "RollingUpdate") {
            report(
                `strategy.type is ${strategy.type}, which stops every old pod before new ones are ready. ` +
                    `Fix: use strategy { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }.`,
            );
        } else {
            const maxUnavailable = strategy.rollingUpdate?.maxUnavailable;
            if (maxUnavailable !== 0 && maxUnavailable !== "0" && maxUnavailable !== "0%") {
                report(
                    `rollingUpdate.maxUnavailable is ${maxUnavailable === undefined ? "unset (Kubernetes defaults to 25%)" : JSON.stringify(maxUnavailable)}, ` +
                        `so a rollout may take serving pods away before their replacements are ready. Fix: set maxUnavailable: 0.`,
                );
            }
            const maxSurge = strategy.rollingUpdate?.maxSurge;
            if (maxSurge === 0 || maxSurge === "0" || maxSurge === "0%") {
                report(
                    `rollingUpdate.maxSurge is 0 and maxUnavailable must be 0, so the rollout cannot make progress. ` +
                        `Fix: set maxSurge: 1 (or 25%).`,
                );
            }
        }
        const template = podTemplateOf(args.type, args.props);
        if (!template) {
            return;
        }
        const grace: number = template.spec.terminationGracePeriodSeconds ?? 30;
        for (const ref of longRunning(template.spec)) {
            if (!Array.isArray(ref.container.ports) || ref.container.ports.length === 0) {
                continue; // a container that serves nothing has nothing to drain
            }
            const preStop = ref.container.lifecycle?.preStop;
            if (!preStop) {
                report(
                    `${describeContainer(ref)} has no lifecycle.preStop, so it gets SIGTERM while endpoints still ` +
                        `route to it. Fix: add preStop { sleep: { seconds: 5 } } (the drain delay) and keep ` +
                        `terminationGracePeriodSeconds above it.`,
                );
                continue;
            }
            const sleep = preStopSeconds(preStop);
            if (sleep !== undefined && sleep >= grace) {
                report(
                    `${describeContainer(ref)} sleeps ${sleep}s in preStop but terminationGracePeriodSeconds is ` +
                        `${grace}, so the pod is killed before it finishes draining. Fix: raise terminationGracePeriodSeconds ` +
                        `above the preStop delay plus the app's shutdown time.`,
                );
            }
        }
    },
};

/** Seconds a preStop hook sleeps (`sleep` action or `exec: [sleep, N]`), when it can be read. */
function preStopSeconds(preStop: Record<string, any>): number | undefined {
    if (typeof preStop.sleep?.seconds === "number") {
        return preStop.sleep.seconds;
    }
    const command: unknown[] = preStop.exec?.command ?? [];
    const joined = command.join(" ");
    const match = /\bsleep\s+(\d+(?:\.\d+)?)/.exec(joined);
    return match ? Number(match[1]) : undefined;
}
