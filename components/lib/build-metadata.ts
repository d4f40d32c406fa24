import type { BuildMetadata } from "../../contracts";

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
