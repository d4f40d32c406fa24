/**
 * `rollback --stack prod [--to <update> | --to-version N | --digest sha256:…] [--dry-run]`: pin an earlier image and
 * deploy it. `<update>` is a version where the backend numbers updates, or a start time in UTC (tools/updates.ts).
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { metadataFromLabels, StackOutput } from "../contracts";
import { formatChanges, type ToolContext } from "./context";
import { refused } from "./errors";
import { deployedImage, pickRollbackTarget, type RollbackTarget } from "./history";
import { deployments } from "./updates";
import { parsePinnedRef, requireDigest } from "./image-ref";
import type { StageStack } from "./stage-stack";
import { currentPinnedRef, describePin, pinCommands, readImageConfig, writeImagePin, type ImagePin } from "./pin";

/** Options of {@link rollback}. */
export interface RollbackOptions {
    stack: string;
    /** Restore the image of this update: a version, or a start time in UTC (`2026-11-29T22:50:01Z`). */
    to?: string;
    /** Restore the image of this update version: `to` for backends that number updates. */
    toVersion?: number;
    /** Restore this digest from the stack's repository. */
    digest?: string;
    /** Work everything out and print it; change nothing. */
    dryRun: boolean;
    /** Check that the digest exists in the registry before pinning it (default on). */
    registryCheck: boolean;
}

/** The repository the stack deploys from: its current pin, else its last outputs. */
async function repositoryOf(stack: StageStack, current: Record<string, unknown> | undefined): Promise<string> {
    const pinned = currentPinnedRef(current);
    if (pinned) {
        return parsePinnedRef(pinned, "image.ref").repository;
    }
    const outputs = await stack.outputs();
    try {
        return parsePinnedRef(outputs[StackOutput.appImageRef]?.value, `stack ${stack.name}'s output ${StackOutput.appImageRef}`)
            .repository;
    } catch (err) {
        throw refused(`cannot tell which repository stack ${stack.name} deploys from: ${(err as Error).message}`);
    }
}

/** Pin for `--digest`: build metadata comes from the newest successful update that deployed that digest, if any. */
function pinForDigest(repository: string, digest: string, history: UpdateSummary[]): ImagePin {
    for (const update of deployments(history)) {
        const image = deployedImage(update, history);
        if (update.result === "succeeded" && image.kind === "pinned" && image.digest === digest) {
            return { ref: `${repository}@${digest}`, buildNumber: image.buildNumber, gitBranch: image.gitBranch, gitSha: image.gitSha };
        }
    }
    return { ref: `${repository}@${digest}` };
}

/** Turns the chosen update's image into a pin, resolving a built image's tags in the registry. */
async function pinForTarget(ctx: ToolContext, target: RollbackTarget, repository: () => Promise<string>): Promise<ImagePin> {
    const { image } = target;
    const meta = { buildNumber: image.buildNumber, gitBranch: image.gitBranch, gitSha: image.gitSha };
    if (image.kind === "pinned") {
        return { ref: image.ref, ...meta };
    }
    const repo = await repository();
    for (const tag of image.tags) {
        const digest = await ctx.registry.resolve(repo, tag);
        if (digest) {
            ctx.err(`resolved ${repo}:${tag} → ${digest}\n`);
            // The metadata the image was built with, from its own labels: history knows the commit but not, say, a
            // local build's number. With all three equal, the pod template equals the one that ran, and Kubernetes
            // scales the earlier ReplicaSet back up instead of rolling out new pods.
            const labels = metadataFromLabels((await ctx.registry.labels(repo, digest)) ?? {});
            return { ref: `${repo}@${digest}`, ...meta, ...labels };
        }
    }
    throw refused(
        `${target.naming.describe(target.update)} built its image, but none of its tags (${image.tags.join(", ")}) is in ${repo} ` +
            `(expired by the lifecycle policy?): nothing to roll back to; use --digest to name an image`,
    );
}

/** Runs a rollback; throws {@link ToolError} on refusal, anything else on failure. */
export async function rollback(ctx: ToolContext, options: RollbackOptions): Promise<void> {
    const targets = [options.to && "--to", options.toVersion !== undefined && "--to-version", options.digest !== undefined && "--digest"];
    const given = targets.filter((t): t is string => typeof t === "string");
    if (given.length > 1) {
        throw refused(`${given.join(" and ")} exclude each other`);
    }
    const to = options.to ?? (options.toVersion === undefined ? undefined : String(options.toVersion));
    // Validate input before any Pulumi call, so a typo fails fast and identically with or without a backend.
    let digest: string | undefined;
    if (options.digest !== undefined) {
        try {
            digest = requireDigest(options.digest, "--digest");
        } catch (err) {
            throw refused((err as Error).message);
        }
    }
    const stack = await ctx.openStack(options.stack);
    const history = await stack.history();
    const current = await readImageConfig(stack);

    let pin: ImagePin;
    let what: string;
    if (digest !== undefined) {
        const repository = await repositoryOf(stack, current);
        if (options.registryCheck && (await ctx.registry.resolve(repository, digest)) === undefined) {
            throw refused(`${repository}@${digest} does not exist in the registry: refusing to pin it`);
        }
        pin = pinForDigest(repository, digest, history);
        what = `digest ${digest}`;
    } else {
        const target = pickRollbackTarget(options.stack, history, to);
        pin = await pinForTarget(ctx, target, () => repositoryOf(stack, current));
        const { describe } = target.naming;
        what = `the image of ${describe(target.update)} (current: ${describe(target.current)}, ${target.current.result})`;
    }

    if (currentPinnedRef(current) === pin.ref) {
        ctx.out(`${options.stack} is already pinned to ${pin.ref}: nothing to roll back\n`);
        return;
    }
    ctx.out(`rollback ${options.stack} to ${what}: ${describePin(pin)}\n`);
    if (options.dryRun) {
        ctx.out(
            `dry run: nothing changed. These commands would do it by hand:\n` +
                pinCommands(options.stack, pin, current)
                    .map((c) => `  ${c}\n`)
                    .join(""),
        );
        return;
    }
    await writeImagePin(stack, pin);
    const result = await stack.up({ message: `rollback ${options.stack} to ${what}`, onOutput: (s) => ctx.err(s) });
    ctx.out(
        `update ${result.summary.version} ${result.summary.result}: ${formatChanges(result.summary.resourceChanges)}\n` +
            `commit Pulumi.${options.stack}.yaml so the repository matches what runs\n`,
    );
}
