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
 * Admits the app port from the namespace itself and the configured namespaces, and the metrics port (where the app
 * has one) from the monitoring namespace only. With `openAppPort` (a NodePort Service) the app port admits every source:
 * node ports are reached from outside the cluster, through the nodes' addresses, which no selector matches.
 */
export function appNetworkPolicySpec(
    id: AppIdentity & { port: number; metricsPort?: number; allowFrom: string[]; monitoringNamespace?: string; openAppPort?: boolean },
): k8sInput.networking.v1.NetworkPolicySpec {
    const fromNamespace = (name: string) => ({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
    });
    const appPort = [{ port: id.port, protocol: "TCP" }];
    const rules: k8sInput.networking.v1.NetworkPolicyIngressRule[] = [
        id.openAppPort ? { ports: appPort } : { from: [{ podSelector: {} }, ...id.allowFrom.map(fromNamespace)], ports: appPort },
    ];
    if (id.monitoringNamespace !== undefined && id.metricsPort !== undefined) {
        rules.push({ from: [fromNamespace(id.monitoringNamespace)], ports: [{ port: id.metricsPort, protocol: "TCP" }] });
    }
    return { podSelector: { matchLabels: selectorLabels(id) }, policyTypes: ["Ingress"], ingress: rules };
}

/** What the app may reach once its egress is restricted: the cluster DNS, plus the dependencies listed here. */
export interface EgressSettings {
    /** Namespace of the cluster DNS pods (label `k8s-app: kube-dns`, as CoreDNS carries on kubeadm, EKS, GKE, kind, k3s). */
    dnsNamespace: string;
    /** The app's declared dependencies: each a namespace (every pod in it) or a CIDR, on one port. */
    allow: { namespace?: string; cidr?: string; port: number; protocol: "TCP" | "UDP" }[];
}

/** Egress allow-list for the app's pods: DNS over UDP and TCP port 53, then each declared dependency. */
export function appEgressPolicySpec(id: AppIdentity, e: EgressSettings): k8sInput.networking.v1.NetworkPolicySpec {
    const dns: k8sInput.networking.v1.NetworkPolicyEgressRule = {
        to: [
            {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": e.dnsNamespace } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
        ],
        ports: [
            { port: 53, protocol: "UDP" },
            { port: 53, protocol: "TCP" },
        ],
    };
    const dependencies = e.allow.map((d): k8sInput.networking.v1.NetworkPolicyEgressRule => ({
        to: [
            d.cidr === undefined
                ? { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": d.namespace ?? id.namespace } } }
                : { ipBlock: { cidr: d.cidr } },
        ],
        ports: [{ port: d.port, protocol: d.protocol }],
    }));
    return { podSelector: { matchLabels: selectorLabels(id) }, policyTypes: ["Egress"], egress: [dns, ...dependencies] };
}
