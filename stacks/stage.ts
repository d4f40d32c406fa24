import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppDeployment } from "../components/app-deployment";
import { AppImage } from "../components/app-image";
import { BuildImage } from "../components/build-image";
import { Registry, RegistryArgs } from "../components/registry";
import { isPinnedStage, type BuildMetadata, type StackOutputName } from "../contracts";
import { pinnedRefRegistry } from "../components/lib/image-ref";
import type { BuildingStackConfig, PinnedStackConfig, StackConfig } from "./config";
import { projectPath } from "./paths";

/** What a stage exports, by the contract's output names; `promote`, `rollback` and `status` read them. */
export interface StackOutputs {
    /** The stage this stack deploys. */
    stageName: string;
    /** Registry host the app image lives in. */
    registryServer: pulumi.Output<string>;
    /** Build environment by digest; only in stages that build. */
    buildImageRef?: pulumi.Output<string>;
    /** The app image by digest: what promotion copies to the next stage. */
    appImageRef: pulumi.Output<string>;
    /** The app image's digest, `sha256:…`. */
    appImageDigest: pulumi.Output<string>;
    /** Full tag references the build pushed; empty in pinned stages. */
    appImageTags: pulumi.Output<string[]>;
    /** The stage's Kubernetes namespace. */
    namespace: pulumi.Output<string>;
    /** The app's Service, reachable as `<serviceName>.<namespace>`. */
    serviceName: pulumi.Output<string>;
    /** CI build number of the running image. */
    buildNumber: string;
    /** Git branch the running image was built from. */
    gitBranch: string;
    /** Git commit the running image was built from. */
    gitSha: string;
}

// The interface above names exactly the contract's outputs: adding or renaming one fails the typecheck here.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const outputsMatchContract: Exactly<keyof StackOutputs, StackOutputName> = true;
void outputsMatchContract;

/**
 * The explicit Kubernetes provider's arguments. When rendering YAML, `kubeconfig` is an explicit empty string: left
 * undefined, the SDK fills it from $KUBECONFIG, and the provider refuses any kubeconfig beside renderYamlToDirectory
 * (found on the real engine: rendering failed on every machine with KUBECONFIG set).
 */
export function kubernetesProviderArgs(k: StackConfig["kubernetes"]): k8s.ProviderArgs {
    if (k.renderYamlTo !== undefined) {
        return { renderYamlToDirectory: k.renderYamlTo, kubeconfig: "" };
    }
    return { context: k.context, kubeconfig: k.kubeconfig };
}

/** Options of {@link defineStage}. */
export interface StageOptions {
    /**
     * The folder the config's relative paths (`image.context`, `buildImage.context`, `image.exportArtifactsTo`) are
     * relative to: the Pulumi project's folder. Defaults to the working directory, which is the project's folder
     * when Pulumi runs the program (unless Pulumi.yaml's `main:` names a subfolder).
     */
    projectRoot?: string;
}

/**
 * Composes one stage: Registry → BuildImage → AppImage → AppDeployment. Stages that build (local,
 * dev) own the registry and both images; pinned stages (qa, prod) create no registry or build
 * resources at all and run exactly the digest in their config.
 *
 * @param config validated stack config (see `config.ts`)
 * @param buildMetadata where the source came from, for stages that build
 * @param options where the project's folder is
 */
export function defineStage(config: StackConfig, buildMetadata: BuildMetadata, options: StageOptions = {}): StackOutputs {
    const provider = new k8s.Provider("k8s", kubernetesProviderArgs(config.kubernetes));
    const at = (configured: string) => projectPath(configured, process.cwd(), options.projectRoot ?? process.cwd());
    const { registry, buildImage, image, metadata, registryServer } =
        config.imageSource === "build" ? buildingImages(config, buildMetadata, at) : pinnedImages(config, at);

    const app = config.app;
    const deployment = new AppDeployment(
        "app",
        {
            appName: app.name,
            stage: config.stage,
            namespace: config.kubernetes.namespace,
            image: image.ref,
            ...metadata,
            replicas: app.replicas,
            port: app.port,
            metricsPort: app.metricsPort,
            probes: app.probes,
            runAsUser: app.runAsUser,
            runAsGroup: app.runAsGroup,
            metrics: app.metrics,
            env: app.env,
            secretEnv: Object.fromEntries(Object.entries(config.secretEnv).map(([k, v]) => [k, pulumi.secret(v)])),
            configFile: app.configFile,
            resources: app.resources,
            autoscaling: app.autoscaling,
            preStopSeconds: app.preStopSeconds,
            drainSeconds: app.drainSeconds,
            shutdownTimeoutSeconds: app.shutdownTimeoutSeconds,
            allowFrom: app.allowFrom,
            ingress: app.ingress,
            topologySpread: app.topologySpread,
            nodePort: app.nodePort,
            egress: app.egress,
            rolloutTimeoutSeconds: app.rolloutTimeoutSeconds,
            quota: app.quota,
            monitoring: config.monitoring.enabled ? config.monitoring : undefined,
            // Only a registry that needs credentials to pull has them (ECR nodes pull with their IAM role).
            imagePullCredentials: registry?.pullCredentials,
        },
        { providers: { kubernetes: provider } },
    );

    return {
        stageName: config.stage,
        registryServer,
        buildImageRef: buildImage?.ref,
        appImageRef: image.ref,
        appImageDigest: image.digest,
        appImageTags: image.tags,
        namespace: deployment.namespace,
        serviceName: deployment.serviceName,
        ...metadata,
    };
}

/** A config path as docker-build gets it (see `projectPath`). */
type ProjectPath = (configured: string) => string;

/** The image side of a stage: which registry and build environment it keeps, and the app image it runs. */
interface StageImages {
    registry?: Registry;
    buildImage?: BuildImage;
    image: AppImage;
    /** Where the running image came from. */
    metadata: BuildMetadata;
    /** Host the running image lives on. */
    registryServer: pulumi.Output<string>;
}

/** A building stage: its registry, its build environment, and the app image built FROM it. */
function buildingImages(config: BuildingStackConfig, metadata: BuildMetadata, at: ProjectPath): StageImages {
    const registry = new Registry("registry", registryArgs(config.registry, config.registryPassword, config.app.name));
    const buildImage = buildEnvironment(config, registry, config.buildImage, at);
    const image = new AppImage("app-image", {
        source: "build",
        repositoryUrl: registry.appRepositoryUrl,
        credentials: registry.pushCredentials,
        buildImageRef: buildImage.ref,
        runtimeBaseImage: config.image.runtimeBaseImage,
        context: at(config.image.context),
        dockerfile: config.image.dockerfile,
        target: config.image.targets.runtime,
        artifactTarget: config.image.targets.artifact,
        buildArgs: config.image.buildArgs,
        buildImageArg: config.image.buildImageArg,
        runtimeBaseImageArg: config.image.runtimeBaseImageArg,
        metadata,
        platforms: config.build.platforms,
        buildOnPreview: config.build.buildOnPreview,
        exportArtifactsTo: config.image.exportArtifactsTo === undefined ? undefined : at(config.image.exportArtifactsTo),
        builder: config.build.builder,
    });
    return { registry, buildImage, image, metadata, registryServer: registry.server };
}

/**
 * A pinned stage runs the digest in its config. The registry and the build environment live as long as their config
 * does: a building stage pinned by a rollback must not delete its ECR repositories, nor forget the build image it
 * pushed (re-pushing an immutable version tag would fail).
 */
function pinnedImages(config: PinnedStackConfig, at: ProjectPath): StageImages {
    const { ref, buildNumber, gitBranch, gitSha } = config.image;
    const pinnedWhereItBuilds = pinnedBuildingStageWarning(config, pulumi.getStack());
    if (pinnedWhereItBuilds !== undefined) pulumi.log.warn(pinnedWhereItBuilds);
    const registry = config.registry && new Registry("registry", registryArgs(config.registry, config.registryPassword, config.app.name));
    const buildImage = registry && config.buildImage && buildEnvironment(config, registry, config.buildImage, at);
    // Where the running image lives: the stage's own registry, else the pinned ref's host (no host: Docker Hub), which
    // the schema has checked against slipway:pullRegistry where the stack file names one.
    const host = pinnedRefRegistry(ref);
    return {
        registry,
        buildImage,
        image: new AppImage("app-image", { source: "pinned", ref }),
        metadata: { buildNumber, gitBranch, gitSha },
        registryServer: registry?.server ?? pulumi.output(host),
    };
}

/**
 * What to tell the person deploying a stage that builds from source (local, dev) while its stack file pins an image,
 * as a rollback leaves it: the update runs that digest and none of their changes, whatever they edited since.
 * `undefined` where pinning is the stage's normal state (qa, prod).
 *
 * @param config the stack's validated config, pinned
 * @param stackName the stack being deployed, whose file holds the pin
 */
export function pinnedBuildingStageWarning(config: PinnedStackConfig, stackName: string): string | undefined {
    if (isPinnedStage(config.stage)) return undefined;
    return (
        `stage ${config.stage} builds from source, but Pulumi.${stackName}.yaml pins slipway:image to ${config.image.ref} ` +
        `(a rollback pins it): this update deploys that image and builds none of your changes. To build again, restore ` +
        `the slipway:image it built with from before the rollback (git revert the rollback's commit, or ` +
        `git checkout <commit before it> -- Pulumi.${stackName}.yaml) and deploy`
    );
}

/** The versioned build environment, pushed to the stage's registry. */
function buildEnvironment(
    config: StackConfig,
    registry: Registry,
    settings: NonNullable<StackConfig["buildImage"]>,
    at: ProjectPath,
): BuildImage {
    return new BuildImage("build-env", {
        repositoryUrl: registry.buildRepositoryUrl,
        credentials: registry.pushCredentials,
        version: settings.version,
        baseImage: settings.baseImage,
        context: at(settings.context),
        platforms: config.build.platforms,
        buildOnPreview: config.build.buildOnPreview,
        builder: config.build.builder,
    });
}

/** Component arguments from the registry config; the app repository defaults to the app's name. */
function registryArgs(r: NonNullable<StackConfig["registry"]>, password: string | undefined, appName: string): RegistryArgs {
    const appRepository = r.appRepository ?? appName;
    switch (r.type) {
        case "local":
            return { type: "local", port: r.port, image: r.image, appRepository, buildRepository: r.buildRepository };
        case "ecr":
            return {
                type: "ecr",
                lifecycle: r.lifecycle,
                kmsKeyArn: r.kmsKeyArn,
                forceDelete: r.forceDelete,
                appRepository,
                buildRepository: r.buildRepository,
            };
        case "external":
            return {
                type: "external",
                server: r.server,
                username: r.username,
                password: password === undefined ? undefined : pulumi.secret(password),
                appRepository,
                buildRepository: r.buildRepository,
            };
    }
}
