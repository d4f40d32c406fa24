/**
 * Pure logic over `stack.history()`: which image an update deployed, whether a stack's last update succeeded, and
 * which earlier update a rollback goes back to. No I/O here; tested with plain `UpdateSummary` records.
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { IMAGE_CONFIG_KEY, lookupTags, pinnedImageSchema, UNKNOWN } from "../contracts";
import { parsePinnedRef } from "./image-ref";
import { refused } from "./errors";

/** Environment keys the Pulumi CLI records with every update. */
export const HistoryEnv = {
    gitHead: "git.head",
    gitHeadName: "git.headName",
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
          /** Registry tags to try, most exact first: `sha-<7>`, then `build-<n>`. */
          tags: string[];
          buildNumber?: string;
          gitBranch?: string;
          gitSha?: string;
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

/** Works out which image an update deployed. */
export function deployedImage(update: UpdateSummary): DeployedImage {
    const image = imageConfigOf(update);
    if (!image) {
        return { kind: "unknown", reason: `update ${update.version} has no ${IMAGE_CONFIG_KEY} config` };
    }
    if (image.source === "pinned") {
        // The program's own schema: an update whose pin the program would refuse tells nothing reliable.
        const pin = pinnedImageSchema.safeParse(image);
        if (!pin.success) {
            const problems = pin.error.issues.map((i) => `${["image", ...i.path].join(".")}: ${i.message}`).join("; ");
            return { kind: "unknown", reason: `update ${update.version}'s ${IMAGE_CONFIG_KEY} is not a valid pin (${problems})` };
        }
        const ref = parsePinnedRef(pin.data.ref, `update ${update.version}'s image.ref`);
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
    // The tags AppImage pushed for that commit and build (contracts/tags.ts).
    const tags = lookupTags({ gitSha, buildNumber });
    if (tags.length === 0) {
        return {
            kind: "unknown",
            reason: `update ${update.version} built its image but recorded neither ${HistoryEnv.gitHead} nor ${HistoryEnv.ciBuildNumber}`,
        };
    }
    return { kind: "built", tags, buildNumber, gitSha, gitBranch: branchName(env[HistoryEnv.gitHeadName]) };
}

/** A key that is equal for two updates that ran the same image (digest, else git sha, else build number). */
function identity(image: DeployedImage): string | undefined {
    switch (image.kind) {
        case "pinned":
            return image.digest;
        case "built":
            return image.gitSha ? `git:${image.gitSha}` : image.tags[0];
        default:
            return undefined;
    }
}

/** Deployments only (`kind: update`), newest first, whatever order the backend returned. */
export function deployments(history: UpdateSummary[]): UpdateSummary[] {
    return history.filter((u) => u.kind === "update").sort((a, b) => b.version - a.version);
}

/** The newest deployment, or `undefined` for a stack that was never updated. */
export function lastDeployment(history: UpdateSummary[]): UpdateSummary | undefined {
    return deployments(history)[0];
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
        throw refused(
            `stack ${stackName}'s last update (version ${last.version}) ${last.result === "failed" ? "failed" : `is ${last.result}`}: ` +
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
}

/**
 * Picks the update a rollback restores.
 *
 * - With `toVersion`: that update, which must be a successful deployment with a known image.
 * - Otherwise, when the newest deployment failed (or is stuck in progress): the newest successful one, i.e. the
 *   last known-good image, even if it is the image of the failed update's predecessor.
 * - Otherwise: the newest successful deployment before the current one that ran a *different* image (an update
 *   that changed only replicas or config would make the rollback a no-op).
 *
 * Throws a refusal that says why when there is nothing to roll back to.
 */
export function pickRollbackTarget(stackName: string, history: UpdateSummary[], toVersion?: number): RollbackTarget {
    const all = deployments(history);
    const current = all[0];
    if (!current) {
        throw refused(`stack ${stackName} has never been deployed: nothing to roll back to`);
    }
    if (toVersion !== undefined) {
        const chosen = all.find((u) => u.version === toVersion);
        if (!chosen) {
            const known = all.map((u) => u.version).join(", ");
            throw refused(`stack ${stackName} has no deployment with version ${toVersion} (deployments: ${known})`);
        }
        if (chosen.result !== "succeeded") {
            throw refused(`stack ${stackName}'s update ${toVersion} ${chosen.result}: only a successful update can be restored`);
        }
        const image = deployedImage(chosen);
        if (image.kind === "unknown") {
            throw refused(`cannot restore update ${toVersion} of stack ${stackName}: ${image.reason}`);
        }
        return { update: chosen, image, current };
    }

    const succeeded = all.filter((u) => u.result === "succeeded");
    const currentImage = current.result === "succeeded" ? identity(deployedImage(current)) : undefined;
    const candidates = current.result === "succeeded" ? succeeded.filter((u) => u.version < current.version) : succeeded;
    const skipped: string[] = [];
    for (const update of candidates) {
        const image = deployedImage(update);
        if (image.kind === "unknown") {
            skipped.push(`version ${update.version}: ${image.reason}`);
            continue;
        }
        if (currentImage !== undefined && identity(image) === currentImage) {
            continue;
        }
        return { update, image, current };
    }
    const why =
        succeeded.length === 0
            ? "no update of it ever succeeded"
            : candidates.length === 0
              ? `update ${current.version} is its only successful update`
              : skipped.length === candidates.length
                ? "no earlier successful update recorded a usable image"
                : `every earlier successful update ran the image that runs now (update ${current.version})`;
    throw refused(`nothing to roll back to on stack ${stackName}: ${why}` + (skipped.length ? `; skipped ${skipped.join("; ")}` : ""));
}
