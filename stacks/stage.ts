import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppDeployment } from "../components/app-deployment";
import { AppImage } from "../components/app-image";
import { BuildImage } from "../components/build-image";
import { Registry, RegistryArgs, RegistryCredentials } from "../components/registry";
import type { BuildMetadata, StackOutputName } from "../contracts";
import { parsePinnedRef, splitRegistry } from "../components/lib/image-ref";
import type { StackConfig } from "./config";
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
    appImageDigest: pulumi.Output<string>;
    appImageTags: pulumi.Output<string[]>;
    namespace: pulumi.Output<string>;
    serviceName: pulumi.Output<string>;
    buildNumber: string;
    gitBranch: string;
    gitSha: string;
}

// The interface above names exactly the contract's outputs: adding or renaming one fails the typecheck here.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const outputsMatchContract: Exactly<keyof StackOutputs, StackOutputName> = true;
void outputsMatchContract;

/**
 * Composes one stage: Registry → BuildImage → AppImage → AppDeployment. Stages that build (local,
 * dev) own the registry and both images; pinned stages (qa, prod) create no registry or build
 * resources at all and run exactly the digest in their config.
 *
 * @param config validated stack config (see `config.ts`)
 * @param buildMetadata where the source came from, for stages that build
 */
export function defineStage(config: StackConfig, buildMetadata: BuildMetadata): StackOutputs {
    const provider = new k8s.Provider("k8s", {
        context: config.kubernetes.context,
        kubeconfig: config.kubernetes.kubeconfig,
        renderYamlToDirectory: config.kubernetes.renderYamlTo,
    });
    const registryPassword = config.registryPassword === undefined ? undefined : pulumi.secret(config.registryPassword);
    const external = config.registry?.type === "external" ? config.registry : undefined;
    // Only an external registry needs an image pull secret: ECR nodes pull with their IAM role,
    // and the local registry is open on the node's loopback.
    const pullCredentials: pulumi.Output<RegistryCredentials> | undefined =
        external && registryPassword
            ? pulumi.secret(registryPassword.apply((password) => ({ server: external.server, username: external.username, password })))
            : undefined;

    // The registry and the build environment live as long as their config does, whatever the app image's
    // source: a building stage pinned by a rollback must not delete its ECR repositories, nor forget the
    // build image it pushed (re-pushing an immutable version tag would fail).
    const registry =
        config.registry &&
        new Registry(
            "registry",
            registryArgs(config.registry, config.registryPassword === undefined ? undefined : registryPassword, config.app.name),
        );
    const buildImage =
        registry &&
        config.buildImage &&
        new BuildImage("build-env", {
            repositoryUrl: registry.buildRepositoryUrl,
            credentials: registry.pushCredentials,
            version: config.buildImage.version,
            baseImage: config.buildImage.baseImage,
            context: projectPath(config.buildImage.context),
            platforms: config.build.platforms,
            buildOnPreview: config.build.buildOnPreview,
            builder: config.build.builder,
        });

    let image: AppImage;
    let metadata: BuildMetadata;
    if (config.image.source === "build") {
        // The config schema requires a registry and a build image for stages that build.
        metadata = buildMetadata;
        image = new AppImage("app-image", {
            source: "build",
            repositoryUrl: registry!.appRepositoryUrl,
            credentials: registry!.pushCredentials,
            buildImageRef: buildImage!.ref,
            runtimeBaseImage: config.image.runtimeBaseImage,
            context: projectPath(config.image.context),
            metadata,
            platforms: config.build.platforms,
            buildOnPreview: config.build.buildOnPreview,
            exportArtifactsTo: config.image.exportArtifactsTo === undefined ? undefined : projectPath(config.image.exportArtifactsTo),
            builder: config.build.builder,
        });
    } else {
        metadata = { buildNumber: config.image.buildNumber, gitBranch: config.image.gitBranch, gitSha: config.image.gitSha };
        image = new AppImage("app-image", { source: "pinned", ref: config.image.ref });
    }
    // Where the running image lives: the stage's own registry, else the pinned ref's host (no host: Docker Hub).
    const registryServer =
        registry?.server ??
        pulumi.output(splitRegistry(parsePinnedRef((config.image as { ref: string }).ref)!.repository).registry || "docker.io");

    const app = config.app;
    const deployment = new AppDeployment(
        "app",
        {
            appName: app.name,
            stage: config.stage,
            namespace: `${app.name}-${config.stage}`,
            image: image.ref,
            buildNumber: metadata.buildNumber,
            gitBranch: metadata.gitBranch,
            gitSha: metadata.gitSha,
            replicas: app.replicas,
            port: app.port,
            metricsPort: app.metricsPort,
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
            quota: app.quota,
            monitoring: config.monitoring.enabled ? config.monitoring : undefined,
            imagePullCredentials: pullCredentials,
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

function registryArgs(r: NonNullable<StackConfig["registry"]>, password: pulumi.Output<string> | undefined, appName: string): RegistryArgs {
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
            // The config schema refuses an external registry without a password.
            return {
                type: "external",
                server: r.server,
                username: r.username,
                password: password!,
                appRepository,
                buildRepository: r.buildRepository,
            };
    }
}
