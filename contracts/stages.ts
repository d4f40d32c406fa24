/**
 * The stages Slipway ships a stack for. The config schema, the policy pack, the tools, the tests and the
 * workflows all read this list; the sample service's own `STAGE` check is tested against it.
 */

/** Every stage, in promotion order: each has a `Pulumi.<stage>.yaml` and a `policy/config/<stage>.json`. */
export const STAGES = ["local", "dev", "qa", "prod"] as const;

/** One of {@link STAGES}. */
export type Stage = (typeof STAGES)[number];

/** The stage of the local loop: it runs on this machine, with its setup found by scripts/local-env.sh. */
export const LOCAL_STAGE = "local" as const satisfies Stage;

/** Stages that never build: they run a digest promoted from the stage before. */
export const PINNED_STAGES = ["qa", "prod"] as const satisfies readonly Stage[];

/** Stages CI deploys (each in the kube context its stack file names): what `status` shows, previews and rolls back. */
export const DEPLOYED_STAGES = ["dev", "qa", "prod"] as const satisfies readonly Stage[];

/** True for a stage that must run a pinned digest. */
export function isPinnedStage(stage: Stage): boolean {
    return (PINNED_STAGES as readonly Stage[]).includes(stage);
}
