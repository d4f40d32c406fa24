/**
 * NetworkPolicies: default-deny per namespace, then exactly the traffic the app needs.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import { AppIdentity, selectorLabels } from "./labels";

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
