import { StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { K8S, REPLICATED_TYPES, Workload, describeObject, namespaceOf, selectorMatches, workloadsOf } from "../lib/kube";
import { hpaTarget, ofType } from "./wiring";

const haConfigSchema = {
    properties: {
        minReplicas: {
            type: "integer" as const,
            minimum: 1,
            default: 2,
            description: "Fewest replicas (or HPA minReplicas) a workload may run with.",
        },
    },
};

/** The replica count a workload can fall to: its HPA's minReplicas when autoscaled, else spec.replicas (default 1). */
function floorReplicas(workload: Workload, hpas: ReturnType<typeof ofType>, all: readonly Workload[]): { count: number; source: string } {
    const hpa = hpas.find((h) => hpaTarget(h, all) === workload);
    if (hpa) {
        return { count: hpa.props.spec?.minReplicas ?? 1, source: "its HorizontalPodAutoscaler's minReplicas" };
    }
    return { count: workload.props.spec?.replicas ?? 1, source: "spec.replicas" };
}

/** Enough replicas to survive a node loss or a rollout hiccup. */
export const replicasHighlyAvailable: StackValidationPolicy = {
    name: "slipway-replicas-ha",
    description: "Replicated workloads run at least minReplicas replicas (spec.replicas or HPA minReplicas).",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["availability", "prod"],
    configSchema: haConfigSchema,
    remediationSteps: "Raise slipway:app.replicas (or app.autoscaling.minReplicas) to at least 2.",
    validateStack: (args, report) => {
        const workloads = workloadsOf(args.resources, REPLICATED_TYPES);
        if (workloads.length === 0) {
            return args.notApplicable("no Deployments or StatefulSets");
        }
        const { minReplicas } = configWithDefaults<{ minReplicas: number }>(haConfigSchema, args);
        const hpas = ofType(args.resources, K8S.HorizontalPodAutoscaler);
        for (const workload of workloads) {
            const floor = floorReplicas(workload, hpas, workloads);
            if (floor.count < minReplicas) {
                report(
                    `${describeObject(workload)} can run with ${floor.count} replica(s) (${floor.source}); one node ` +
                        `failure takes the service down. Fix: set slipway:app.replicas (or app.autoscaling.minReplicas) ` +
                        `to at least ${minReplicas}.`,
                    workload.urn,
                );
            }
        }
    },
};

/** Evictions allowed by a PDB when the workload runs `replicas` pods; undefined when unreadable. */
export function allowedDisruptions(spec: Record<string, any>, replicas: number): number | undefined {
    const resolve = (value: unknown, roundUp: boolean): number | undefined => {
        if (typeof value === "number") return value;
        if (typeof value === "string" && /^\d+%$/.test(value)) {
            const exact = (Number(value.slice(0, -1)) / 100) * replicas;
            return roundUp ? Math.ceil(exact) : Math.floor(exact);
        }
        if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
        return undefined;
    };
    if (spec.maxUnavailable !== undefined) {
        // Kubernetes rounds a percentage maxUnavailable up.
        return resolve(spec.maxUnavailable, true);
    }
    if (spec.minAvailable !== undefined) {
        const min = resolve(spec.minAvailable, true);
        return min === undefined ? undefined : Math.max(0, replicas - min);
    }
    return undefined;
}

/** A PDB that keeps voluntary disruptions safe without blocking node drains forever. */
export const pdbAllowsEviction: StackValidationPolicy = {
    name: "slipway-pdb-allows-eviction",
    description: "Replicated workloads have a PodDisruptionBudget that still allows at least one eviction at their minimum replica count.",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["availability", "prod"],
    remediationSteps: "Run ≥ 2 replicas and give the PDB maxUnavailable: 1.",
    validateStack: (args, report) => {
        const workloads = workloadsOf(args.resources, REPLICATED_TYPES);
        if (workloads.length === 0) {
            return args.notApplicable("no Deployments or StatefulSets");
        }
        const hpas = ofType(args.resources, K8S.HorizontalPodAutoscaler);
        const pdbs = ofType(args.resources, K8S.PodDisruptionBudget);
        for (const workload of workloads) {
            const floor = floorReplicas(workload, hpas, workloads);
            const own = pdbs.filter(
                (p) =>
                    namespaceOf(p.props) === workload.namespace &&
                    selectorMatches(p.props.spec?.selector, workload.template.metadata.labels),
            );
            if (own.length === 0) {
                report(
                    `${describeObject(workload)} has no PodDisruptionBudget, so a node drain may evict all its ` +
                        `pods at once. Fix: run at least 2 replicas (AppDeployment then creates a PDB) with ` +
                        `maxUnavailable: 1.`,
                    workload.urn,
                );
                continue;
            }
            for (const pdb of own) {
                const allowed = allowedDisruptions(pdb.props.spec ?? {}, floor.count);
                if (allowed === undefined) {
                    report(
                        `${describeObject(pdb)} sets neither a readable minAvailable nor maxUnavailable. ` + `Fix: set maxUnavailable: 1.`,
                        pdb.urn,
                    );
                } else if (allowed < 1) {
                    report(
                        `${describeObject(pdb)} allows ${allowed} evictions when ${describeObject(workload)} runs ` +
                            `${floor.count} replica(s) (${floor.source}), so node drains block forever. Fix: use ` +
                            `maxUnavailable: 1 (and at least 2 replicas) instead of a minAvailable equal to the replica count.`,
                        pdb.urn,
                    );
                }
            }
        }
    },
};
