/**
 * The Slipway policy list, importable without starting the policy server (only `index.ts` constructs the
 * PolicyPack). Tests and tools import `policies` from here.
 */
import { EnforcementLevel, Policies, PolicyPackConfig } from "@pulumi/policy";
import { pdbAllowsEviction, replicasHighlyAvailable } from "./rules/availability";
import { buildBaseImagesPinned, ecrLifecyclePolicy, ecrNoForceDelete, ecrRepository, imagesOnStackRegistry } from "./rules/registry";
import { noPlaintextSecrets } from "./rules/secrets";
import { serviceMonitorTargetsService, namespaceIsolation, selectorsMatchPods, serviceTargetsWorkload } from "./rules/wiring";
import {
    containerResources,
    imageDigest,
    noDuplicateEnv,
    noHostAccess,
    probes,
    restrictedSecurityContext,
    topologySpread,
    zeroDowntimeRollout,
} from "./rules/workload";

/** The pack's name, as `pulumi preview` reports it. */
export const PACK_NAME = "slipway-guardrails";

/** The enforcement level of every policy that does not set its own. */
export const PACK_ENFORCEMENT: EnforcementLevel = "mandatory";

/** Every rule of the pack, resource rules first, then stack rules. */
export const policies: Policies = [
    imageDigest,
    containerResources,
    probes,
    restrictedSecurityContext,
    noHostAccess,
    noDuplicateEnv,
    noPlaintextSecrets,
    ecrRepository,
    ecrNoForceDelete,
    buildBaseImagesPinned,
    topologySpread,
    zeroDowntimeRollout,
    ecrLifecyclePolicy,
    imagesOnStackRegistry,
    serviceTargetsWorkload,
    serviceMonitorTargetsService,
    selectorsMatchPods,
    namespaceIsolation,
    replicasHighlyAvailable,
    pdbAllowsEviction,
];

/** The stages Slipway ships a policy config for (`policy/config/<stage>.json`): every stage. */
export { STAGES, type Stage } from "../contracts";

/**
 * The enforcement level a policy runs at under a policy config file, with the precedence the engine and the
 * policy server use: the policy's own entry, then `all`, then the policy's default, then the pack's.
 */
export function effectiveEnforcement(policyName: string, config: PolicyPackConfig = {}): EnforcementLevel {
    const level = (entry: PolicyPackConfig[string] | undefined): EnforcementLevel | undefined =>
        typeof entry === "string" ? entry : entry?.enforcementLevel;
    const policy = policies.find((p) => p.name === policyName);
    if (!policy) {
        throw new Error(`unknown policy ${policyName}`);
    }
    return level(config[policyName]) ?? level(config.all) ?? policy.enforcementLevel ?? PACK_ENFORCEMENT;
}
