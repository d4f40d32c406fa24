/**
 * Plain helpers for reading Kubernetes objects as the Pulumi engine hands them to policies: the resource's
 * inputs (resource rules) or outputs (stack rules), in the Kubernetes API's own camelCase shape.
 *
 * Nothing here knows about `@pulumi/policy`, so every function is testable with plain objects.
 */
import { tryParseQuantity } from "../../components/lib/quantity";

/** Pulumi type tokens of the Kubernetes objects the rules look at. */
export const K8S = {
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
    Pod: "kubernetes:core/v1:Pod",
    Service: "kubernetes:core/v1:Service",
    ConfigMap: "kubernetes:core/v1:ConfigMap",
    Namespace: "kubernetes:core/v1:Namespace",
    ResourceQuota: "kubernetes:core/v1:ResourceQuota",
    LimitRange: "kubernetes:core/v1:LimitRange",
    NetworkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    PodDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
    HorizontalPodAutoscaler: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    ServiceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
} as const;

/** A pod template as found inside a controller: labels/annotations plus the pod spec. */
export interface PodTemplate {
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Record<string, any>;
}

/**
 * Where each pod controller keeps its pod template. A Pod is its own template; a CronJob nests a Job template.
 * One table, so every container rule covers every controller the same way.
 */
const POD_TEMPLATE_PATHS: Record<string, (props: Record<string, any>) => any> = {
    [K8S.Deployment]: (p) => p.spec?.template,
    [K8S.StatefulSet]: (p) => p.spec?.template,
    [K8S.DaemonSet]: (p) => p.spec?.template,
    [K8S.ReplicaSet]: (p) => p.spec?.template,
    [K8S.Job]: (p) => p.spec?.template,
    [K8S.CronJob]: (p) => p.spec?.jobTemplate?.spec?.template,
    [K8S.Pod]: (p) => p,
};

/** Pulumi types of every pod controller the container rules inspect. */
export const POD_CONTROLLER_TYPES: readonly string[] = Object.keys(POD_TEMPLATE_PATHS);

/** Controllers that keep a set of long-running replicas behind a Service (availability rules apply). */
export const REPLICATED_TYPES: readonly string[] = [K8S.Deployment, K8S.StatefulSet];

/** Returns the pod template of a pod controller, or undefined for any other type (or a template-less object). */
export function podTemplateOf(type: string, props: Record<string, any>): PodTemplate | undefined {
    const path = POD_TEMPLATE_PATHS[type];
    const template = path?.(props);
    if (!template || typeof template !== "object" || !template.spec) {
        return undefined;
    }
    return { metadata: template.metadata ?? {}, spec: template.spec };
}

/** A container together with the list it came from, for messages like `initContainer "migrate"`. */
export interface ContainerRef {
    kind: "container" | "initContainer" | "ephemeralContainer";
    name: string;
    container: Record<string, any>;
}

/** Every container of a pod spec: regular, init and ephemeral ones. */
export function containersOf(spec: Record<string, any>): ContainerRef[] {
    const lists: [ContainerRef["kind"], unknown][] = [
        ["container", spec.containers],
        ["initContainer", spec.initContainers],
        ["ephemeralContainer", spec.ephemeralContainers],
    ];
    const result: ContainerRef[] = [];
    for (const [kind, list] of lists) {
        if (!Array.isArray(list)) {
            continue;
        }
        list.forEach((container: Record<string, any>, i: number) => {
            result.push({ kind, name: container?.name ?? `#${i}`, container: container ?? {} });
        });
    }
    return result;
}

/** `container "app"` / `initContainer "migrate"`: how messages name a container. */
export function describeContainer(ref: ContainerRef): string {
    return `${ref.kind} "${ref.name}"`;
}

/** The namespace an object lives in (Kubernetes' default when unset). */
export function namespaceOf(props: Record<string, any>): string {
    return props?.metadata?.namespace ?? "default";
}

/** The object's name as Kubernetes will see it (falls back to the Pulumi name for auto-named objects). */
export function kubeNameOf(props: Record<string, any>, fallback: string): string {
    return props?.metadata?.name ?? fallback;
}

/** A Kubernetes LabelSelector (`matchLabels` plus `matchExpressions`). */
export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * True when `labels` satisfy a LabelSelector. An empty selector selects everything, as in Kubernetes;
 * an undefined selector selects nothing.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
    if (!selector) {
        return false;
    }
    const have = labels ?? {};
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
        if (have[key] !== value) {
            return false;
        }
    }
    for (const expr of selector.matchExpressions ?? []) {
        const present = Object.prototype.hasOwnProperty.call(have, expr.key);
        const values = expr.values ?? [];
        switch (expr.operator) {
            case "In":
                if (!present || !values.includes(have[expr.key])) return false;
                break;
            case "NotIn":
                if (present && values.includes(have[expr.key])) return false;
                break;
            case "Exists":
                if (!present) return false;
                break;
            case "DoesNotExist":
                if (present) return false;
                break;
            default:
                return false;
        }
    }
    return true;
}

/** True when a Service-style selector (a plain map, non-empty) matches the labels. */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
    if (!selector || Object.keys(selector).length === 0) {
        return false;
    }
    return selectorMatches({ matchLabels: selector }, labels);
}

/** Parses a Kubernetes resource quantity (`500m`, `128Mi`, `1e3`, `2`) to a number; undefined if malformed. */
export const parseQuantity = tryParseQuantity;

/** Port names and numbers a container declares in `ports`. */
export function exposedPorts(container: Record<string, any>): { names: Set<string>; numbers: Set<number> } {
    const names = new Set<string>();
    const numbers = new Set<number>();
    for (const port of Array.isArray(container.ports) ? container.ports : []) {
        if (typeof port?.name === "string") names.add(port.name);
        if (typeof port?.containerPort === "number") numbers.add(port.containerPort);
    }
    return { names, numbers };
}

/** True when a port reference (name or number, as probes and Services use) is declared by the container. */
export function portIsExposed(container: Record<string, any>, port: unknown): boolean {
    const { names, numbers } = exposedPorts(container);
    if (typeof port === "number") return numbers.has(port);
    if (typeof port === "string") return names.has(port) || (/^\d+$/.test(port) && numbers.has(Number(port)));
    return false;
}

/** The port a probe targets (httpGet, tcpSocket or grpc), or undefined for exec probes. */
export function probePort(probe: Record<string, any> | undefined): unknown {
    return probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
}

/** Resources of the stack in a namespace-aware view: the shape stack rules work on. */
export interface KubeObject {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
}

/** A replicated workload with the pod labels and template rules compare against. */
export interface Workload extends KubeObject {
    namespace: string;
    kubeName: string;
    kind: string;
    template: PodTemplate;
}

/** The `kind` part of a Pulumi Kubernetes type token (`kubernetes:apps/v1:Deployment` → `Deployment`). */
export function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** All pod controllers of a stack, each with its template and namespace. */
export function workloadsOf(resources: readonly KubeObject[], types: readonly string[] = POD_CONTROLLER_TYPES): Workload[] {
    const result: Workload[] = [];
    for (const r of resources) {
        if (!types.includes(r.type)) continue;
        const template = podTemplateOf(r.type, r.props);
        if (!template) continue;
        result.push({
            ...r,
            namespace: namespaceOf(r.props),
            kubeName: kubeNameOf(r.props, r.name),
            kind: kindOf(r.type),
            template,
        });
    }
    return result;
}

/** `Deployment "web" in namespace "slipway-dev"`: how stack-rule messages name an object. */
export function describeObject(o: KubeObject): string {
    return `${kindOf(o.type)} "${kubeNameOf(o.props, o.name)}" in namespace "${namespaceOf(o.props)}"`;
}
