/**
 * What a stage may take from a shared cluster: the namespace's ResourceQuota and LimitRange.
 */
import type { input as k8sInput } from "@pulumi/kubernetes/types";
import { resourceAmounts, ResourceSettings } from "./pod";

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
                defaultRequest: resourceAmounts(r.requests),
                default: resourceAmounts(r.limits),
                max: { cpu: quota.cpu, memory: quota.memory },
            },
        ],
    };
}
