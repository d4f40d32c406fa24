import { prefixedTag } from "./image-ref";

/** Where an image came from: stamped on tags, image labels, pod annotations and stack outputs. */
export interface BuildMetadata {
    /** CI build number (or `local`). */
    buildNumber: string;
    /** Branch the build ran on (or `local`). */
    gitBranch: string;
    /** Full or short git commit sha (or `unknown`). */
    gitSha: string;
}

/** What a local checkout can tell us when no CI variables are set. */
export interface LocalGitInfo {
    branch?: string;
    sha?: string;
}

/**
 * Build metadata from the environment. Slipway's own variables win (CI sets them explicitly),
 * then GitHub Actions' built-ins, then the local git checkout, then stable local fallbacks, so a
 * developer's `pulumi up -s local` works with nothing set.
 */
export function resolveBuildMetadata(env: NodeJS.ProcessEnv, git: LocalGitInfo = {}): BuildMetadata {
    const first = (...values: (string | undefined)[]) => values.find((v) => v !== undefined && v.trim() !== "")?.trim();
    return {
        buildNumber: first(env.SLIPWAY_BUILD_NUMBER, env.GITHUB_RUN_NUMBER) ?? "local",
        gitBranch: first(env.SLIPWAY_GIT_BRANCH, env.GITHUB_HEAD_REF, env.GITHUB_REF_NAME, git.branch) ?? "local",
        gitSha: first(env.SLIPWAY_GIT_SHA, env.GITHUB_SHA, git.sha) ?? "unknown",
    };
}

/** The first seven characters of a commit sha, the length `git log --oneline` shows. */
export function shortSha(sha: string): string {
    return sha.slice(0, 7);
}

/**
 * Tags AppImage pushes for one build. `build-<n>` is unique per CI run and stays immutable;
 * `sha-<7>` and `branch-<name>` are moving pointers for humans and for rollback of building stacks.
 */
export function imageTags(meta: BuildMetadata): string[] {
    return [prefixedTag("build", meta.buildNumber), prefixedTag("sha", shortSha(meta.gitSha)), prefixedTag("branch", meta.gitBranch)];
}
