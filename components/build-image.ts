import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { isDigestPinned, TAG_PATTERN } from "./lib/image-ref";
import { builderConfig, ociLabels, registryCache, registryLogins } from "./lib/build-settings";
import { ComponentType, type RegistryCredentials } from "../contracts";
import { BUILD_DEFAULTS } from "./defaults";

/** Arguments of {@link BuildImage}. */
export interface BuildImageArgs {
    /** `server/repository` the build environment is pushed to. */
    repositoryUrl: pulumi.Input<string>;
    /** Push credentials for that registry (secret). Defaults to none, for a registry open to pushes. */
    credentials?: pulumi.Input<RegistryCredentials>;
    /** Version of the build environment: the tag it is pushed under. Bump it with every Dockerfile change. */
    version: string;
    /**
     * Base image, pinned by digest; passed as build arg `BASE_IMAGE`. Defaults to `node:24-bookworm-slim` by digest.
     */
    baseImage?: string;
    /** Build context folder holding the `Dockerfile`. Defaults to `build-image`. */
    context?: string;
    /** Target platforms. Defaults to `["linux/amd64"]`. */
    platforms?: dockerBuild.Platform[];
    /** Build during `pulumi preview` too. Defaults to `false`: CI previews never build or push. */
    buildOnPreview?: boolean;
    /** Name of the buildx builder. Defaults to the current builder. */
    builder?: string;
}

/**
 * The versioned build environment everyone builds in: the app image's stages start FROM its digest,
 * and CI runs the app's tests inside it, so "works on my machine" and CI mean the same toolchain.
 */
export class BuildImage extends pulumi.ComponentResource {
    /** The image by digest: `server/repository@sha256:…`. */
    public readonly ref: pulumi.Output<string>;
    /** `sha256:…` of the pushed manifest. */
    public readonly digest: pulumi.Output<string>;
    /** The version tag pushed, `server/repository:<version>`. */
    public readonly versionTag: pulumi.Output<string>;

    constructor(name: string, args: BuildImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentType.BuildImage, name, {}, opts);
        const baseImage = args.baseImage ?? BUILD_DEFAULTS.baseImage;
        const context = args.context ?? BUILD_DEFAULTS.buildImageContext;
        if (!isDigestPinned(baseImage)) {
            throw new pulumi.InputPropertyError({
                propertyPath: "baseImage",
                reason: `baseImage must be pinned by digest (<image>@sha256:<64 hex>), got ${JSON.stringify(baseImage)}`,
            });
        }
        if (!TAG_PATTERN.test(args.version)) {
            throw new pulumi.InputPropertyError({
                propertyPath: "version",
                reason: `version must be a valid image tag, got ${JSON.stringify(args.version)}`,
            });
        }
        this.versionTag = pulumi.interpolate`${args.repositoryUrl}:${args.version}`;
        const image = new dockerBuild.Image(
            `${name}`,
            {
                context: { location: context },
                dockerfile: { location: path.join(context, "Dockerfile") },
                buildArgs: { BASE_IMAGE: baseImage, BUILD_IMAGE_VERSION: args.version },
                labels: ociLabels({ title: "slipway-build-env", version: args.version }),
                platforms: args.platforms ?? BUILD_DEFAULTS.platforms,
                tags: [this.versionTag],
                push: true,
                registries: registryLogins(args.credentials),
                ...registryCache(args.repositoryUrl),
                buildOnPreview: args.buildOnPreview ?? BUILD_DEFAULTS.buildOnPreview,
                ...builderConfig(args.builder),
            },
            { parent: this },
        );
        this.digest = image.digest;
        // `ref` of docker-build names one of several tags; the digest is what must be deployed.
        this.ref = pulumi.interpolate`${args.repositoryUrl}@${image.digest}`;
        this.registerOutputs({ ref: this.ref, digest: this.digest, versionTag: this.versionTag });
    }
}
