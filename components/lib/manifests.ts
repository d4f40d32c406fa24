import type { input as k8sInput } from "@pulumi/kubernetes/types";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { RegistryCredentials } from "../registry";

/**
 * Pure manifest assembly for AppDeployment: plain functions from settings to Kubernetes object
 * bodies. No resource is created here, so every rule (digest-only images, probes, security context,
 * selectors) is tested without mocks; the component only wires these bodies into resources.
 */

type Input<T> = pulumi.Input<T>;

/** CPU and memory for one container. */
export interface ResourceSettings {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** Settings shared by every manifest of one app in one stage. */
export interface AppIdentity {
    /** App name: Deployment, Service and container name. */
    appName: string;
    /** Stage: local, dev, qa or prod. */
    stage: string;
    /** Namespace every object lives in. */
    namespace: string;
}

/** Port names the Service, probes, NetworkPolicy and ServiceMonitor agree on. */
export const HTTP_PORT_NAME = "http";
export const METRICS_PORT_NAME = "metrics";
/** The numeric user and group the runtime image is built with. */
export const RUNTIME_UID = 10001;
/** Prefix of Slipway's own annotations and labels. */
export const ANNOTATION_PREFIX = "slipway.dev";

/** Labels that identify the app's pods. Part of immutable selectors: never add a changing value. */
export function selectorLabels(id: AppIdentity): Record<string, string> {
    return {
        "app.kubernetes.io/name": id.appName,
        "app.kubernetes.io/instance": `${id.appName}-${id.stage}`,
    };
}

/** The recommended `app.kubernetes.io/*` labels plus the stage. */
export function commonLabels(id: AppIdentity): Record<string, string> {
    return {
        ...selectorLabels(id),
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": "slipway",
        "app.kubernetes.io/managed-by": "pulumi",
        [`${ANNOTATION_PREFIX}/stage`]: id.stage,
    };
}

/** Makes text a valid label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string {
    const value = text
        .replace(/[^A-Za-z0-9._-]+/g, "-")
        .slice(0, 63)
        .replace(/^[^A-Za-z0-9]+/, "")
        .replace(/[^A-Za-z0-9]+$/, "");
    return value === "" ? "unknown" : value;
}

/**
 * Seconds Kubernetes waits between starting termination and SIGKILL: the preStop sleep, the app's
 * drain delay and its shutdown timeout, plus a margin so the app always exits on its own.
 */
export function terminationGracePeriodSeconds(t: { preStopSeconds: number; drainSeconds: number; shutdownTimeoutSeconds: number }): number {
    return t.preStopSeconds + t.drainSeconds + t.shutdownTimeoutSeconds + 5;
}

/** Where the image came from, as pod annotations (change on every deploy, so they never go into labels). */
export interface ImageProvenance {
    /** `repo@sha256:…`. */
    image: Input<string>;
    buildNumber: Input<string>;
    gitBranch: Input<string>;
    gitSha: Input<string>;
}

/** Pod annotations that tell, from `kubectl describe pod`, which build is running. */
export function provenanceAnnotations(p: ImageProvenance): Record<string, Input<string>> {
    return {
        [`${ANNOTATION_PREFIX}/image`]: p.image,
        [`${ANNOTATION_PREFIX}/build-number`]: p.buildNumber,
        [`${ANNOTATION_PREFIX}/git-branch`]: p.gitBranch,
        [`${ANNOTATION_PREFIX}/git-sha`]: p.gitSha,
    };
}

/** A config file mounted from a ConfigMap. */
export interface MountedConfigFile {
    /** Absolute path inside the container; its folder is mounted read-only and holds only this file. */
    path: string;
    /** Name of the ConfigMap holding it (auto-named, so a content change rolls the pods). */
    configMapName: Input<string>;
}

/** Renders a config file: strings as-is, mappings as JSON for `.json` paths and YAML otherwise. */
export function renderConfigFile(filePath: string, content: string | Record<string, unknown>): string {
    if (typeof content === "string") {
        return content;
    }
    return filePath.endsWith(".json") ? `${JSON.stringify(content, null, 2)}\n` : toYaml(content, { version: "1.1" });
}

/** Everything the pod template needs. */
export interface PodSettings extends AppIdentity, ImageProvenance {
    port: number;
    metricsPort: number;
    /** Plain environment variables (never secrets). */
    env: Record<string, string>;
    /** Names of secret variables, read from {@link PodSettings.secretName}. */
    secretEnvNames: string[];
    /** Kubernetes Secret holding the secret variables. */
    secretName?: Input<string>;
    configFile?: MountedConfigFile;
    resources: ResourceSettings;
    preStopSeconds: number;
    drainSeconds: number;
    shutdownTimeoutSeconds: number;
    topologySpread: "soft" | "hard";
    /** Secret of type kubernetes.io/dockerconfigjson, where the registry needs credentials to pull. */
    imagePullSecretName?: Input<string>;
}

/** Variables Slipway sets on the container itself; stack config must not shadow them. */
export const SLIPWAY_ENV = [
    "PORT",
    "METRICS_PORT",
    "SERVICE_NAME",
    "STAGE",
    "BUILD_NUMBER",
    "GIT_BRANCH",
    "GIT_SHA",
    "DRAIN_DELAY_MS",
    "SHUTDOWN_TIMEOUT_MS",
    "CONFIG_FILE",
] as const;

/** The container's environment: Slipway's own variables first, then config, then secrets by reference. */
export function containerEnv(s: PodSettings): k8sInput.core.v1.EnvVar[] {
    // Typed by SLIPWAY_ENV, so a variable set here is always one the config schema refuses to shadow.
    const own: Partial<Record<(typeof SLIPWAY_ENV)[number], Input<string>>> = {
        PORT: String(s.port),
        METRICS_PORT: String(s.metricsPort),
        SERVICE_NAME: s.appName,
        STAGE: s.stage,
        BUILD_NUMBER: s.buildNumber,
        GIT_BRANCH: s.gitBranch,
        GIT_SHA: s.gitSha,
        DRAIN_DELAY_MS: String(s.drainSeconds * 1000),
        SHUTDOWN_TIMEOUT_MS: String(s.shutdownTimeoutSeconds * 1000),
        ...(s.configFile ? { CONFIG_FILE: s.configFile.path } : {}),
    };
    const plain = { ...own, ...s.env };
    const env: k8sInput.core.v1.EnvVar[] = Object.entries(plain).map(([name, value]) => ({ name, value }));
    for (const name of [...s.secretEnvNames].sort()) {
        if (s.secretName === undefined) {
            throw new Error(`secret variable ${name} needs a Secret`);
        }
        env.push({ name, valueFrom: { secretKeyRef: { name: s.secretName, key: name } } });
    }
    return env;
}

/** The pod template: digest-pinned image, probes on named ports, restricted security, graceful stop. */
export function podTemplate(s: PodSettings): k8sInput.core.v1.PodTemplateSpec {
    const selector = selectorLabels(s);
    const volumes: k8sInput.core.v1.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }];
    const mounts: k8sInput.core.v1.VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
    if (s.configFile) {
        const fileName = path.posix.basename(s.configFile.path);
        volumes.push({
            name: "config",
            configMap: { name: s.configFile.configMapName, items: [{ key: fileName, path: fileName }] },
        });
        mounts.push({ name: "config", mountPath: path.posix.dirname(s.configFile.path), readOnly: true });
    }
    const spread = (topologyKey: string): k8sInput.core.v1.TopologySpreadConstraint => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: s.topologySpread === "hard" && topologyKey === "kubernetes.io/hostname" ? "DoNotSchedule" : "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
        // Count only pods of the current ReplicaSet, so a rollout does not skew against itself.
        matchLabelKeys: ["pod-template-hash"],
    });
    return {
        metadata: {
            labels: { ...commonLabels(s), "app.kubernetes.io/version": labelValue(String(s.buildNumber)) },
            annotations: { ...provenanceAnnotations(s), "kubectl.kubernetes.io/default-container": s.appName },
        },
        spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: terminationGracePeriodSeconds(s),
            securityContext: {
                runAsNonRoot: true,
                runAsUser: RUNTIME_UID,
                runAsGroup: RUNTIME_UID,
                fsGroup: RUNTIME_UID,
                seccompProfile: { type: "RuntimeDefault" },
            },
            ...(s.imagePullSecretName === undefined ? {} : { imagePullSecrets: [{ name: s.imagePullSecretName }] }),
            topologySpreadConstraints: [spread("kubernetes.io/hostname"), spread("topology.kubernetes.io/zone")],
            volumes,
            containers: [
                {
                    name: s.appName,
                    image: s.image,
                    imagePullPolicy: "IfNotPresent",
                    ports: [
                        { name: HTTP_PORT_NAME, containerPort: s.port, protocol: "TCP" },
                        { name: METRICS_PORT_NAME, containerPort: s.metricsPort, protocol: "TCP" },
                    ],
                    env: containerEnv(s),
                    resources: s.resources,
                    startupProbe: {
                        httpGet: { path: "/healthz", port: HTTP_PORT_NAME },
                        periodSeconds: 1,
                        failureThreshold: 30,
                    },
                    readinessProbe: {
                        httpGet: { path: "/readyz", port: HTTP_PORT_NAME },
                        periodSeconds: 5,
                        failureThreshold: 2,
                        timeoutSeconds: 2,
                    },
                    livenessProbe: {
                        httpGet: { path: "/healthz", port: HTTP_PORT_NAME },
                        periodSeconds: 10,
                        failureThreshold: 3,
                        timeoutSeconds: 2,
                    },
                    // The kubelet waits here while endpoints stop sending traffic, then sends SIGTERM.
                    lifecycle: s.preStopSeconds > 0 ? { preStop: { sleep: { seconds: s.preStopSeconds } } } : undefined,
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        privileged: false,
                        readOnlyRootFilesystem: true,
                        runAsNonRoot: true,
                        capabilities: { drop: ["ALL"] },
                    },
                    volumeMounts: mounts,
                },
            ],
        },
    };
}

/** Deployment spec: zero-downtime rolling update (never below the desired count). */
export function deploymentSpec(s: PodSettings & { replicas: number }): k8sInput.apps.v1.DeploymentSpec {
    return {
        replicas: s.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selectorLabels(s) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        minReadySeconds: 2,
        progressDeadlineSeconds: 300,
        template: podTemplate(s),
    };
}

/** Service with named ports; the ServiceMonitor selects it by {@link selectorLabels} and `metrics`. */
export function serviceSpec(s: AppIdentity & { port: number; metricsPort: number }): k8sInput.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        selector: selectorLabels(s),
        ports: [
            { name: HTTP_PORT_NAME, port: 80, targetPort: HTTP_PORT_NAME, protocol: "TCP" },
            { name: METRICS_PORT_NAME, port: s.metricsPort, targetPort: METRICS_PORT_NAME, protocol: "TCP" },
        ],
    };
}

/** Monitoring settings. */
export interface MonitoringSettings {
    /** Namespace Prometheus scrapes from. */
    namespace: string;
    path: string;
    interval: string;
    /** Labels Prometheus selects ServiceMonitors/PrometheusRules by. */
    selectorLabels: Record<string, string>;
    alerts: { enabled: boolean; errorRateThreshold: number; restartThreshold: number };
}

/** ServiceMonitor spec selecting the app's Service by its labels and the `metrics` port. */
export function serviceMonitorSpec(id: AppIdentity, m: MonitoringSettings): Record<string, unknown> {
    return {
        selector: { matchLabels: selectorLabels(id) },
        namespaceSelector: { matchNames: [id.namespace] },
        endpoints: [{ port: METRICS_PORT_NAME, path: m.path, interval: m.interval, scheme: "http" }],
    };
}

/** PrometheusRule spec: no ready replica, restart loops, server error rate. */
export function prometheusRuleSpec(id: AppIdentity, m: MonitoringSettings): Record<string, unknown> {
    const ns = `namespace="${id.namespace}"`;
    const alertName = id.appName
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("");
    const labels = { severity: id.stage === "prod" ? "critical" : "warning", stage: id.stage };
    const requests = `http_request_duration_seconds_count{${ns},service="${id.appName}"}`;
    return {
        groups: [
            {
                name: `${id.appName}.${id.stage}`,
                rules: [
                    {
                        alert: `${alertName}NoReadyReplicas`,
                        expr: `kube_deployment_status_replicas_available{${ns},deployment="${id.appName}"} == 0`,
                        for: "2m",
                        labels,
                        annotations: {
                            summary: `${id.appName} in ${id.namespace} has no ready replica`,
                            description: "Every pod is failing readiness: check kubectl describe deploy and the pods' events.",
                        },
                    },
                    {
                        alert: `${alertName}Restarting`,
                        expr: `increase(kube_pod_container_status_restarts_total{${ns},container="${id.appName}"}[15m]) > ${m.alerts.restartThreshold}`,
                        for: "5m",
                        labels,
                        annotations: {
                            summary: `${id.appName} containers restart repeatedly`,
                            description: "More than the allowed restarts in 15 minutes: check liveness failures and OOM kills.",
                        },
                    },
                    {
                        alert: `${alertName}HighErrorRate`,
                        expr:
                            `sum(rate(${requests.replace("}", ',status=~"5.."}')}[5m])) / ` +
                            `clamp_min(sum(rate(${requests}[5m])), 1e-9) > ${m.alerts.errorRateThreshold}`,
                        for: "5m",
                        labels,
                        annotations: {
                            summary: `${id.appName} answers more than ${m.alerts.errorRateThreshold * 100}% of requests with 5xx`,
                            description: "Compare with the last deploy (slipway.dev/image annotation); roll back if it started there.",
                        },
                    },
                ],
            },
        ],
    };
}

/** Default-deny ingress for the whole namespace: nothing reaches a pod unless a policy admits it. */
export function denyAllIngressSpec(): k8sInput.networking.v1.NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress"] };
}

/**
 * Admits the app port from the namespace itself and the configured namespaces, and the metrics port
 * from the monitoring namespace only.
 */
export function appNetworkPolicySpec(
    id: AppIdentity & { port: number; metricsPort: number; allowFrom: string[]; monitoringNamespace?: string },
): k8sInput.networking.v1.NetworkPolicySpec {
    const fromNamespace = (name: string) => ({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
    });
    const rules: k8sInput.networking.v1.NetworkPolicyIngressRule[] = [
        {
            from: [{ podSelector: {} }, ...id.allowFrom.map(fromNamespace)],
            ports: [{ port: id.port, protocol: "TCP" }],
        },
    ];
    if (id.monitoringNamespace !== undefined) {
        rules.push({ from: [fromNamespace(id.monitoringNamespace)], ports: [{ port: id.metricsPort, protocol: "TCP" }] });
    }
    return { podSelector: { matchLabels: selectorLabels(id) }, policyTypes: ["Ingress"], ingress: rules };
}

/** Namespace quota: the stage can never take more than this from a shared cluster. */
export function resourceQuotaSpec(q: { cpu: string; memory: string; pods: number }): k8sInput.core.v1.ResourceQuotaSpec {
    return {
        hard: {
            "requests.cpu": q.cpu,
            "requests.memory": q.memory,
            "limits.cpu": q.cpu,
            "limits.memory": q.memory,
            pods: String(q.pods),
        },
    };
}

/** Defaults for containers that set nothing (a debug pod), and a per-container ceiling. */
export function limitRangeSpec(r: ResourceSettings, quota: { cpu: string; memory: string }): k8sInput.core.v1.LimitRangeSpec {
    return {
        limits: [
            {
                type: "Container",
                defaultRequest: { cpu: r.requests.cpu, memory: r.requests.memory },
                default: { cpu: r.limits.cpu, memory: r.limits.memory },
                max: { cpu: quota.cpu, memory: quota.memory },
            },
        ],
    };
}

/** PDB that keeps all but one pod through voluntary disruptions and never blocks a node drain. */
export function podDisruptionBudgetSpec(id: AppIdentity): k8sInput.policy.v1.PodDisruptionBudgetSpec {
    return {
        maxUnavailable: 1,
        selector: { matchLabels: selectorLabels(id) },
        unhealthyPodEvictionPolicy: "AlwaysAllow",
    };
}

/** CPU-based HorizontalPodAutoscaler (autoscaling/v2). */
export function autoscalerSpec(
    id: AppIdentity,
    a: { minReplicas: number; maxReplicas: number; targetCpuUtilization: number },
): k8sInput.autoscaling.v2.HorizontalPodAutoscalerSpec {
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: id.appName },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.targetCpuUtilization } } },
        ],
    };
}

/** Ingress to the Service's `http` port, with TLS when a certificate Secret is named. */
export function ingressSpec(
    id: AppIdentity,
    i: { host: string; className: string; tlsSecretName?: string },
): k8sInput.networking.v1.IngressSpec {
    return {
        ingressClassName: i.className,
        rules: [
            {
                host: i.host,
                http: {
                    paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: id.appName, port: { name: HTTP_PORT_NAME } } } }],
                },
            },
        ],
        ...(i.tlsSecretName === undefined ? {} : { tls: [{ hosts: [i.host], secretName: i.tlsSecretName }] }),
    };
}

/** The `.dockerconfigjson` of an image pull secret. */
export function dockerConfigJson(c: RegistryCredentials): string {
    const auth = Buffer.from(`${c.username}:${c.password}`).toString("base64");
    return JSON.stringify({ auths: { [c.server]: { username: c.username, password: c.password, auth } } });
}

/** The largest number of pods a rollout may run at once: max replicas plus the surge pod. */
export function peakPods(replicas: number, maxReplicas?: number): number {
    return (maxReplicas ?? replicas) + 1;
}
