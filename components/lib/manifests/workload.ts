/**
 * The objects around the pods: Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, Ingress.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import { AppIdentity, selectorLabels } from "./labels";
import { HTTP_PORT_NAME, METRICS_PORT_NAME, PodSettings, podTemplate } from "./pod";

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

/** The largest number of pods a rollout may run at once: max replicas plus the surge pod. */
export function peakPods(replicas: number, maxReplicas?: number): number {
    return (maxReplicas ?? replicas) + 1;
}
