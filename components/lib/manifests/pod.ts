/**
 * The pod template: digest-pinned image, probes on named ports, restricted security, graceful stop.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import {
    APP_PORT_NAMES,
    ENV_NAME,
    isAppPort,
    isNonRootUid,
    isSlipwayEnv,
    LABEL_NAME,
    METRIC_NAME,
    PROBE_PATH,
    SLIPWAY_ENV,
} from "../../../contracts";
import { AppIdentity, commonLabels, ImageProvenance, provenanceAnnotations, selectorLabels } from "./labels";

export { SLIPWAY_ENV };

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

/** Port names the Service, probes, NetworkPolicy and ServiceMonitor agree on (contracts/service-env.ts). */
export const HTTP_PORT_NAME = APP_PORT_NAMES.http;
export const METRICS_PORT_NAME = APP_PORT_NAMES.metrics;

/** One HTTP probe on the `http` port. */
export interface ProbeSettings {
    /** Path the kubelet GETs; any status 200-399 passes. Starts with `/`. */
    path: string;
    /** Seconds between two probes. */
    periodSeconds: number;
    /** Failures in a row before the probe counts as failed. */
    failureThreshold: number;
    /** Seconds one probe may take; omitted: Kubernetes' default (1). */
    timeoutSeconds?: number;
}

/** The three probes of the app container. */
export interface ProbesSettings {
    /** Holds liveness and readiness off until it passes once: `periodSeconds` × `failureThreshold` is the start budget. */
    startup: ProbeSettings;
    /** Failing takes the pod out of the Service's endpoints (no restart). */
    readiness: ProbeSettings;
    /** Failing restarts the container. */
    liveness: ProbeSettings;
}

/** One broken rule of the app contract: the argument (a dotted path) and what was wrong. */
export interface ContractProblem {
    property: string;
    reason: string;
}

/**
 * Every way these settings break the app contract (docs/app-contract.md), in argument order; empty when they keep it.
 * Ports 1024-65535 and distinct, probe paths absolute and timings whole and positive, a non-root numeric user, env names
 * that are names and not Slipway's own, and a request metric only with a metrics port.
 */
export function podContractProblems(s: {
    port: number;
    metricsPort?: number;
    probes: ProbesSettings;
    runAsUser: number;
    runAsGroup: number;
    env: Record<string, unknown>;
    secretEnv?: Record<string, unknown>;
    requestMetric?: { requestsTotal: string; statusLabel: string };
}): ContractProblem[] {
    const problems: ContractProblem[] = [];
    const problem = (property: string, reason: string) => problems.push({ property, reason });
    const positive = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 1);
    if (!isAppPort(s.port)) problem("port", `expected a whole port in 1024-65535, got ${s.port}`);
    if (s.metricsPort !== undefined && !isAppPort(s.metricsPort)) {
        problem("metricsPort", `expected a whole port in 1024-65535, got ${s.metricsPort}`);
    } else if (s.metricsPort === s.port) {
        problem("metricsPort", `expected a port different from port (${s.port})`);
    }
    for (const kind of ["startup", "readiness", "liveness"] as const) {
        const probe = s.probes[kind];
        if (!PROBE_PATH.test(probe.path))
            problem(`probes.${kind}.path`, `expected a path starting with /, got ${JSON.stringify(probe.path)}`);
        for (const field of ["periodSeconds", "failureThreshold", "timeoutSeconds"] as const) {
            if (!positive(probe[field])) problem(`probes.${kind}.${field}`, `expected a whole number >= 1, got ${probe[field]}`);
        }
    }
    if (!isNonRootUid(s.runAsUser)) {
        problem(
            "runAsUser",
            s.runAsUser === 0
                ? "0 is root: expected the image's non-root numeric user"
                : `expected a whole number >= 1, got ${s.runAsUser}`,
        );
    }
    if (!Number.isInteger(s.runAsGroup) || s.runAsGroup < 0) problem("runAsGroup", `expected a whole number >= 0, got ${s.runAsGroup}`);
    for (const [where, env] of [
        ["env", s.env],
        ["secretEnv", s.secretEnv ?? {}],
    ] as const) {
        for (const name of Object.keys(env)) {
            if (!ENV_NAME.test(name)) problem(`${where}.${name}`, "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
            else if (isSlipwayEnv(name)) problem(`${where}.${name}`, "is set by Slipway itself; choose another name");
        }
    }
    if (s.requestMetric !== undefined) {
        if (s.metricsPort === undefined) problem("metrics", "needs a metricsPort: the request metric is scraped from it");
        if (!METRIC_NAME.test(s.requestMetric.requestsTotal)) {
            problem("metrics.requestsTotal", `expected a Prometheus metric name, got ${JSON.stringify(s.requestMetric.requestsTotal)}`);
        }
        if (!LABEL_NAME.test(s.requestMetric.statusLabel)) {
            problem("metrics.statusLabel", `expected a Prometheus label name, got ${JSON.stringify(s.requestMetric.statusLabel)}`);
        }
    }
    return problems;
}

/** An HTTP probe on the named `http` port. */
export function httpProbe(p: ProbeSettings): k8sInput.core.v1.Probe {
    return {
        httpGet: { path: p.path, port: HTTP_PORT_NAME },
        periodSeconds: p.periodSeconds,
        failureThreshold: p.failureThreshold,
        ...(p.timeoutSeconds === undefined ? {} : { timeoutSeconds: p.timeoutSeconds }),
    };
}

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
    /** Container port of the metrics endpoint; undefined: the app has none (no port, no `METRICS_PORT`). */
    metricsPort?: number;
    /** HTTP probes on the `http` port. */
    probes: ProbesSettings;
    /** Numeric, non-root user the container runs as. */
    runAsUser: number;
    /** Numeric group the container runs as, and the group of mounted volumes (`fsGroup`). */
    runAsGroup: number;
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

/** The container's environment: Slipway's own variables first, then config, then secrets by reference. */
export function containerEnv(s: PodSettings): k8sInput.core.v1.EnvVar[] {
    // Typed by SLIPWAY_ENV, so a variable set here is always one the config schema refuses to shadow.
    const own: Partial<Record<(typeof SLIPWAY_ENV)[number], Input<string>>> = {
        PORT: String(s.port),
        ...(s.metricsPort === undefined ? {} : { METRICS_PORT: String(s.metricsPort) }),
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
                runAsUser: s.runAsUser,
                runAsGroup: s.runAsGroup,
                fsGroup: s.runAsGroup,
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
                        ...(s.metricsPort === undefined
                            ? []
                            : [{ name: METRICS_PORT_NAME, containerPort: s.metricsPort, protocol: "TCP" }]),
                    ],
                    env: containerEnv(s),
                    resources: { requests: resourceAmounts(s.resources.requests), limits: resourceAmounts(s.resources.limits) },
                    startupProbe: httpProbe(s.probes.startup),
                    readinessProbe: httpProbe(s.probes.readiness),
                    livenessProbe: httpProbe(s.probes.liveness),
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
