/**
 * The objects around the pods: Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, Ingress.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import { AppIdentity, selectorLabels } from "./labels";
import { HTTP_PORT_NAME, METRICS_PORT_NAME, PodSettings, podTemplate } from "./pod";

/**
 * Deployment spec: zero-downtime rolling update (never below the desired count). Kubernetes marks the rollout failed
 * (`ProgressDeadlineExceeded`) after `rolloutTimeoutSeconds` without progress.
 */
export function deploymentSpec(s: PodSettings & { replicas: number; rolloutTimeoutSeconds: number }): k8sInput.apps.v1.DeploymentSpec {
    return {
        replicas: s.replicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selectorLabels(s) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        minReadySeconds: 2,
        progressDeadlineSeconds: s.rolloutTimeoutSeconds,
        template: podTemplate(s),
    };
}

/**
 * How long `pulumi up` waits for the Deployment: a minute past its progress deadline, so a stalled rollout fails the
 * update soon after Kubernetes gives up on it, instead of after the provider's 10-minute default.
 */
export function deploymentCustomTimeouts(rolloutTimeoutSeconds: number): { create: string; update: string } {
    const wait = `${rolloutTimeoutSeconds + 60}s`;
    return { create: wait, update: wait };
}

/**
 * Service with named ports; the ServiceMonitor selects it by {@link selectorLabels} and `metrics` (a port only where the
 * app has a metrics port). With a `nodePort` it is a NodePort Service whose `http` port listens on that port of every
 * node; the metrics port gets no fixed one.
 */
export function serviceSpec(s: AppIdentity & { port: number; metricsPort?: number; nodePort?: number }): k8sInput.core.v1.ServiceSpec {
    return {
        type: s.nodePort === undefined ? "ClusterIP" : "NodePort",
        selector: selectorLabels(s),
        ports: [
            {
                name: HTTP_PORT_NAME,
                port: 80,
                targetPort: HTTP_PORT_NAME,
                protocol: "TCP",
                ...(s.nodePort === undefined ? {} : { nodePort: s.nodePort }),
            },
            ...(s.metricsPort === undefined
                ? []
                : [{ name: METRICS_PORT_NAME, port: s.metricsPort, targetPort: METRICS_PORT_NAME, protocol: "TCP" }]),
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

/**
 * The most pods a rollout can hold at once, all counted by the namespace quota: the new set at max replicas with its
 * surge pod, plus every old pod still draining (a pod counts against the quota until its process exits, and with a
 * preStop sleep and a drain it outlives its replacement's start). Found on a real node: sized for max + 1 only, a
 * rollout of 3 replicas hit "exceeded quota" on every step and waited for old pods to exit.
 */
export function peakPods(replicas: number, maxReplicas?: number): number {
    const max = maxReplicas ?? replicas;
    return 2 * max + 1;
}
