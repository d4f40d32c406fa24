/**
 * The pod template: digest-pinned image, probes on named ports, restricted security, graceful stop.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { AppIdentity, commonLabels, ImageProvenance, provenanceAnnotations, selectorLabels } from "./labels";

type Input<T> = pulumi.Input<T>;

/** Requests or limits of one container. */
export interface ResourceAmounts {
    /** CPU, a Kubernetes quantity such as `250m`. */
    cpu: string;
    /** Memory, a Kubernetes quantity such as `256Mi`. */
    memory: string;
    /** Local disk: the `/tmp` volume and the container's logs (its root filesystem is read-only). */
    ephemeralStorage: string;
}

/** Requests and limits of one container. */
export interface ResourceSettings {
    /** What the scheduler reserves for the container. */
    requests: ResourceAmounts;
    /** What the container may use at most. */
    limits: ResourceAmounts;
}

/** Size limit of the `/tmp` emptyDir, the container's only writable path; ephemeral storage must cover it. */
export const TMP_SIZE_LIMIT = "64Mi";

/** One side of a container's resources in Kubernetes' names. */
export function resourceAmounts(a: ResourceAmounts): Record<string, string> {
    return { cpu: a.cpu, memory: a.memory, "ephemeral-storage": a.ephemeralStorage };
}

/** Port names the Service, probes, NetworkPolicy and ServiceMonitor agree on. */
export const HTTP_PORT_NAME = "http";
export const METRICS_PORT_NAME = "metrics";
/** The numeric user and group the runtime image is built with. */
export const RUNTIME_UID = 10001;

/**
 * Seconds Kubernetes waits between starting termination and SIGKILL: the preStop sleep, the app's
 * drain delay and its shutdown timeout, plus a margin so the app always exits on its own.
 */
export function terminationGracePeriodSeconds(t: { preStopSeconds: number; drainSeconds: number; shutdownTimeoutSeconds: number }): number {
    return t.preStopSeconds + t.drainSeconds + t.shutdownTimeoutSeconds + 5;
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
    /** The pods' `app.kubernetes.io/version` label: the build number as a valid label value ({@link labelValue}). */
    versionLabel: Input<string>;
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
    const volumes: k8sInput.core.v1.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } }];
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
            labels: { ...commonLabels(s), "app.kubernetes.io/version": s.versionLabel },
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
                    resources: { requests: resourceAmounts(s.resources.requests), limits: resourceAmounts(s.resources.limits) },
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
