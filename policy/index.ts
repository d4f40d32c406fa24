/**
 * Entry point of the Slipway CrossGuard pack: `pulumi preview --policy-pack policy`.
 * Constructing a PolicyPack starts the policy gRPC server, so this is the only module that does it.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT, PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
    description:
        "Slipway guardrails: digests only, restricted pods, wired Services and ServiceMonitors, " +
        "immutable registries, highly available prod.",
    enforcementLevel: PACK_ENFORCEMENT,
    policies,
});
