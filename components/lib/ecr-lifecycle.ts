import { CACHE_TAG, TAG_PREFIX } from "../../contracts";

/** Settings for an ECR repository's image lifecycle. */
export interface LifecycleSettings {
    /** Untagged images (superseded build caches, failed pushes) expire after this many days. */
    untaggedExpiryDays: number;
    /** How many images to keep for each tag prefix; older ones expire. */
    keepLastPerPrefix: number;
    /** Tag prefixes to count separately, e.g. `build-` for CI builds. */
    tagPrefixes: string[];
}

/** One rule of an ECR lifecycle policy document, as AWS documents it. */
export interface LifecycleRule {
    rulePriority: number;
    description: string;
    selection: {
        tagStatus: "untagged" | "tagged" | "any";
        tagPrefixList?: string[];
        countType: "sinceImagePushed" | "imageCountMoreThan";
        countUnit?: "days";
        countNumber: number;
    };
    action: { type: "expire" };
}

/**
 * The lifecycle policy JSON for one repository: expire untagged images after N days, keep the last N
 * images of each tag prefix. Priorities are unique and ascending as ECR requires; there is no
 * `tagStatus: any` rule, so an image with a tag outside the prefixes (a release) never expires.
 */
export function ecrLifecyclePolicy(settings: LifecycleSettings): { rules: LifecycleRule[] } {
    const rules: LifecycleRule[] = [
        {
            rulePriority: 1,
            description: `Expire untagged images after ${settings.untaggedExpiryDays} days`,
            selection: {
                tagStatus: "untagged",
                countType: "sinceImagePushed",
                countUnit: "days",
                countNumber: settings.untaggedExpiryDays,
            },
            action: { type: "expire" },
        },
        ...settings.tagPrefixes.map((prefix, i): LifecycleRule => ({
            rulePriority: i + 2,
            description: `Keep the last ${settings.keepLastPerPrefix} images tagged ${prefix}*`,
            selection: {
                tagStatus: "tagged",
                tagPrefixList: [prefix],
                countType: "imageCountMoreThan",
                countNumber: settings.keepLastPerPrefix,
            },
            action: { type: "expire" },
        })),
    ];
    return { rules };
}

/**
 * Tags that must move (`sha-*`, `branch-*` point at the newest build; `buildcache` is rewritten by
 * every build) are excluded from ECR tag immutability; every other tag, `build-<n>` and versions
 * included, can never be overwritten.
 */
export const MUTABLE_TAG_FILTERS = [`${TAG_PREFIX.sha}-*`, `${TAG_PREFIX.branch}-*`, `${CACHE_TAG}*`] as const;
