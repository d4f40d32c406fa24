/**
 * Pure logic over `stack.history()`: which image an update deployed, whether a stack's last update succeeded, which
 * earlier update a rollback goes back to, and whether a pin still needs an `up`. Images are compared by digest only.
 * No I/O here: where a digest must be looked up (a built image), the caller passes an {@link ImageResolver}; tests
 * pass plain functions.
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { imageTag, pinnedImageSchema, UNKNOWN } from "../contracts";
import { FIRST_APP, imageConfigInUpdate, imageConfigPath, type AppSlot, type ConfigEntry } from "./app-slot";
import { parsePinnedRef, shortDigest } from "./image-ref";
import { refused } from "./errors";
import {
    deployments,
    findDeployment,
    lastDeployment,
    parseUpdateAddress,
    UPDATE_ADDRESS_HELP,
    updateNaming,
    type UpdateNaming,
} from "./updates";

/**
 * What every rollback's `up` message starts with, so a later rollback knows the newest deployment restored an
 * earlier image (and does not take the image it replaced for "the previous one").
 */
export const ROLLBACK_MESSAGE_PREFIX = "slipway rollback:";

/** True when `update` was made by `rollback` (its message starts with {@link ROLLBACK_MESSAGE_PREFIX}). */
export function isRollback(update: UpdateSummary): boolean {
    return (update.message ?? "").startsWith(ROLLBACK_MESSAGE_PREFIX);
}

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
          /**
           * A dev-style update that built its image: its digest is read back from the state the update left, else
           * found through {@link buildTag}. Never through `sha-<7>`: a rebuild of the same commit moves that tag.
           */
          kind: "built";
          /** `build-<n>` when the update recorded a CI build number no other deployment shares; else undefined. */
          buildTag?: string;
          buildNumber?: string;
          gitBranch?: string;
          gitSha?: string;
          /** Built from uncommitted changes (the git sha alone does not say what was built). */
          dirty?: boolean;
      }
    | {
          /** Nothing usable: no image config, or a malformed pin. */
          kind: "unknown";
          reason: string;
      };

/** Reads the app's image object (`slipway:image`, by default) from an update's config; `undefined` when absent or not JSON. */
export function imageConfigOf(update: UpdateSummary, slot: AppSlot = FIRST_APP): Record<string, unknown> | undefined {
    return imageConfigInUpdate(update.config as Record<string, ConfigEntry> | undefined, slot);
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
    slot: AppSlot = FIRST_APP,
): DeployedImage {
    const name = naming.describe(update);
    const image = imageConfigOf(update, slot);
    if (!image) {
        return { kind: "unknown", reason: `${name} has no ${imageConfigPath(slot)} config` };
    }
    if (image.source === "pinned") {
        // The program's own schema: an update whose pin the program would refuse tells nothing reliable.
        const pin = pinnedImageSchema.safeParse(image);
        if (!pin.success) {
            const problems = pin.error.issues.map((i) => `${["image", ...i.path].join(".")}: ${i.message}`).join("; ");
            return { kind: "unknown", reason: `${name}'s ${imageConfigPath(slot)} is not a valid pin (${problems})` };
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
    // A re-run of a CI build pushes build-<n> again, so the tag names this image only when no other update shares n.
    const buildTag = buildNumber !== undefined && buildNumberCount(history, buildNumber) === 1 ? imageTag.build(buildNumber) : undefined;
    return {
        kind: "built",
        buildTag,
        buildNumber,
        gitSha,
        gitBranch,
        ...(env[HistoryEnv.gitDirty] === "true" ? { dirty: true } : {}),
    };
}

/** How many deployments of `history` recorded this CI build number. */
function buildNumberCount(history: readonly UpdateSummary[], buildNumber: string): number {
    return deployments(history).filter((u) => u.environment?.[HistoryEnv.ciBuildNumber] === buildNumber).length;
}

/** The digest an update deployed and where it was found, or why it cannot be found. */
export type ResolvedImage =
    | {
          /** `repo@sha256:…`. */
          ref: string;
          digest: string;
          /** Where the digest came from, for messages: `its pin`, `its recorded state`, `tag build-90`. */
          via: string;
      }
    | { ref?: undefined; digest?: undefined; reason: string };

/** Looks up the digest an update of the stack's history deployed (registry or state reads behind it). */
export type ImageResolver = (update: UpdateSummary) => Promise<ResolvedImage>;

/**
 * The short form of a resolved image for one-line listings: `sha256:0123456789ab`, or `unknown: <reason>`.
 */
export function describeResolved(image: ResolvedImage): string {
    return image.digest === undefined ? `unknown: ${image.reason}` : shortDigest(image.digest);
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

/** An image history could read: pinned or built. */
type KnownImage = Exclude<DeployedImage, { kind: "unknown" }>;

/** What a rollback goes back to. */
export interface RollbackTarget {
    /** The update whose image is restored. */
    update: UpdateSummary;
    /** The image it deployed (never `unknown`): its build metadata. */
    image: KnownImage;
    /** Its digest, and where that was found. */
    resolved: Extract<ResolvedImage, { digest: string }>;
    /** The stack's newest deployment, for the message. */
    current: UpdateSummary;
    /** How this stack's updates are named (version or start time). */
    naming: UpdateNaming;
    /**
     * Newer successful updates passed over because their image cannot be found any more (why, one each): the target is
     * then further back than "the previous image", and the person rolling back must be told.
     */
    skipped: string[];
}

/**
 * The deployment an address names. `build:<n>` and `sha:<hex>` pick the newest *successful* deployment of that CI
 * build or commit (as its pin or the CLI's environment recorded it); a version or start time goes to
 * {@link findDeployment}. Throws a refusal that says what exists.
 */
export function findTarget(
    stackName: string,
    history: readonly UpdateSummary[],
    address: string,
    slot: AppSlot = FIRST_APP,
): UpdateSummary {
    const parsed = parseUpdateAddress(address);
    if (parsed === undefined || parsed.kind === "previous") {
        throw refused(`${JSON.stringify(address)} names no update: ${UPDATE_ADDRESS_HELP}`);
    }
    if (parsed.kind !== "build" && parsed.kind !== "sha") {
        return findDeployment(stackName, history, address);
    }
    const naming = updateNaming(history);
    const matching = deployments(history).filter((u) => {
        const image = deployedImage(u, history, naming, slot);
        if (image.kind === "unknown") {
            return false;
        }
        return parsed.kind === "build" ? image.buildNumber === parsed.buildNumber : (image.gitSha ?? "").startsWith(parsed.prefix);
    });
    const what = parsed.kind === "build" ? `CI build ${parsed.buildNumber}` : `commit ${parsed.prefix}`;
    const chosen = matching.find((u) => u.result === "succeeded");
    if (!chosen) {
        throw refused(
            matching.length === 0
                ? `stack ${stackName} has no deployment of ${what}`
                : `no deployment of ${what} on stack ${stackName} succeeded (${matching.map((u) => `${naming.describe(u)} ${u.result}`).join(", ")})`,
        );
    }
    return chosen;
}

/**
 * Picks the update a rollback restores, comparing images by digest (`resolve` looks them up).
 *
 * - With `to` (see {@link findTarget}; `previous` is the default): that update, which must be a successful
 *   deployment whose digest can be found.
 * - Otherwise, when the newest deployment failed (or is stuck in progress): the newest successful one, i.e. the
 *   last known-good image, even if it is the image of the failed update's predecessor.
 * - Otherwise: the newest successful deployment before the current one that ran a *different* digest (an update
 *   that changed only replicas or config would make the rollback a no-op). When the current deployment is itself a
 *   rollback, the search starts before the newest earlier update that deployed the current digest: the image the
 *   rollback replaced is the bad one, and the next one back is before the original of what runs now.
 *
 * Updates whose digest cannot be found are skipped, with their reason in the refusal when nothing is left.
 */
export async function pickRollbackTarget(
    stackName: string,
    history: UpdateSummary[],
    resolve: ImageResolver,
    to?: string,
    slot: AppSlot = FIRST_APP,
): Promise<RollbackTarget> {
    const naming = updateNaming(history);
    const all = deployments(history);
    const current = all[0];
    if (!current) {
        throw refused(`stack ${stackName} has never been deployed: nothing to roll back to`);
    }
    const imageOf = (u: UpdateSummary) => deployedImage(u, history, naming, slot);
    if (to !== undefined && to !== "previous") {
        const chosen = findTarget(stackName, history, to, slot);
        if (chosen.result !== "succeeded") {
            throw refused(`stack ${stackName}'s ${naming.describe(chosen)} ${chosen.result}: only a successful update can be restored`);
        }
        const image = imageOf(chosen);
        const resolved: ResolvedImage = image.kind === "unknown" ? { reason: image.reason } : await resolve(chosen);
        if (resolved.digest === undefined) {
            throw refused(`cannot restore ${naming.describe(chosen)} of stack ${stackName}: ${resolved.reason}`);
        }
        return { update: chosen, image: image as KnownImage, resolved, current, naming, skipped: [] };
    }

    let earlier = all.slice(1);
    let currentDigest: string | undefined;
    let original: UpdateSummary | undefined;
    if (current.result === "succeeded") {
        currentDigest = (await resolve(current)).digest;
        if (currentDigest !== undefined && isRollback(current)) {
            for (const [i, u] of earlier.entries()) {
                if (u.result === "succeeded" && (await resolve(u)).digest === currentDigest) {
                    original = u;
                    earlier = earlier.slice(i + 1);
                    break;
                }
            }
        }
    }
    const candidates = earlier.filter((u) => u.result === "succeeded");
    const skipped: string[] = [];
    for (const update of candidates) {
        const image = imageOf(update);
        const resolved: ResolvedImage = image.kind === "unknown" ? { reason: image.reason } : await resolve(update);
        if (resolved.digest === undefined) {
            skipped.push(resolved.reason);
            continue;
        }
        if (resolved.digest === currentDigest) {
            continue;
        }
        return { update, image: image as KnownImage, resolved, current, naming, skipped };
    }
    const runsNow = `it would only redeploy the image that runs now (${currentDigest ? shortDigest(currentDigest) : naming.describe(current)})`;
    const why = !all.some((u) => u.result === "succeeded")
        ? "no update of it ever succeeded"
        : original
          ? `${naming.describe(current)} rolled back to the image of ${naming.describe(original)}, and no successful update ` +
            `before that one ran another image: rolling back again would only redeploy the image that runs now (${shortDigest(currentDigest ?? "")})`
          : candidates.length === 0
            ? `${naming.describe(current)} is its only successful update`
            : skipped.length === candidates.length
              ? "no earlier successful update recorded a usable image"
              : `every earlier successful update ran the image that runs now (${naming.describe(current)}): ${runsNow}`;
    throw refused(`nothing to roll back to on stack ${stackName}: ${why}` + (skipped.length ? `; skipped ${skipped.join("; ")}` : ""));
}

/**
 * Whether pinning `targetDigest` needs an `up` although the checkout is already pinned to it: it does unless the
 * stack's newest deployment succeeded and deployed exactly that digest (`lastDigest`, as the deployment itself
 * recorded it). The checkout's Pulumi.<stack>.yaml says what someone meant to run, not what runs: after a failed
 * `up` whose pin was never committed, the two differ. Returns why it must deploy, or `undefined` when nothing is to do.
 */
export function redeployReason(
    stackName: string,
    history: readonly UpdateSummary[],
    targetDigest: string,
    lastDigest: string | undefined,
): string | undefined {
    const last = lastDeployment(history);
    if (!last) {
        return `stack ${stackName} has never been deployed`;
    }
    const which = `the last update (${updateNaming(history).address(last)})`;
    if (last.result !== "succeeded") {
        return `${which} ${last.result === "failed" ? "failed" : `is ${last.result}`}`;
    }
    if (lastDigest === undefined) {
        return `${which} recorded no digest, so what runs is not known`;
    }
    return lastDigest === targetDigest ? undefined : `${which} deployed ${shortDigest(lastDigest)}`;
}
