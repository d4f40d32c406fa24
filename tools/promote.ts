/**
 * `promote --from dev --to qa [--yes]`: pin the source stage's app image digest in the target stage. Whether the
 * target already runs it is decided from the target's history, not from its checked-out config alone.
 */
import type { OutputMap } from "@pulumi/pulumi/automation";
import { StackOutput, type StackOutputName } from "../contracts";
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

/** Options of {@link promote}. */
export interface PromoteOptions {
    from: string;
    to: string;
    /** Run `up` instead of `preview`. */
    yes: boolean;
}

const text = (outputs: OutputMap, key: StackOutputName): string | undefined => {
    const v = outputs[key]?.value;
    return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
};

/**
 * Reads the image the source stack runs (from its outputs) after checking its last update succeeded, and
 * validates it.
 */
async function sourcePin(ctx: ToolContext, from: string): Promise<ImagePin> {
    const source = await ctx.openStack(from);
    const last = requireLastDeploymentSucceeded(from, await source.history());
    const outputs = await source.outputs();
    let digest: string;
    let ref: ReturnType<typeof parsePinnedRef>;
    try {
        digest = requireDigest(outputs[StackOutput.appImageDigest]?.value, `stack ${from}'s output ${StackOutput.appImageDigest}`);
        ref = parsePinnedRef(outputs[StackOutput.appImageRef]?.value, `stack ${from}'s output ${StackOutput.appImageRef}`);
    } catch (err) {
        throw refused(`${(err as Error).message}; refusing to promote`);
    }
    if (ref.digest !== digest) {
        throw refused(`stack ${from}'s outputs disagree: appImageRef is ${ref.digest}, appImageDigest is ${digest}`);
    }
    // A pinned source records its digest in the update's config too: both must agree, or the outputs are stale.
    const recorded = deployedImage(last);
    if (recorded.kind === "pinned" && recorded.digest !== digest) {
        throw refused(
            `stack ${from}'s outputs (${digest}) do not match the digest its last update deployed (${recorded.digest}); ` +
                `run pulumi refresh on ${from} first`,
        );
    }
    return {
        ref: `${ref.repository}@${digest}`,
        buildNumber: text(outputs, StackOutput.buildNumber),
        gitBranch: text(outputs, StackOutput.gitBranch),
        gitSha: text(outputs, StackOutput.gitSha),
    };
}

/** Runs a promotion; throws {@link ToolError} on refusal, anything else on failure. */
export async function promote(ctx: ToolContext, options: PromoteOptions): Promise<void> {
    if (options.from === options.to) {
        throw refused(`--from and --to are both ${options.from}`);
    }
    const pin = await sourcePin(ctx, options.from);
    const target = await ctx.openStack(options.to);
    // The target's stack file says which registry it pulls from: a pin from elsewhere would only fail its deploy.
    const pulls = await readPullRegistry(target);
    const registry = pinnedRefRegistry(pin.ref);
    if (pulls !== undefined && registry !== pulls) {
        throw refused(
            `${options.from}'s image ${pin.ref} is on ${registry}, but ${options.to} pulls only from ${pulls} ` +
                `(${PULL_REGISTRY_CONFIG_KEY} in Pulumi.${options.to}.yaml); nothing was written. Correct ${PULL_REGISTRY_CONFIG_KEY}, ` +
                `or promote from the stage whose registry it names`,
        );
    }
    const current = await readImageConfig(target);
    if (currentPinnedRef(current) === pin.ref) {
        // The checkout already names the image; whether it runs is for the target's history to say (a failed
        // promotion leaves the pin in a workspace and the old image, or a stuck rollout, in the cluster).
        const history = await target.history();
        const last = lastDeployment(history);
        const { repository, digest } = parsePinnedRef(pin.ref, "the pin");
        const lastDigest =
            last?.result === "succeeded" ? (await recordedImages(target, history, async () => repository)(last)).digest : undefined;
        const reason = redeployReason(options.to, history, digest, lastDigest);
        if (reason === undefined) {
            ctx.out(`${options.to} is already pinned to ${pin.ref} and its last update deployed it: nothing to promote\n`);
            return;
        }
        ctx.err(`${reason}: re-deploying ${pin.ref}\n`);
    }
    ctx.err(`promoting ${options.from} → ${options.to}: ${describePin(pin)}\n`);
    await writeImagePin(target, pin);
    const message = `promote ${options.from} → ${options.to}: ${pin.ref}`;
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
            `promoted ${options.from} → ${options.to}: ${describePin(pin)}\n` +
                `update ${summaryAddress(result.summary)} ${result.summary.result}: ${formatChanges(result.summary.resourceChanges)}\n`,
        );
    } else {
        const result = await target.preview({ message, onOutput });
        ctx.out(
            `preview of ${options.to} with ${describePin(pin)}: ${formatChanges(result.changeSummary)}\n` +
                `the pin is written to Pulumi.${options.to}.yaml; run again with --yes to deploy it\n`,
        );
    }
}
