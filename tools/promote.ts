/**
 * `promote --from dev --to qa [--app <name>] [--yes]`: pin the digests the source stage's apps run in the target stage, every
 * app as one change (or `--app`'s alone). Whether the target already runs them is decided from the target's history, not
 * from its checked-out config alone.
 */
import type { OutputMap, UpdateSummary } from "@pulumi/pulumi/automation";
import { appNames, appOutputsIn, chooseApp, ofApp, outputName, type AppSlot } from "./app-slot";
import type { StageStack } from "./stage-stack";
import { formatChanges, type ToolContext } from "./context";
import { deploy } from "./deploy";
import { refused } from "./errors";
import { recordedImages } from "./deployed-image";
import { deployedImage, redeployReason, requireLastDeploymentSucceeded } from "./history";
import { lastDeployment, summaryAddress } from "./updates";
import { parsePinnedRef, requireDigest } from "./image-ref";
import {
    currentPinnedRef,
    describePin,
    PULL_REGISTRY_CONFIG_KEY,
    readImageConfig,
    readPullRegistry,
    writeImagePin,
    type ImagePin,
} from "./pin";
import { pinnedRefRegistry } from "../components/lib/image-ref";
import { APP_CONFIG_KEY, APPS_CONFIG_KEY } from "../contracts";

/** Options of {@link promote}. */
export interface PromoteOptions {
    from: string;
    to: string;
    /** Promote this app only; default: every app of the target stage, as one change. */
    app?: string;
    /** Run `up` instead of `preview`. */
    yes: boolean;
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);

/**
 * A stack's apps by name, first app first, from its `slipway:app` and `slipway:apps` config: the target's config says
 * which apps it runs, an app added there and never deployed included. Reading it decrypts any secretEnv of its apps,
 * as the `up` that follows does; nothing of it is printed or written.
 */
async function appsOf(stack: StageStack): Promise<string[]> {
    return appNames(await stack.getConfig(APP_CONFIG_KEY), await stack.getConfig(APPS_CONFIG_KEY));
}

/** The app named `name` in a stack whose apps are `names`, or a refusal naming them. */
function slotIn(stackName: string, names: string[], name: string): AppSlot {
    const i = names.indexOf(name);
    if (i < 0) {
        throw refused(`stack ${stackName} has no app ${name} (its apps: ${names.join(", ")}); nothing was written`);
    }
    return { name, first: i === 0 };
}

/**
 * Reads the image an app of the source stack runs (from its outputs), after checking the stack's last update
 * succeeded, and validates it.
 */
function sourcePin(from: string, last: UpdateSummary, outputs: OutputMap, slot: AppSlot): ImagePin {
    const recordedOutputs = appOutputsIn(outputs, slot);
    let digest: string;
    let ref: ReturnType<typeof parsePinnedRef>;
    try {
        digest = requireDigest(recordedOutputs.imageDigest, `stack ${from}'s output ${outputName(slot, "imageDigest")}`);
        ref = parsePinnedRef(recordedOutputs.imageRef, `stack ${from}'s output ${outputName(slot, "imageRef")}`);
    } catch (err) {
        throw refused(`${(err as Error).message}; refusing to promote`);
    }
    if (ref.digest !== digest) {
        throw refused(
            `stack ${from}'s outputs disagree: ${outputName(slot, "imageRef")} is ${ref.digest}, ${outputName(slot, "imageDigest")} is ${digest}`,
        );
    }
    // A pinned source records its digest in the update's config too: both must agree, or the outputs are stale.
    const recorded = deployedImage(last, [last], undefined, slot);
    if (recorded.kind === "pinned" && recorded.digest !== digest) {
        throw refused(
            `stack ${from}'s outputs (${digest}) do not match the digest its last update deployed${ofApp(slot)} (${recorded.digest}); ` +
                `run pulumi refresh on ${from} first`,
        );
    }
    return {
        ref: `${ref.repository}@${digest}`,
        buildNumber: text(recordedOutputs.buildNumber),
        gitBranch: text(recordedOutputs.gitBranch),
        gitSha: text(recordedOutputs.gitSha),
    };
}

/** One app's promotion: where it goes in the target, and the image it gets. */
interface AppPromotion {
    slot: AppSlot;
    pin: ImagePin;
}

/** `<ref>` where no app is `named` (a one-app stage), `<app> <ref>, <app> <ref>` otherwise. */
function describePromotions(promotions: AppPromotion[], describe: (pin: ImagePin) => string, named: boolean): string {
    return promotions.map(({ slot, pin }) => (named ? `${slot.name} ${describe(pin)}` : describe(pin))).join(", ");
}

/**
 * Runs a promotion: every app of the target stage (or `--app`'s) gets the digest its namesake runs in the source, in
 * one update. Throws {@link ToolError} on refusal, anything else on failure.
 */
export async function promote(ctx: ToolContext, options: PromoteOptions): Promise<void> {
    if (options.from === options.to) {
        throw refused(`--from and --to are both ${options.from}`);
    }
    const source = await ctx.openStack(options.from);
    const last = requireLastDeploymentSucceeded(options.from, await source.history());
    const target = await ctx.openStack(options.to);
    // Apps are matched by name, never by position: a target's first app gets its namesake's digest, wherever that app
    // sits in the source.
    const targetApps = await appsOf(target);
    const sourceApps = await appsOf(source);
    const moving =
        options.app === undefined
            ? targetApps.map((name) => slotIn(options.to, targetApps, name))
            : [chooseApp(options.to, targetApps, options.app, "promote")];
    // Two one-app stages pair their apps whatever their names, as before stages had several.
    const sourceSlotOf = (slot: AppSlot): AppSlot =>
        targetApps.length === 1 && sourceApps.length === 1 && options.app === undefined
            ? { name: sourceApps[0]!, first: true }
            : slotIn(options.from, sourceApps, slot.name);
    const outputs = await source.outputs();
    const promotions = moving.map((slot) => ({
        slot,
        pin: sourcePin(options.from, last, outputs, sourceSlotOf(slot)),
    }));
    // A one-app stage's messages name no app, as before there were several.
    const named = targetApps.length > 1 || options.app !== undefined;

    // The target's stack file says which registry it pulls from: a pin from elsewhere would only fail its deploy.
    const pulls = await readPullRegistry(target);
    for (const { pin } of promotions) {
        const registry = pinnedRefRegistry(pin.ref);
        if (pulls !== undefined && registry !== pulls) {
            throw refused(
                `${options.from}'s image ${pin.ref} is on ${registry}, but ${options.to} pulls only from ${pulls} ` +
                    `(${PULL_REGISTRY_CONFIG_KEY} in Pulumi.${options.to}.yaml); nothing was written. Correct ${PULL_REGISTRY_CONFIG_KEY}, ` +
                    `or promote from the stage whose registry it names`,
            );
        }
    }
    const changed: AppPromotion[] = [];
    let history: UpdateSummary[] | undefined;
    for (const promotion of promotions) {
        const { slot, pin } = promotion;
        if (currentPinnedRef(await readImageConfig(target, slot)) !== pin.ref) {
            changed.push(promotion);
            continue;
        }
        // The checkout already names the image; whether it runs is for the target's history to say (a failed
        // promotion leaves the pin in a workspace and the old image, or a stuck rollout, in the cluster).
        history ??= await target.history();
        const newest = lastDeployment(history);
        const { repository, digest } = parsePinnedRef(pin.ref, "the pin");
        const lastDigest =
            newest?.result === "succeeded"
                ? (await recordedImages(target, history, async () => repository, slot)(newest)).digest
                : undefined;
        const reason = redeployReason(options.to, history, digest, lastDigest);
        if (reason !== undefined) {
            ctx.err(`${reason}: re-deploying ${pin.ref}${named ? ofApp(slot) : ""}\n`);
            changed.push(promotion);
        }
    }
    if (changed.length === 0) {
        const what = describePromotions(promotions, (pin) => pin.ref, named);
        ctx.out(`${options.to} is already pinned to ${what} and its last update deployed it: nothing to promote\n`);
        return;
    }
    ctx.err(`promoting ${options.from} → ${options.to}: ${describePromotions(changed, describePin, named)}\n`);
    for (const { slot, pin } of changed) {
        await writeImagePin(target, pin, slot);
    }
    const message = `promote ${options.from} → ${options.to}: ${describePromotions(changed, (pin) => pin.ref, named)}`;
    const onOutput = (s: string) => ctx.err(s);
    if (options.yes) {
        const result = await deploy(target, {
            message,
            onOutput,
            pods: await ctx.podsFor?.(options.to),
            note: onOutput,
            onInterrupt: ctx.onInterrupt,
            nextStep:
                `${options.to}'s earlier pods keep serving. The image cannot start in ${options.to}: fix it in ${options.from}, or ` +
                `restore the pin (git checkout Pulumi.${options.to}.yaml) and deploy it`,
        });
        ctx.out(
            `promoted ${options.from} → ${options.to}: ${describePromotions(changed, describePin, named)}\n` +
                `update ${summaryAddress(result.summary)} ${result.summary.result}: ${formatChanges(result.summary.resourceChanges)}\n`,
        );
    } else {
        const result = await target.preview({ message, onOutput });
        ctx.out(
            `preview of ${options.to} with ${describePromotions(changed, describePin, named)}: ${formatChanges(result.changeSummary)}\n` +
                `the pin is written to Pulumi.${options.to}.yaml; run again with --yes to deploy it\n`,
        );
    }
}
