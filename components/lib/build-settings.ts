import type * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { CACHE_TAG, type RegistryCredentials } from "../../contracts";

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
