import type * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_ARG_NAME, CACHE_TAG, SLIPWAY_BUILD_ARGS, type BuildMetadata, type RegistryCredentials } from "../../contracts";

/**
 * Registry-backed layer cache for one repository. `imageManifest` and `ociMediaTypes` make the cache
 * an ordinary OCI image, which ECR requires; `mode: max` caches intermediate stages too, so the
 * `deps` stage (the slow `npm ci`) is reused on a one-line source change.
 */
export function registryCache(repositoryUrl: pulumi.Input<string>): {
    cacheFrom: dockerBuild.types.input.CacheFromArgs[];
    cacheTo: dockerBuild.types.input.CacheToArgs[];
} {
    const ref = pulumi.interpolate`${repositoryUrl}:${CACHE_TAG}`;
    return {
        cacheFrom: [{ registry: { ref } }],
        cacheTo: [{ registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true } }],
    };
}

/** docker-build `registries` from optional push credentials (none for an open registry). */
export function registryLogins(
    credentials: pulumi.Input<RegistryCredentials> | undefined,
): pulumi.Input<dockerBuild.types.input.RegistryArgs[]> {
    if (credentials === undefined) {
        return [];
    }
    return pulumi.output(credentials).apply((c) => [{ address: c.server, username: c.username, password: pulumi.secret(c.password) }]);
}

/** docker-build `builder` setting: omitted to use the current builder. */
export function builderConfig(name: string | undefined): { builder?: dockerBuild.types.input.BuilderConfigArgs } {
    return name === undefined ? {} : { builder: { name } };
}

/** OCI image labels (https://github.com/opencontainers/image-spec/blob/main/annotations.md). */
export function ociLabels(labels: {
    title: string;
    version: string;
    /** Source commit; omitted where it is not known (the build environment is versioned, not per commit). */
    revision?: string;
    source?: string;
    extra?: Record<string, string>;
}): Record<string, string> {
    return {
        "org.opencontainers.image.title": labels.title,
        "org.opencontainers.image.version": labels.version,
        ...(labels.revision === undefined ? {} : { "org.opencontainers.image.revision": labels.revision }),
        ...(labels.source === undefined ? {} : { "org.opencontainers.image.source": labels.source }),
        ...labels.extra,
    };
}

/** How an app's Dockerfile receives what Slipway passes it, and what else it is given. */
export interface AppBuildArgSettings {
    /** Name of the build arg carrying the build environment by digest. */
    buildImageArg: string;
    /** Name of the build arg carrying the runtime base image by digest. */
    runtimeBaseImageArg: string;
    /** The app's own build args. */
    buildArgs: Record<string, string>;
}

/**
 * Every bad build-arg name, as `[property, reason]`: names must be ARG names, the two image args distinct, and the app's
 * own args must not take a name Slipway passes (the image args, BUILD_NUMBER, GIT_BRANCH, GIT_SHA).
 */
export function buildArgProblems(s: AppBuildArgSettings): [string, string][] {
    const problems: [string, string][] = [];
    const grammar = "expected a build arg name ([A-Za-z_][A-Za-z0-9_]*)";
    for (const key of ["buildImageArg", "runtimeBaseImageArg"] as const) {
        if (!BUILD_ARG_NAME.test(s[key])) problems.push([key, `${grammar}, got ${JSON.stringify(s[key])}`]);
    }
    if (s.buildImageArg === s.runtimeBaseImageArg) {
        problems.push(["runtimeBaseImageArg", `expected a name different from buildImageArg (${s.buildImageArg})`]);
    }
    const own = new Set<string>([s.buildImageArg, s.runtimeBaseImageArg, ...SLIPWAY_BUILD_ARGS]);
    for (const name of Object.keys(s.buildArgs)) {
        if (!BUILD_ARG_NAME.test(name)) problems.push([`buildArgs.${name}`, grammar]);
        else if (own.has(name)) problems.push([`buildArgs.${name}`, "is passed by Slipway itself; choose another name"]);
    }
    return problems;
}

/** The app build's args: the app's own, then the images and the build metadata under Slipway's names. */
export function appBuildArgs(
    s: AppBuildArgSettings,
    images: { buildImage: pulumi.Input<string>; runtimeBaseImage: string },
    metadata: BuildMetadata,
): Record<string, pulumi.Input<string>> {
    return {
        ...s.buildArgs,
        [s.buildImageArg]: images.buildImage,
        [s.runtimeBaseImageArg]: images.runtimeBaseImage,
        BUILD_NUMBER: metadata.buildNumber,
        GIT_BRANCH: metadata.gitBranch,
        GIT_SHA: metadata.gitSha,
    };
}

/**
 * The app image's inputs that only record where a build came from (its number, branch and commit, as build args, labels
 * and tags), or only say how to run the build (`buildOnPreview`, `builder`). Given as the image's `ignoreChanges`, a new
 * commit that leaves an app's build inputs as they were builds and rolls nothing of that app: the image keeps the
 * provenance of the build that made it.
 */
export const PROVENANCE_INPUTS: readonly string[] = [
    ...SLIPWAY_BUILD_ARGS.map((name) => `buildArgs.${name}`),
    "labels",
    "tags",
    "buildOnPreview",
    "builder",
];

/**
 * Every other difference makes another image, or the same one pushed elsewhere (a repository, cache or registry login
 * that changed): given as the image's `replaceOnChanges`, it builds a replacement, created with every current input,
 * the provenance and tags too. An in-place update would build with the recorded tags and push to where they point.
 */
export const CONTENT_INPUTS: readonly string[] = ["*"];

/**
 * The provenance an image was built with, read back from the build args it recorded ({@link appBuildArgs}); where one
 * is missing (an image recorded before they were), the one given.
 */
export function metadataOfBuildArgs(recorded: Record<string, string> | undefined, given: BuildMetadata): BuildMetadata {
    return {
        buildNumber: recorded?.BUILD_NUMBER ?? given.buildNumber,
        gitBranch: recorded?.GIT_BRANCH ?? given.gitBranch,
        gitSha: recorded?.GIT_SHA ?? given.gitSha,
    };
}
