import { PolicyResource, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { APP_PORT_NAMES } from "../../contracts";
import { configWithDefaults } from "../lib/config";
import {
    K8S,
    KubeObject,
    REPLICATED_TYPES,
    Workload,
    containersOf,
    describeObject,
    kubeNameOf,
    mapSelectorMatches,
    namespaceOf,
    portIsExposed,
    selectorMatches,
    workloadsOf,
} from "../lib/kube";

/** The stack's Kubernetes objects of one type. */
export function ofType(resources: readonly PolicyResource[], type: string): KubeObject[] {
    return resources.filter((r) => r.type === type);
}

/** Services (with a selector) whose selector picks the workload's pods, in its namespace. */
export function servicesFor(workload: Workload, services: readonly KubeObject[]): KubeObject[] {
    return services.filter(
        (s) => namespaceOf(s.props) === workload.namespace && mapSelectorMatches(s.props.spec?.selector, workload.template.metadata.labels),
    );
}

/** Marks a stack rule not applicable when the stack has no replicated workloads. */
function replicatedWorkloads(args: StackValidationArgs): Workload[] {
    const workloads = workloadsOf(args.resources, REPLICATED_TYPES);
    if (workloads.length === 0) {
        return args.notApplicable("no Deployments or StatefulSets");
    }
    return workloads;
}

/**
 * Every Deployment is reachable: a Service selects its pods and each Service port's targetPort is a port the pods
 * declare; no Service selects nothing.
 */
export const serviceTargetsWorkload: StackValidationPolicy = {
    name: "slipway-service-targets-workload",
    description: "Every Deployment has a Service selecting its pods on declared ports, and no Service selects nothing.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["wiring"],
    remediationSteps: "Give the Service the pod template's app.kubernetes.io labels as selector and a named targetPort.",
    validateStack: (args, report) => {
        const workloads = replicatedWorkloads(args);
        const services = ofType(args.resources, K8S.Service);
        for (const workload of workloads) {
            if (servicesFor(workload, services).length === 0) {
                report(
                    `${describeObject(workload)} has no Service selecting its pod labels ` +
                        `${JSON.stringify(workload.template.metadata.labels ?? {})}. Fix: create a Service in namespace ` +
                        `"${workload.namespace}" whose spec.selector is a subset of those labels.`,
                    workload.urn,
                );
            }
        }
        for (const service of services) {
            const selector = service.props.spec?.selector;
            if (!selector || Object.keys(selector).length === 0) {
                continue; // selector-less Services (ExternalName, manual Endpoints) are out of scope
            }
            const targets = workloadsOf(args.resources).filter(
                (w) => w.namespace === namespaceOf(service.props) && mapSelectorMatches(selector, w.template.metadata.labels),
            );
            if (targets.length === 0) {
                report(
                    `${describeObject(service)} selects ${JSON.stringify(selector)}, which matches no pod template ` +
                        `in its namespace. Fix: make spec.selector a subset of the Deployment's pod template labels.`,
                    service.urn,
                );
                continue;
            }
            for (const port of service.props.spec?.ports ?? []) {
                const targetPort = port?.targetPort ?? port?.port;
                const exposed = targets.every((w) =>
                    containersOf(w.template.spec).some((c) => c.kind === "container" && portIsExposed(c.container, targetPort)),
                );
                if (!exposed) {
                    report(
                        `${describeObject(service)} port "${port?.name ?? port?.port}" targets ` +
                            `${JSON.stringify(targetPort)}, which the selected pods do not declare. Fix: set targetPort ` +
                            `to the name of a containerPort (e.g. "http" or "metrics").`,
                        service.urn,
                    );
                }
            }
        }
    },
};

const monitorConfigSchema = {
    properties: {
        requireServiceMonitor: {
            type: "boolean" as const,
            default: true,
            description: "Require a ServiceMonitor for every Deployment's Service (switch off for stages without the Prometheus Operator).",
        },
    },
};

/** True when a ServiceMonitor may pick Services in `namespace` (its own, `any`, or listed in matchNames). */
function monitorCoversNamespace(monitor: KubeObject, namespace: string): boolean {
    const selector = monitor.props.spec?.namespaceSelector;
    if (selector?.any === true) return true;
    if (Array.isArray(selector?.matchNames) && selector.matchNames.length > 0) return selector.matchNames.includes(namespace);
    return namespaceOf(monitor.props) === namespace;
}

/** Service port names a ServiceMonitor endpoint may name. */
function servicePortNames(service: KubeObject): string[] {
    return (service.props.spec?.ports ?? []).map((p: any) => p?.name).filter((n: unknown) => typeof n === "string");
}

/**
 * Monitoring for every service: each Deployment's Service is selected by a ServiceMonitor by its labels and on a
 * port name the Service defines; no ServiceMonitor selects nothing (a typo there means silent loss of metrics). An app
 * without a metrics port (`slipway:app.metricsPort: false`: no Service port named `metrics`) has nothing to scrape and
 * needs no ServiceMonitor.
 */
export const serviceMonitorTargetsService: StackValidationPolicy = {
    name: "slipway-servicemonitor-targets-service",
    description: "Every Deployment's Service has a ServiceMonitor selecting its labels on a port name the Service defines.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["wiring", "monitoring"],
    configSchema: monitorConfigSchema,
    remediationSteps: "Enable slipway:monitoring; the ServiceMonitor selects the Service labels and its metrics port name.",
    validateStack: (args, report) => {
        const { requireServiceMonitor } = configWithDefaults<{ requireServiceMonitor: boolean }>(monitorConfigSchema, args);
        const services = ofType(args.resources, K8S.Service);
        const monitors = ofType(args.resources, K8S.ServiceMonitor);
        const workloads = workloadsOf(args.resources, REPLICATED_TYPES);
        if (workloads.length === 0 && monitors.length === 0) {
            return args.notApplicable("no Deployments, StatefulSets or ServiceMonitors");
        }

        const selects = (monitor: KubeObject, service: KubeObject) =>
            monitorCoversNamespace(monitor, namespaceOf(service.props)) &&
            selectorMatches(monitor.props.spec?.selector, service.props.metadata?.labels);

        for (const monitor of monitors) {
            const selected = services.filter((s) => selects(monitor, s));
            if (selected.length === 0) {
                report(
                    `${describeObject(monitor)} selects ${JSON.stringify(monitor.props.spec?.selector ?? {})}, which ` +
                        `matches no Service's labels, so Prometheus scrapes nothing. Fix: copy the Service's ` +
                        `metadata.labels into spec.selector.matchLabels.`,
                    monitor.urn,
                );
                continue;
            }
            for (const endpoint of monitor.props.spec?.endpoints ?? []) {
                if (typeof endpoint?.port !== "string") {
                    report(
                        `${describeObject(monitor)} has an endpoint without a port name ` +
                            `(${endpoint?.targetPort !== undefined ? "it uses the deprecated targetPort" : "none set"}). ` +
                            `Fix: set endpoints[].port to the Service's metrics port name.`,
                        monitor.urn,
                    );
                    continue;
                }
                for (const service of selected) {
                    const names = servicePortNames(service);
                    if (!names.includes(endpoint.port)) {
                        report(
                            `${describeObject(monitor)} scrapes port "${endpoint.port}", but ${describeObject(service)} ` +
                                `defines only ${names.length > 0 ? names.map((n) => `"${n}"`).join(", ") : "unnamed ports"}. ` +
                                `Fix: name the Service's metrics port and use that name in endpoints[].port.`,
                            monitor.urn,
                        );
                    }
                }
            }
        }

        if (!requireServiceMonitor) {
            return;
        }
        for (const workload of workloads) {
            const own = servicesFor(workload, services);
            const scrapable = own.some((s) => servicePortNames(s).includes(APP_PORT_NAMES.metrics));
            if (scrapable && !own.some((s) => monitors.some((m) => selects(m, s)))) {
                report(
                    `${describeObject(workload)} is not monitored: no ServiceMonitor selects its Service ` +
                        `${own.map((s) => `"${kubeNameOf(s.props, s.name)}"`).join(", ")}. Fix: enable slipway:monitoring ` +
                        `(requires the Prometheus Operator CRDs), or set requireServiceMonitor: false for this stage in ` +
                        `the policy config.`,
                    workload.urn,
                );
            }
        }
    },
};

/**
 * Every selector selects something: a Deployment's own selector its template, a PodDisruptionBudget and a
 * NetworkPolicy some pods, an HPA an existing workload.
 */
export const selectorsMatchPods: StackValidationPolicy = {
    name: "slipway-selectors-match-pods",
    description: "Workload, PodDisruptionBudget and NetworkPolicy selectors match pod labels; HPAs target an existing workload.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["wiring"],
    remediationSteps: "Build every selector from the same app.kubernetes.io label set as the pod template.",
    validateStack: (args, report) => {
        const workloads = workloadsOf(args.resources);
        if (workloads.length === 0) {
            return args.notApplicable("no pod controllers");
        }
        for (const workload of workloads) {
            const selector = workload.props.spec?.selector;
            if (
                workload.type !== K8S.Pod &&
                workload.type !== K8S.Job &&
                workload.type !== K8S.CronJob &&
                !selectorMatches(selector, workload.template.metadata.labels)
            ) {
                report(
                    `${describeObject(workload)} spec.selector ${JSON.stringify(selector ?? {})} does not match its ` +
                        `own pod template labels ${JSON.stringify(workload.template.metadata.labels ?? {})}; the API ` +
                        `server rejects it. Fix: use the same label map for both.`,
                    workload.urn,
                );
            }
        }
        const podsIn = (namespace: string) => workloads.filter((w) => w.namespace === namespace);
        for (const pdb of ofType(args.resources, K8S.PodDisruptionBudget)) {
            if (!podsIn(namespaceOf(pdb.props)).some((w) => selectorMatches(pdb.props.spec?.selector, w.template.metadata.labels))) {
                report(
                    `${describeObject(pdb)} selects no pods, so it protects nothing during node drains. ` +
                        `Fix: set spec.selector.matchLabels to the Deployment's pod labels.`,
                    pdb.urn,
                );
            }
        }
        for (const policy of ofType(args.resources, K8S.NetworkPolicy)) {
            const selector = policy.props.spec?.podSelector;
            const selectsAll =
                selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
            if (!selectsAll && !podsIn(namespaceOf(policy.props)).some((w) => selectorMatches(selector, w.template.metadata.labels))) {
                report(
                    `${describeObject(policy)} podSelector matches no pods, so the pods it meant to isolate are ` +
                        `open. Fix: set spec.podSelector.matchLabels to the pod labels (or {} for a namespace-wide default deny).`,
                    policy.urn,
                );
            }
        }
        for (const hpa of ofType(args.resources, K8S.HorizontalPodAutoscaler)) {
            if (!hpaTarget(hpa, workloads)) {
                const ref = hpa.props.spec?.scaleTargetRef ?? {};
                report(
                    `${describeObject(hpa)} scales ${ref.kind ?? "?"} "${ref.name ?? "?"}", which is not in the ` +
                        `stack. Fix: set scaleTargetRef to the Deployment's apiVersion, kind and metadata.name.`,
                    hpa.urn,
                );
            }
        }
    },
};

/** The workload an HPA scales, if it exists in the stack. */
export function hpaTarget(hpa: KubeObject, workloads: readonly Workload[]): Workload | undefined {
    const ref = hpa.props.spec?.scaleTargetRef;
    return workloads.find((w) => w.namespace === namespaceOf(hpa.props) && w.kind === ref?.kind && w.kubeName === ref?.name);
}

/**
 * Slipway's isolation promise for a shared cluster: each namespace that runs workloads has a NetworkPolicy covering
 * their pods for ingress, a ResourceQuota and a LimitRange.
 */
export const namespaceIsolation: StackValidationPolicy = {
    name: "slipway-namespace-isolation",
    description: "Every namespace with workloads has an ingress NetworkPolicy over their pods, a ResourceQuota and a LimitRange.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["isolation", "security"],
    remediationSteps: "StageNamespace creates a default-deny NetworkPolicy, a ResourceQuota and a LimitRange per namespace.",
    validateStack: (args, report) => {
        const workloads = workloadsOf(args.resources);
        if (workloads.length === 0) {
            return args.notApplicable("no pod controllers");
        }
        const policies = ofType(args.resources, K8S.NetworkPolicy);
        const quotas = ofType(args.resources, K8S.ResourceQuota);
        const limitRanges = ofType(args.resources, K8S.LimitRange);
        const namespaces = [...new Set(workloads.map((w) => w.namespace))].sort();
        for (const namespace of namespaces) {
            const inNamespace = (o: KubeObject) => namespaceOf(o.props) === namespace;
            for (const workload of workloads.filter((w) => w.namespace === namespace)) {
                const covered = policies
                    .filter(inNamespace)
                    .some(
                        (p) =>
                            selectorMatches(p.props.spec?.podSelector, workload.template.metadata.labels) &&
                            (p.props.spec?.policyTypes === undefined || p.props.spec.policyTypes.includes("Ingress")),
                    );
                if (!covered) {
                    report(
                        `${describeObject(workload)} is not covered by an ingress NetworkPolicy, so any pod in the ` +
                            `cluster can reach it. Fix: add a default-deny NetworkPolicy (podSelector: {}, policyTypes: ` +
                            `["Ingress"]) and allow only the app port and the monitoring namespace.`,
                        workload.urn,
                    );
                }
            }
            if (!quotas.some(inNamespace)) {
                report(
                    `namespace "${namespace}" has no ResourceQuota, so one app can take the whole cluster. ` +
                        `Fix: add a ResourceQuota (requests/limits for cpu and memory, pod count) to the namespace.`,
                );
            }
            if (!limitRanges.some(inNamespace)) {
                report(
                    `namespace "${namespace}" has no LimitRange, so a container without resources gets no defaults. ` +
                        `Fix: add a LimitRange with default requests and limits for containers.`,
                );
            }
        }
    },
};
