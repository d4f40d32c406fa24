/**
 * Finding the digest an update deployed: from its pin (qa/prod), from the state the update left (a built image's
 * outputs, through {@link StageStack.outputsOf}), or from its unique `build-<n>` tag in the registry. Never from
 * `sha-<7>`: a rebuild of the same commit (a dirty tree, a local build) moves that tag to another image.
 */
import type { OutputMap, UpdateSummary } from "@pulumi/pulumi/automation";
import { appOutputsIn, FIRST_APP, outputName, slotAtUpdate, type AppSlot, type ConfigEntry } from "./app-slot";
import type { ToolContext } from "./context";
import { deployedImage, type ImageResolver, type ResolvedImage } from "./history";
import { isDigest, parsePinnedRef } from "./image-ref";
import type { StageStack } from "./stage-stack";
import { lastDeployment, updateNaming } from "./updates";

/**
 * The app's image recorded in stack outputs (`appImageDigest`, or `apps.<name>.imageDigest`), and the repository of its
 * ref when that is a valid pinned ref (an older program exported the digest only); else why there is none.
 */
export function imageFromOutputs(
    outputs: OutputMap | undefined,
    slot: AppSlot = FIRST_APP,
): { digest: string; repository?: string } | { reason: string } {
    if (outputs === undefined) {
        return { reason: "the backend keeps no record of its state" };
    }
    const recorded = appOutputsIn(outputs, slot);
    if (!isDigest(recorded.imageDigest)) {
        return { reason: `its state has no ${outputName(slot, "imageDigest")} output` };
    }
    try {
        return { digest: recorded.imageDigest, repository: parsePinnedRef(recorded.imageRef, outputName(slot, "imageRef")).repository };
    } catch {
        return { digest: recorded.imageDigest };
    }
}

/**
 * Looks up digests without the registry: a pinned update's from its config, a built one's from the state it left.
 * `repository` names the stack's repository, for state that recorded a digest without a ref.
 */
export function recordedImages(
    stack: StageStack,
    history: UpdateSummary[],
    repository: () => Promise<string>,
    slot: AppSlot = FIRST_APP,
): ImageResolver {
    const naming = updateNaming(history);
    return async (update) => {
        const image = deployedImage(update, history, naming, slot);
        if (image.kind === "unknown") {
            return image;
        }
        if (image.kind === "pinned") {
            return { ref: image.ref, digest: image.digest, via: "its pin" };
        }
        const recorded = imageFromOutputs(await stack.outputsOf(update), slotAtUpdate(update.config as Record<string, ConfigEntry>, slot));
        if ("reason" in recorded) {
            return { reason: `${naming.describe(update)} built its image and ${recorded.reason}` };
        }
        return {
            ref: `${recorded.repository ?? (await repository())}@${recorded.digest}`,
            digest: recorded.digest,
            via: "its recorded state",
        };
    };
}

/**
 * The resolver rollback and `--list` use: {@link recordedImages}, then, for the stack's newest deployment when it
 * succeeded, the stack's current outputs, then the update's unique `build-<n>` tag in the registry. Each update is
 * looked up once.
 */
export function imageResolver(
    ctx: ToolContext,
    stack: StageStack,
    history: UpdateSummary[],
    repository: () => Promise<string>,
    slot: AppSlot = FIRST_APP,
): ImageResolver {
    const naming = updateNaming(history);
    const newest = lastDeployment(history);
    const cache = new Map<UpdateSummary, Promise<ResolvedImage>>();
    const recorded = recordedImages(stack, history, repository, slot);
    const resolve = async (update: UpdateSummary): Promise<ResolvedImage> => {
        const image = deployedImage(update, history, naming, slot);
        const found = await recorded(update);
        if (image.kind !== "built" || found.digest !== undefined) {
            return found;
        }
        if (update === newest && update.result === "succeeded") {
            // The newest successful update's state is the stack's state now.
            const now = imageFromOutputs(await stack.outputs(), slot);
            if ("digest" in now) {
                return { ref: `${now.repository ?? (await repository())}@${now.digest}`, digest: now.digest, via: "the stack's outputs" };
            }
        }
        if (image.buildTag === undefined) {
            // Its sha-<7> tag would name whatever the last build of that commit pushed: never used.
            const why =
                image.buildNumber === undefined
                    ? "it has no CI build number to find it by"
                    : `its CI build number ${image.buildNumber} is shared with another update`;
            return { reason: `${found.reason}, and ${why}` };
        }
        const repo = await repository();
        const digest = await ctx.registry.resolve(repo, image.buildTag);
        if (digest === undefined) {
            return {
                reason:
                    `${found.reason}, and its tag ${image.buildTag} is not in ${repo} (that update did not rebuild the image, ` +
                    `whose build inputs had not changed, or the lifecycle policy expired it)`,
            };
        }
        return { ref: `${repo}@${digest}`, digest, via: `tag ${image.buildTag}` };
    };
    return (update) => {
        let found = cache.get(update);
        if (!found) {
            found = resolve(update);
            cache.set(update, found);
        }
        return found;
    };
}
