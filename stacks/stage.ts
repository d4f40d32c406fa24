import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppDeployment } from "../components/app-deployment";
import { AppImage } from "../components/app-image";
import { BuildImage } from "../components/build-image";
import { Registry, RegistryArgs } from "../components/registry";
import { StageNamespace } from "../components/stage-namespace";
import { ComponentType, isPinnedStage, type AppOutputs, type BuildMetadata, type StackOutputName } from "../contracts";
import { pinnedRefRegistry } from "../components/lib/image-ref";
import { StackConfigError, type StackConfig } from "./config";
import { buildTargetProblems } from "./targets";
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
    /** CI build number of the running image (of the build that made it: an unchanged app is not rebuilt). */
    buildNumber: pulumi.Output<string>;
    /** Git branch the running image was built from. */
    gitBranch: pulumi.Output<string>;
    /** Git commit the running image was built from. */
    gitSha: pulumi.Output<string>;
    /** Every app of the stage by name, the first included: its image, Service and provenance. */
    apps: pulumi.Output<Record<string, AppOutputs>>;
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
 * Composes one stage: Registry → BuildImage → AppImage → AppDeployment, for `slipway:app` and each of
 * `slipway:apps`, in one StageNamespace. Images are built where the config says `source: build` (local, dev); a pinned
 * image runs exactly the digest in the config, and a stage with nothing to build (qa, prod) creates no registry or
 * build resources at all.
 *
 * @param config validated stack config (see `config.ts`)
 * @param buildMetadata where the source came from, for images the stage builds
 * @param options where the project's folder is
 */
export function defineStage(config: StackConfig, buildMetadata: BuildMetadata, options: StageOptions = {}): StackOutputs {
    const at = (configured: string) => projectPath(configured, process.cwd(), options.projectRoot ?? process.cwd());
    const targets = buildTargetProblems(config, at);
    if (targets.length > 0) throw new StackConfigError(targets);
    const provider = new k8s.Provider("k8s", kubernetesProviderArgs(config.kubernetes));
    for (const warning of pinnedBuildingStageWarnings(config, pulumi.getStack())) {
        pulumi.log.warn(warning);
    }
    const moreApps = Object.entries(config.apps);
    // The registry and the build environments live as long as their config does: a building stage pinned by a
    // rollback must not delete its ECR repositories, nor forget the build image it pushed (re-pushing an immutable
    // version tag would fail).
    const registry =
        config.registry &&
        new Registry("registry", registryArgs(config.registry, config.registryPassword, config.app.name, moreRepositories(config)));
    const stageBuildEnv =
        registry &&
        config.buildImage &&
        buildEnvironment("build-env", config, registry, registry.buildRepositoryUrl, config.buildImage, at);
    const buildEnvOf = (name: string, own: BuildImageSettings | undefined): BuildImage | undefined =>
        own === undefined
            ? stageBuildEnv
            : registry &&
              buildEnvironment(`build-env-${name}`, config, registry, registry.repositoryUrls[buildRepositoryOf(name)], own, at);
    const moreBuildEnvs = Object.fromEntries(moreApps.map(([name, app]) => [name, buildEnvOf(name, app.buildImage)]));

    const stageNamespace = new StageNamespace(
        "stage",
        {
            stage: config.stage,
            namespace: config.kubernetes.namespace ?? `${config.app.name}-${config.stage}`,
            labelledAfter: config.app.name,
            quota: config.app.quota,
            defaultResources: config.app.resources,
            // Only a registry that needs credentials to pull has them (ECR nodes pull with their IAM role).
            imagePullCredentials: registry?.pullCredentials,
            // Before 0.3.0 these objects were children of the first app's AppDeployment.
            formerParent: { name: "app", parent: pulumi.createUrn("app", ComponentType.AppDeployment) },
        },
        { providers: { kubernetes: provider } },
    );
    const deployApp = (resourceName: string, app: AppSettings, image: ImageOf, secretEnv: Record<string, string>) =>
        new AppDeployment(
            resourceName,
            {
                appName: app.name,
                stage: config.stage,
                stageNamespace,
                image: image.image.ref,
                buildNumber: image.metadata.buildNumber,
                gitBranch: image.metadata.gitBranch,
                gitSha: image.metadata.gitSha,
                replicas: app.replicas,
                port: app.port,
                metricsPort: app.metricsPort,
                probes: app.probes,
                runAsUser: app.runAsUser,
                runAsGroup: app.runAsGroup,
                metrics: app.metrics,
                env: app.env,
                secretEnv: Object.fromEntries(Object.entries(secretEnv).map(([k, v]) => [k, pulumi.secret(v)])),
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
                monitoring: config.monitoring.enabled ? config.monitoring : undefined,
            },
            { providers: { kubernetes: provider } },
        );

    const first = appImage("app-image", config.image, registry, registry?.appRepositoryUrl, stageBuildEnv, config, buildMetadata, at);
    const firstDeployment = deployApp("app", config.app, first, config.secretEnv);
    const more = moreApps.map(([name, app]) => {
        const image = appImage(
            `app-${name}-image`,
            app.image,
            registry,
            registry?.repositoryUrls[name],
            moreBuildEnvs[name],
            config,
            buildMetadata,
            at,
        );
        return { name, image, deployment: deployApp(`app-${name}`, { ...app, name }, image, app.secretEnv) };
    });

    const appOutputs = (image: ImageOf, deployment: AppDeployment): pulumi.Output<AppOutputs> =>
        pulumi.output({
            imageRef: image.image.ref,
            imageDigest: image.image.digest,
            imageTags: image.image.tags,
            serviceName: deployment.serviceName,
            buildNumber: image.metadata.buildNumber,
            gitBranch: image.metadata.gitBranch,
            gitSha: image.metadata.gitSha,
        });
    return {
        stageName: config.stage,
        // Where the first app's image lives: the stage's own registry, else the pinned ref's host, which the schema has
        // checked against slipway:pullRegistry where the stack file names one.
        registryServer: registry?.server ?? pulumi.output(first.host ?? ""),
        buildImageRef: stageBuildEnv?.ref,
        appImageRef: first.image.ref,
        appImageDigest: first.image.digest,
        appImageTags: first.image.tags,
        namespace: firstDeployment.namespace,
        serviceName: firstDeployment.serviceName,
        apps: pulumi.output({
            [config.app.name]: appOutputs(first, firstDeployment),
            ...Object.fromEntries(more.map(({ name, image, deployment }) => [name, appOutputs(image, deployment)])),
        }),
        buildNumber: first.metadata.buildNumber,
        gitBranch: first.metadata.gitBranch,
        gitSha: first.metadata.gitSha,
    };
}

/** A config path as docker-build gets it (see `projectPath`). */
type ProjectPath = (configured: string) => string;

/** One app's settings, as `slipway:app` and each entry of `slipway:apps` give them. */
type AppSettings = StackConfig["app"] | (StackConfig["apps"][string] & { name: string });
/** A build environment's settings (`slipway:buildImage`, or an app's own). */
type BuildImageSettings = NonNullable<StackConfig["buildImage"]>;

/** An app's image, where it came from, and the registry host it lives on. */
interface ImageOf {
    image: AppImage;
    /** Where the running image came from. */
    metadata: pulumi.Output<BuildMetadata>;
    /** Host of a pinned image's registry (no host: Docker Hub); undefined for an image the stage builds. */
    host?: string;
}

/** The repository of an app's own build environment, beside the app's repository. */
const buildRepositoryOf = (appName: string) => `${appName}-build-env`;

/** The repositories of the stage's other apps, and of their own build environments. */
function moreRepositories(config: StackConfig): string[] {
    return Object.entries(config.apps).flatMap(([name, app]) => [name, ...(app.buildImage === undefined ? [] : [buildRepositoryOf(name)])]);
}

/** An app's image: built FROM its build environment into its repository, or the digest its config pins. */
function appImage(
    resourceName: string,
    image: StackConfig["image"],
    registry: Registry | undefined,
    repositoryUrl: pulumi.Output<string> | undefined,
    buildEnv: BuildImage | undefined,
    config: StackConfig,
    metadata: BuildMetadata,
    at: ProjectPath,
): ImageOf {
    if (image.source === "pinned") {
        const { ref, buildNumber, gitBranch, gitSha } = image;
        const pinned = new AppImage(resourceName, { source: "pinned", ref, metadata: { buildNumber, gitBranch, gitSha } });
        return { image: pinned, metadata: pinned.metadata, host: pinnedRefRegistry(ref) };
    }
    if (registry === undefined || repositoryUrl === undefined || buildEnv === undefined) {
        // The schema requires a registry and a build environment wherever an image is built.
        throw new Error(`${resourceName}: an image built from source needs slipway:registry and a build environment`);
    }
    const built = new AppImage(resourceName, {
        source: "build",
        repositoryUrl,
        credentials: registry.pushCredentials,
        buildImageRef: buildEnv.ref,
        runtimeBaseImage: image.runtimeBaseImage,
        context: at(image.context),
        dockerfile: image.dockerfile,
        target: image.targets.runtime,
        artifactTarget: image.targets.artifact,
        buildArgs: image.buildArgs,
        buildImageArg: image.buildImageArg,
        runtimeBaseImageArg: image.runtimeBaseImageArg,
        metadata,
        platforms: config.build.platforms,
        buildOnPreview: config.build.buildOnPreview,
        exportArtifactsTo: image.exportArtifactsTo === undefined ? undefined : at(image.exportArtifactsTo),
        builder: config.build.builder,
    });
    return { image: built, metadata: built.metadata };
}

/**
 * What to tell the person deploying a stage that builds from source (local, dev) while its stack file pins an app's
 * image, as a rollback leaves it: the update runs that digest and none of that app's changes, whatever they edited
 * since. One warning per pinned app; none where pinning is the stage's normal state (qa, prod).
 *
 * @param config the stack's validated config
 * @param stackName the stack being deployed, whose file holds the pins
 */
export function pinnedBuildingStageWarnings(config: StackConfig, stackName: string): string[] {
    if (isPinnedStage(config.stage)) return [];
    const pins = [
        ...(config.image.source === "pinned" ? [{ key: "slipway:image", ref: config.image.ref, whose: "your" }] : []),
        ...Object.entries(config.apps).flatMap(([name, app]) =>
            app.image.source === "pinned" ? [{ key: `slipway:apps.${name}.image`, ref: app.image.ref, whose: `${name}'s` }] : [],
        ),
    ];
    return pins.map(
        ({ key, ref, whose }) =>
            `stage ${config.stage} builds from source, but Pulumi.${stackName}.yaml pins ${key} to ${ref} ` +
            `(a rollback pins it): this update deploys that image and builds none of ${whose} changes. To build again, restore ` +
            `the ${key} it built with from before the rollback (git revert the rollback's commit, or ` +
            `git checkout <commit before it> -- Pulumi.${stackName}.yaml) and deploy`,
    );
}

/** A versioned build environment, pushed to the stage's registry. */
function buildEnvironment(
    resourceName: string,
    config: StackConfig,
    registry: Registry,
    repositoryUrl: pulumi.Output<string>,
    settings: BuildImageSettings,
    at: ProjectPath,
): BuildImage {
    return new BuildImage(resourceName, {
        repositoryUrl,
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
function registryArgs(
    r: NonNullable<StackConfig["registry"]>,
    password: string | undefined,
    appName: string,
    moreRepositories: string[],
): RegistryArgs {
    const appRepository = r.appRepository ?? appName;
    switch (r.type) {
        case "local":
            return { type: "local", port: r.port, image: r.image, appRepository, buildRepository: r.buildRepository, moreRepositories };
        case "ecr":
            return {
                type: "ecr",
                lifecycle: r.lifecycle,
                kmsKeyArn: r.kmsKeyArn,
                forceDelete: r.forceDelete,
                appRepository,
                buildRepository: r.buildRepository,
                moreRepositories,
            };
        case "external":
            return {
                type: "external",
                server: r.server,
                username: r.username,
                password: password === undefined ? undefined : pulumi.secret(password),
                appRepository,
                buildRepository: r.buildRepository,
                moreRepositories,
            };
    }
}
