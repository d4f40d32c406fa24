/**
 * Pure logic over `stack.history()`: which image an update deployed, whether a stack's last update succeeded, and
 * which earlier update a rollback goes back to. No I/O here; tested with plain `UpdateSummary` records.
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { IMAGE_CONFIG_KEY, lookupTags, pinnedImageSchema, UNKNOWN } from "../contracts";
import { parsePinnedRef } from "./image-ref";
import { refused } from "./errors";
import { deployments, findDeployment, lastDeployment, updateNaming, type UpdateNaming } from "./updates";

/** Environment keys the Pulumi CLI records with every update. */
export const HistoryEnv = {
    gitHead: "git.head",
    gitHeadName: "git.headName",
    /** `"true"` when the working tree had uncommitted changes. */
    gitDirty: "git.dirty",
    ciBuildNumber: "ci.build.number",
} as const;

/** The image an update deployed, as far as history can tell. */
export type DeployedImage =
    | {
          /** A qa/prod-style update: the digest is in the update's config, so it is exact. */
          kind: "pinned";
          ref: string;
          repository: string;
          digest: string;
          buildNumber?: string;
          gitBranch?: string;
          gitSha?: string;
      }
    | {
          /** A dev-style update that built its image: it is found again through the tags AppImage pushed. */
          kind: "built";
          /** Registry tags to try, most exact first: `sha-<7>`, then `build-<n>` (only `build-<n>` for a dirty build). */
          tags: string[];
          buildNumber?: string;
          gitBranch?: string;
          gitSha?: string;
          /** Built from uncommitted changes: found again by its unique CI build number only. */
          dirty?: boolean;
      }
    | {
          /** Nothing usable: no image config, a malformed pin, or a build without git sha or build number. */
          kind: "unknown";
          reason: string;
      };

/**
 * A structured config value as an object: `pulumi stack history --json` sends it both as JSON text and as
 * `objectValue`; `pulumi config get` only as text. `undefined` when absent, not JSON or not an object.
 */
export function configObject(entry: { value?: string; objectValue?: unknown } | undefined): Record<string, unknown> | undefined {
    if (!entry) {
        return undefined;
    }
    if (entry.objectValue && typeof entry.objectValue === "object") {
        return entry.objectValue as Record<string, unknown>;
    }
    if (typeof entry.value !== "string") {
        return undefined;
    }
    try {
        const parsed: unknown = JSON.parse(entry.value);
        return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/** Reads the `slipway:image` object from an update's config; `undefined` when absent or not JSON. */
export function imageConfigOf(update: UpdateSummary): Record<string, unknown> | undefined {
    return configObject(update.config?.[IMAGE_CONFIG_KEY] as { value?: string; objectValue?: unknown } | undefined);
}

/** Provenance the pin recorded, or undefined where it says it is unknown. */
const known = (v: string): string | undefined => (v === UNKNOWN ? undefined : v);

/** `refs/heads/main` → `main`; other values unchanged. */
function branchName(headName: string | undefined): string | undefined {
    return headName?.replace(/^refs\/heads\//, "") || undefined;
}

/**
 * Works out which image an update deployed. `history` (the stack's whole history) and `naming` tell a built update's
 * CI build number apart from other updates' and name the update in reasons.
 */
export function deployedImage(
    update: UpdateSummary,
    history: readonly UpdateSummary[] = [update],
    naming = updateNaming(history),
): DeployedImage {
    const name = naming.describe(update);
    const image = imageConfigOf(update);
    if (!image) {
        return { kind: "unknown", reason: `${name} has no ${IMAGE_CONFIG_KEY} config` };
    }
    if (image.source === "pinned") {
        // The program's own schema: an update whose pin the program would refuse tells nothing reliable.
        const pin = pinnedImageSchema.safeParse(image);
        if (!pin.success) {
            const problems = pin.error.issues.map((i) => `${["image", ...i.path].join(".")}: ${i.message}`).join("; ");
            return { kind: "unknown", reason: `${name}'s ${IMAGE_CONFIG_KEY} is not a valid pin (${problems})` };
        }
        const ref = parsePinnedRef(pin.data.ref, `${name}'s image.ref`);
        return {
            kind: "pinned",
            ref: `${ref.repository}@${ref.digest}`,
            repository: ref.repository,
            digest: ref.digest,
            buildNumber: known(pin.data.buildNumber),
            gitBranch: known(pin.data.gitBranch),
            gitSha: known(pin.data.gitSha),
        };
    }
    const env = update.environment ?? {};
    const gitSha = /^[0-9a-f]{7,40}$/.test(env[HistoryEnv.gitHead] ?? "") ? env[HistoryEnv.gitHead] : undefined;
    const buildNumber = /^[0-9]+$/.test(env[HistoryEnv.ciBuildNumber] ?? "") ? env[HistoryEnv.ciBuildNumber] : undefined;
    const gitBranch = branchName(env[HistoryEnv.gitHeadName]);
    if (env[HistoryEnv.gitDirty] === "true") {
        // Built from uncommitted changes: its sha-<7> tag names whatever the last build of that commit pushed, maybe a
        // later image. Only a CI build number no other update shares still names exactly this build.
        if (buildNumber !== undefined && buildNumberCount(history, buildNumber) === 1) {
            return { kind: "built", tags: lookupTags({ buildNumber }), buildNumber, gitSha, gitBranch, dirty: true };
        }
        return {
            kind: "unknown",
            reason: `${name} was built from uncommitted changes (${HistoryEnv.gitDirty}), so its sha tag may name a later image, and it has no unique ${HistoryEnv.ciBuildNumber}`,
        };
    }
    // The tags AppImage pushed for that commit and build (contracts/tags.ts).
    const tags = lookupTags({ gitSha, buildNumber });
    if (tags.length === 0) {
        return {
            kind: "unknown",
            reason: `${name} built its image but recorded neither ${HistoryEnv.gitHead} nor ${HistoryEnv.ciBuildNumber}`,
        };
    }
    return { kind: "built", tags, buildNumber, gitSha, gitBranch };
}

/** How many deployments of `history` recorded this CI build number. */
function buildNumberCount(history: readonly UpdateSummary[], buildNumber: string): number {
    return deployments(history).filter((u) => u.environment?.[HistoryEnv.ciBuildNumber] === buildNumber).length;
}

/** A key that is equal for two updates that ran the same image (digest, else git sha, else build number). */
function identity(image: DeployedImage): string | undefined {
    switch (image.kind) {
        case "pinned":
            return image.digest;
        case "built":
            return image.gitSha && !image.dirty ? `git:${image.gitSha}` : image.tags[0];
        default:
            return undefined;
    }
}

/**
 * Refuses unless the stack's newest deployment succeeded: promotion must never carry forward the outputs of a
 * stack whose last update failed or is still running (its outputs may not match what runs).
 */
export function requireLastDeploymentSucceeded(stackName: string, history: UpdateSummary[]): UpdateSummary {
    const last = lastDeployment(history);
    if (!last) {
        throw refused(`stack ${stackName} has never been deployed: nothing to promote`);
    }
    if (last.result !== "succeeded") {
        const naming = updateNaming(history);
        const which = naming.numbered ? `version ${last.version}` : `started ${naming.address(last)}`;
        throw refused(
            `stack ${stackName}'s last update (${which}) ${last.result === "failed" ? "failed" : `is ${last.result}`}: ` +
                `refusing to promote across it; fix or roll back ${stackName} first`,
        );
    }
    return last;
}

/** What a rollback goes back to. */
export interface RollbackTarget {
    /** The update whose image is restored. */
    update: UpdateSummary;
    /** The image it deployed (never `unknown`). */
    image: Exclude<DeployedImage, { kind: "unknown" }>;
    /** The stack's newest deployment, for the message. */
    current: UpdateSummary;
    /** How this stack's updates are named (version or start time). */
    naming: UpdateNaming;
}

/**
 * Picks the update a rollback restores.
 *
 * - With `to` (a version, or a start time in UTC: see tools/updates.ts): that update, which must be a successful
 *   deployment with a known image.
 * - Otherwise, when the newest deployment failed (or is stuck in progress): the newest successful one, i.e. the
 *   last known-good image, even if it is the image of the failed update's predecessor.
 * - Otherwise: the newest successful deployment before the current one that ran a *different* image (an update
 *   that changed only replicas or config would make the rollback a no-op).
 *
 * Updates whose image cannot be found again (no pin, a dirty build without a unique CI build number) are skipped.
 * Throws a refusal that says why when there is nothing to roll back to.
 */
export function pickRollbackTarget(stackName: string, history: UpdateSummary[], to?: string): RollbackTarget {
    const naming = updateNaming(history);
    const all = deployments(history);
    const current = all[0];
    if (!current) {
        throw refused(`stack ${stackName} has never been deployed: nothing to roll back to`);
    }
    const imageOf = (u: UpdateSummary) => deployedImage(u, history, naming);
    if (to !== undefined) {
        const chosen = findDeployment(stackName, history, to);
        if (chosen.result !== "succeeded") {
            throw refused(`stack ${stackName}'s ${naming.describe(chosen)} ${chosen.result}: only a successful update can be restored`);
        }
        const image = imageOf(chosen);
        if (image.kind === "unknown") {
            throw refused(`cannot restore ${naming.describe(chosen)} of stack ${stackName}: ${image.reason}`);
        }
        return { update: chosen, image, current, naming };
    }

    const succeeded = all.filter((u) => u.result === "succeeded");
    const currentImage = current.result === "succeeded" ? identity(imageOf(current)) : undefined;
    // Newest first, so every deployment after the current one is earlier.
    const candidates = all.slice(1).filter((u) => u.result === "succeeded");
    const skipped: string[] = [];
    for (const update of candidates) {
        const image = imageOf(update);
        if (image.kind === "unknown") {
            skipped.push(image.reason);
            continue;
        }
        if (currentImage !== undefined && identity(image) === currentImage) {
            continue;
        }
        return { update, image, current, naming };
    }
    const why =
        succeeded.length === 0
            ? "no update of it ever succeeded"
            : candidates.length === 0
              ? `${naming.describe(current)} is its only successful update`
              : skipped.length === candidates.length
                ? "no earlier successful update recorded a usable image"
                : `every earlier successful update ran the image that runs now (${naming.describe(current)})`;
    throw refused(`nothing to roll back to on stack ${stackName}: ${why}` + (skipped.length ? `; skipped ${skipped.join("; ")}` : ""));
}
