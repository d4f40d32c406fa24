/**
 * The tag format of app images: what AppImage pushes for a build, and the `build-<n>` tag rollback of a building
 * stage looks up again from an update's recorded CI build number (only that one: `sha-<7>` moves when a commit is
 * rebuilt). One definition, so the two can never drift.
 */
import { prefixedTag } from "../components/lib/image-ref";

/** Where an image came from: stamped on tags, image labels, pod annotations and stack outputs. */
export interface BuildMetadata {
    /** CI build number (or `local`). */
    buildNumber: string;
    /** Branch the build ran on (or `local`). */
    gitBranch: string;
    /** Full or short git commit sha (or `unknown`). */
    gitSha: string;
}

/** Characters of a commit sha in its tag: the length `git log --oneline` shows. */
export const SHORT_SHA_LENGTH = 7;

/** The first {@link SHORT_SHA_LENGTH} characters of a commit sha. */
export function shortSha(sha: string): string {
    return sha.slice(0, SHORT_SHA_LENGTH);
}

/** The prefix of each kind of tag: `<prefix>-<value>`. */
export const TAG_PREFIX = { build: "build", sha: "sha", branch: "branch" } as const;

/** The tag a repository's BuildKit layer cache lives under (kept mutable in ECR on purpose). */
export const CACHE_TAG = "buildcache";

/** One tag of each kind. `build-<n>` is unique per CI run; `sha-<7>` and `branch-<name>` move. */
export const imageTag = {
    build: (buildNumber: string): string => prefixedTag(TAG_PREFIX.build, buildNumber),
    sha: (gitSha: string): string => prefixedTag(TAG_PREFIX.sha, shortSha(gitSha)),
    branch: (gitBranch: string): string => prefixedTag(TAG_PREFIX.branch, gitBranch),
} as const;

/** Tags AppImage pushes for one build, in this order. */
export function imageTags(meta: BuildMetadata): string[] {
    return [imageTag.build(meta.buildNumber), imageTag.sha(meta.gitSha), imageTag.branch(meta.gitBranch)];
}
