/**
 * `rollback --stack prod [--to <update> | --to-version N | --digest sha256:…] [--dry-run]`: pin an earlier image and
 * deploy it. `<update>` is `previous`, `build:<n>`, `sha:<hex>`, a version where the backend numbers updates, or a
 * start time in UTC (tools/updates.ts). What to do is decided from the stack's history (what was deployed), never
 * from the checkout's Pulumi.<stack>.yaml alone.
 */
import type { OutputMap, UpdateSummary } from "@pulumi/pulumi/automation";
import { metadataFromLabels } from "../contracts";
import { appOutputsIn, chooseApp, deployedAppNames, FIRST_APP, ofApp, outputName, type AppSlot } from "./app-slot";
import { formatChanges, type ToolContext } from "./context";
import { deploy } from "./deploy";
import { refused } from "./errors";
import { imageResolver } from "./deployed-image";
import { listDeployments } from "./list";
import { deployedImage, pickRollbackTarget, redeployReason, ROLLBACK_MESSAGE_PREFIX, type RollbackTarget } from "./history";
import { deployments, lastDeployment, parseUpdateAddress, summaryAddress, UPDATE_ADDRESS_HELP } from "./updates";
import { parsePinnedRef, requireDigest } from "./image-ref";
import type { StageStack } from "./stage-stack";
import { currentPinnedRef, describePin, pinCommands, readImageConfig, writeImagePin, type ImagePin } from "./pin";

/** Options of {@link rollback}. */
export interface RollbackOptions {
    stack: string;
    /** The app to roll back, by name: required where the stack runs more than one. */
    app?: string;
    /**
     * Restore the image of this update: `previous` (the default), `build:<n>`, `sha:<hex>`, a version, or a start
     * time in UTC (`2026-11-29T22:50:01Z`).
     */
    to?: string;
    /** Restore the image of this update version: `to` for backends that number updates. */
    toVersion?: number;
    /** Restore this digest from the stack's repository. */
    digest?: string;
    /** List the stack's deployments with the ids `to` accepts, and do nothing else. */
    list?: boolean;
    /** Work everything out and print it; change nothing. */
    dryRun: boolean;
    /** Check that the digest exists in the registry before pinning it (default on). */
    registryCheck: boolean;
}

/** The repository the app deploys from: its current pin, else the stack's last outputs. */
async function repositoryOf(
    stack: StageStack,
    outputs: OutputMap,
    current: Record<string, unknown> | undefined,
    slot: AppSlot,
): Promise<string> {
    const pinned = currentPinnedRef(current);
    if (pinned) {
        return parsePinnedRef(pinned, "image.ref").repository;
    }
    try {
        const output = outputName(slot, "imageRef");
        return parsePinnedRef(appOutputsIn(outputs, slot).imageRef, `stack ${stack.name}'s output ${output}`).repository;
    } catch (err) {
        throw refused(`cannot tell which repository stack ${stack.name}${ofApp(slot)} deploys from: ${(err as Error).message}`);
    }
}

/**
 * The app a rollback moves: `--app`, or the stack's one app. The apps are those the stack last deployed (a rollback
 * restores what ran), read from its outputs: no config, and so no secret, is read for it.
 */
function appToRollBack(stack: StageStack, outputs: OutputMap, requested: string | undefined): AppSlot {
    const names = deployedAppNames(outputs);
    return names.length === 1 && requested === undefined ? FIRST_APP : chooseApp(stack.name, names, requested, "roll back");
}
/** Pin for `--digest`: build metadata comes from the newest successful update that deployed that digest, if any. */
function pinForDigest(repository: string, digest: string, history: UpdateSummary[], slot: AppSlot): ImagePin {
    for (const update of deployments(history)) {
        const image = deployedImage(update, history, undefined, slot);
        if (update.result === "succeeded" && image.kind === "pinned" && image.digest === digest) {
            return { ref: `${repository}@${digest}`, buildNumber: image.buildNumber, gitBranch: image.gitBranch, gitSha: image.gitSha };
        }
    }
    return { ref: `${repository}@${digest}` };
}

/**
 * Turns the chosen update's image into a pin. A built image is pinned with the metadata it was built with, from
 * its own labels: history knows the commit but not, say, a local build's number. With all three equal, the pod
 * template equals the one that ran, and Kubernetes scales the earlier ReplicaSet back up instead of rolling out
 * new pods.
 */
async function pinForTarget(ctx: ToolContext, target: RollbackTarget): Promise<ImagePin> {
    const { image, resolved } = target;
    const meta = { buildNumber: image.buildNumber, gitBranch: image.gitBranch, gitSha: image.gitSha };
    if (image.kind === "pinned") {
        return { ref: resolved.ref, ...meta };
    }
    ctx.err(`resolved the image of ${target.naming.describe(target.update)} → ${resolved.digest} (from ${resolved.via})\n`);
    const { repository } = parsePinnedRef(resolved.ref, "the resolved image");
    const labels = metadataFromLabels((await ctx.registry.labels(repository, resolved.digest)) ?? {});
    return { ref: resolved.ref, ...meta, ...labels };
}

/** Runs a rollback; throws {@link ToolError} on refusal, anything else on failure. */
export async function rollback(ctx: ToolContext, options: RollbackOptions): Promise<void> {
    const targets = [
        options.list && "--list",
        options.to && "--to",
        options.toVersion !== undefined && "--to-version",
        options.digest !== undefined && "--digest",
    ];
    const given = targets.filter((t): t is string => typeof t === "string");
    if (given.length > 1) {
        throw refused(`${given.join(" and ")} exclude each other`);
    }
    const to = options.to ?? (options.toVersion === undefined ? undefined : String(options.toVersion));
    // Validate input before any Pulumi call, so a typo fails fast and identically with or without a backend.
    if (to !== undefined && parseUpdateAddress(to) === undefined) {
        throw refused(`${JSON.stringify(to)} names no update: ${UPDATE_ADDRESS_HELP}`);
    }
    let digest: string | undefined;
    if (options.digest !== undefined) {
        try {
            digest = requireDigest(options.digest, "--digest");
        } catch (err) {
            throw refused((err as Error).message);
        }
    }
    const stack = await ctx.openStack(options.stack);
    // Read once: which apps the stack runs, and (unpinned) where its image lives.
    const outputs = await stack.outputs();
    const slot = appToRollBack(stack, outputs, options.app);
    const history = await stack.history();
    const current = await readImageConfig(stack, slot);
    const repository = once(() => repositoryOf(stack, outputs, current, slot));
    if (options.list) {
        await listDeployments(ctx, stack, history, repository, slot);
        return;
    }
    const resolve = imageResolver(ctx, stack, history, repository, slot);

    let pin: ImagePin;
    let what: string;
    let skippedUpdates: string[] = [];
    if (digest !== undefined) {
        const repo = await repository();
        if (options.registryCheck && (await ctx.registry.resolve(repo, digest)) === undefined) {
            throw refused(`${repo}@${digest} does not exist in the registry: refusing to pin it`);
        }
        pin = pinForDigest(repo, digest, history, slot);
        what = `digest ${digest}`;
    } else {
        const target = await pickRollbackTarget(options.stack, history, resolve, to, slot);
        pin = await pinForTarget(ctx, target);
        const { describe } = target.naming;
        what = `the image of ${describe(target.update)} (current: ${describe(target.current)}, ${target.current.result})`;
        skippedUpdates = target.skipped;
    }

    if (currentPinnedRef(current) === pin.ref) {
        // The checkout already names the image; whether it runs is for the stack's history to say.
        const last = lastDeployment(history);
        const lastDigest = last?.result === "succeeded" ? (await resolve(last)).digest : undefined;
        const reason = redeployReason(options.stack, history, parsePinnedRef(pin.ref, "the pin").digest, lastDigest);
        if (reason === undefined) {
            ctx.out(
                `${options.stack}${ofApp(slot)} is already pinned to ${pin.ref} and its last update deployed it: nothing to roll back\n`,
            );
            return;
        }
        ctx.out(`${reason}: re-deploying ${pin.ref}\n`);
    }
    for (const reason of skippedUpdates) {
        ctx.out(`passed over a newer update whose image cannot be found: ${reason}\n`);
    }
    const app = slot.name === "" ? "" : ` app ${slot.name}`;
    ctx.out(`rollback ${options.stack}${app} to ${what}: ${describePin(pin)}\n`);
    if (options.dryRun) {
        ctx.out(
            `dry run: nothing changed. These commands would do it by hand:\n` +
                pinCommands(options.stack, pin, current, slot)
                    .map((c) => `  ${c}\n`)
                    .join(""),
        );
        return;
    }
    await writeImagePin(stack, pin, slot);
    const result = await deploy(stack, {
        message: `${ROLLBACK_MESSAGE_PREFIX} ${options.stack}${app} to ${what}`,
        onOutput: (s) => ctx.err(s),
        pods: await ctx.podsFor?.(options.stack),
        note: (s) => ctx.err(s),
        onInterrupt: ctx.onInterrupt,
        nextStep: `The image rolled back to cannot start either: choose another (npm run rollback -- --stack ${options.stack}${slot.name === "" ? "" : ` --app ${slot.name}`} --list)`,
    });
    ctx.out(
        `update ${summaryAddress(result.summary)} ${result.summary.result}: ${formatChanges(result.summary.resourceChanges)}\n` +
            `commit Pulumi.${options.stack}.yaml so the repository matches what runs\n`,
    );
}

/** `fn`, called at most once: its promise (or refusal) is shared by every caller. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
    let result: Promise<T> | undefined;
    return () => (result ??= fn());
}
