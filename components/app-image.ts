import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ComponentType, IMAGE_LABELS, imageTags, TARGET_NAME, UNKNOWN, type BuildMetadata, type RegistryCredentials } from "../contracts";
import { BUILD_DEFAULTS } from "./defaults";
import {
    appBuildArgs,
    buildArgProblems,
    builderConfig,
    CONTENT_INPUTS,
    metadataOfBuildArgs,
    ociLabels,
    PROVENANCE_INPUTS,
    registryCache,
    registryLogins,
} from "./lib/build-settings";
import { isDigestPinned, parsePinnedRef } from "./lib/image-ref";

/** Build the app image from source (dev, local). */
export interface AppImageBuildSource {
    source: "build";
    /** `server/repository` the app image is pushed to. */
    repositoryUrl: pulumi.Input<string>;
    /** Push credentials (secret). Defaults to none, for a registry open to pushes. */
    credentials?: pulumi.Input<RegistryCredentials>;
    /** The build environment by digest (`…@sha256:…`): every build stage starts FROM it. */
    buildImageRef: pulumi.Input<string>;
    /** Base of the runtime stage, pinned by digest. Defaults to `node:24-bookworm-slim` by digest. */
    runtimeBaseImage?: string;
    /** Build context folder. Defaults to `app`. */
    context?: string;
    /** The multi-stage Dockerfile, relative to {@link AppImageBuildSource.context}. Defaults to `Dockerfile`. */
    dockerfile?: string;
    /** The Dockerfile stage that is built, pushed and deployed. Defaults to `runtime`. */
    target?: string;
    /** The stage exported with {@link AppImageBuildSource.exportArtifactsTo}. Defaults to `artifact`. */
    artifactTarget?: string;
    /**
     * The app's own build args, by `ARG` name. Never one Slipway passes: the two image args below, `BUILD_NUMBER`,
     * `GIT_BRANCH`, `GIT_SHA`. Defaults to none.
     */
    buildArgs?: Record<string, string>;
    /** Name of the build arg carrying {@link AppImageBuildSource.buildImageRef}. Defaults to `BUILD_IMAGE`. */
    buildImageArg?: string;
    /** Name of the build arg carrying {@link AppImageBuildSource.runtimeBaseImage}. Defaults to `RUNTIME_BASE_IMAGE`. */
    runtimeBaseImageArg?: string;
    /** Where the build came from; becomes tags, labels and build args. */
    metadata: BuildMetadata;
    /** Target platforms. Defaults to `["linux/amd64"]`. */
    platforms?: dockerBuild.Platform[];
    /** Build during `pulumi preview` too. Defaults to `false`: CI previews never build or push. */
    buildOnPreview?: boolean;
    /** Name of the buildx builder. Defaults to the current builder. */
    builder?: string;
    /** Also export the artifact target (the sample's compiled output) to this local folder. Defaults to no export. */
    exportArtifactsTo?: string;
}

/** Run an image that was built and pushed before (qa, prod, rollback): no build resources at all. */
export interface AppImagePinnedSource {
    source: "pinned";
    /** `server/repository@sha256:<64 hex>`. */
    ref: string;
    /** Where the image came from, as its pin records it. Defaults to `unknown` for each. */
    metadata?: BuildMetadata;
}

/** Arguments of {@link AppImage}. */
export type AppImageArgs = AppImageBuildSource | AppImagePinnedSource;

/** The Dockerfile stage Kubernetes runs, unless the app names another. */
export const RUNTIME_TARGET = BUILD_DEFAULTS.targets.runtime;
/** The stage exported by `exportArtifactsTo` (the sample's `FROM scratch` stage with the compiled output), unless named. */
export const ARTIFACT_TARGET = BUILD_DEFAULTS.targets.artifact;

/**
 * The application image, resolved to an immutable `repo@sha256:…` whether it is built here or
 * pinned from config. Kubernetes only ever sees {@link AppImage.ref}.
 */
export class AppImage extends pulumi.ComponentResource {
    /** `server/repository@sha256:…`: the only reference that should reach a cluster. */
    public readonly ref: pulumi.Output<string>;
    /** `sha256:…`. */
    public readonly digest: pulumi.Output<string>;
    /** Full tag references pushed by the build that made the image (`server/repository:build-42`, …); empty when pinned. */
    public readonly tags: pulumi.Output<string[]>;
    /**
     * Where the image came from: for a pinned image, what its pin says; for a built one, the build that made it. That
     * is an earlier build where the app's build inputs have not changed since (the image is then not rebuilt).
     */
    public readonly metadata: pulumi.Output<BuildMetadata>;

    constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentType.AppImage, name, {}, opts);
        if (args.source === "pinned") {
            const pinned = parsePinnedRef(args.ref);
            if (pinned === undefined) {
                throw new pulumi.InputPropertyError({
                    propertyPath: "ref",
                    reason: `ref must be <repository>@sha256:<64 hex>, got ${JSON.stringify(args.ref)}`,
                });
            }
            this.ref = pulumi.output(args.ref);
            this.digest = pulumi.output(pinned.digest);
            this.tags = pulumi.output([]);
            this.metadata = pulumi.output(args.metadata ?? { buildNumber: UNKNOWN, gitBranch: UNKNOWN, gitSha: UNKNOWN });
        } else {
            const runtimeBaseImage = args.runtimeBaseImage ?? BUILD_DEFAULTS.baseImage;
            const location = args.context ?? BUILD_DEFAULTS.appContext;
            const platforms = args.platforms ?? BUILD_DEFAULTS.platforms;
            const buildOnPreview = args.buildOnPreview ?? BUILD_DEFAULTS.buildOnPreview;
            if (!isDigestPinned(runtimeBaseImage)) {
                throw new pulumi.InputPropertyError({
                    propertyPath: "runtimeBaseImage",
                    reason: `runtimeBaseImage must be pinned by digest, got ${JSON.stringify(runtimeBaseImage)}`,
                });
            }
            const argSettings = {
                buildImageArg: args.buildImageArg ?? BUILD_DEFAULTS.buildImageArg,
                runtimeBaseImageArg: args.runtimeBaseImageArg ?? BUILD_DEFAULTS.runtimeBaseImageArg,
                buildArgs: args.buildArgs ?? {},
            };
            const target = args.target ?? BUILD_DEFAULTS.targets.runtime;
            const artifactTarget = args.artifactTarget ?? BUILD_DEFAULTS.targets.artifact;
            const problems = buildArgProblems(argSettings);
            for (const [key, value] of [
                ["target", target],
                ["artifactTarget", artifactTarget],
            ] as const) {
                if (!TARGET_NAME.test(value)) problems.push([key, `expected a Dockerfile stage name, got ${JSON.stringify(value)}`]);
            }
            if (problems.length > 0) {
                throw new pulumi.InputPropertyError({
                    propertyPath: problems[0][0],
                    reason: `AppImage ${name}: ${problems.map(([key, reason]) => `${key}: ${reason}`).join("; ")}`,
                });
            }
            const buildImageRef = pulumi.output(args.buildImageRef).apply((ref) => {
                // Unknown during a preview that skips builds; checked as soon as it is known.
                if (!isDigestPinned(ref)) {
                    throw new Error(`AppImage ${name}: buildImageRef must be pinned by digest, got ${JSON.stringify(ref)}`);
                }
                return ref;
            });
            const buildArgs = appBuildArgs(argSettings, { buildImage: buildImageRef, runtimeBaseImage }, args.metadata);
            const context = { location };
            const dockerfile = { location: path.join(location, args.dockerfile ?? BUILD_DEFAULTS.dockerfile) };
            const cache = registryCache(args.repositoryUrl);
            const tags = pulumi.output(args.repositoryUrl).apply((url) => imageTags(args.metadata).map((tag) => `${url}:${tag}`));
            // The image is rebuilt when what goes into it changes, never for provenance alone; a rebuild is a
            // replacement, created with the current provenance. The replaced image stays in the registry: history,
            // rollback and the stages it was promoted to still run it by digest.
            const rebuildOnContentOnly: pulumi.CustomResourceOptions = {
                ignoreChanges: [...PROVENANCE_INPUTS],
                replaceOnChanges: [...CONTENT_INPUTS],
                retainOnDelete: true,
            };
            const image = new dockerBuild.Image(
                name,
                {
                    context,
                    dockerfile,
                    target,
                    buildArgs,
                    labels: ociLabels({
                        title: name,
                        version: args.metadata.buildNumber,
                        revision: args.metadata.gitSha,
                        extra: {
                            [IMAGE_LABELS.buildNumber]: args.metadata.buildNumber,
                            [IMAGE_LABELS.gitBranch]: args.metadata.gitBranch,
                        },
                    }),
                    platforms,
                    tags,
                    push: true,
                    registries: registryLogins(args.credentials),
                    ...cache,
                    buildOnPreview,
                    ...builderConfig(args.builder),
                },
                { parent: this, ...rebuildOnContentOnly },
            );
            if (args.exportArtifactsTo !== undefined) {
                // Same stages, same cache: only the last stage differs, so this costs one extra copy.
                new dockerBuild.Image(
                    `${name}-artifacts`,
                    {
                        context,
                        dockerfile,
                        target: artifactTarget,
                        buildArgs,
                        platforms,
                        push: false,
                        exports: [{ local: { dest: args.exportArtifactsTo } }],
                        cacheFrom: cache.cacheFrom,
                        registries: registryLogins(args.credentials),
                        buildOnPreview,
                        ...builderConfig(args.builder),
                    },
                    { parent: this, ...rebuildOnContentOnly },
                );
            }
            this.digest = image.digest;
            // What the image resource recorded: the inputs of the build that made the image.
            this.tags = image.tags.apply((recorded) => recorded ?? []);
            this.metadata = image.buildArgs.apply((recorded) => metadataOfBuildArgs(recorded, args.metadata));
            // docker-build's own `ref` names just one of the tags; build the digest reference ourselves.
            this.ref = pulumi.interpolate`${args.repositoryUrl}@${image.digest}`;
        }
        this.registerOutputs({ ref: this.ref, digest: this.digest, tags: this.tags, metadata: this.metadata });
    }
}
