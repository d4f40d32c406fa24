import * as pulumi from "@pulumi/pulumi";
import { ComponentType, type RegistryCredentials } from "../contracts";
import { REGISTRY_DEFAULTS } from "./defaults";
import { ecrLifecyclePolicy, LifecycleSettings, MUTABLE_TAG_FILTERS } from "./lib/ecr-lifecycle";
import { isDigestPinned } from "./lib/image-ref";
import { awsSdk, dockerSdk } from "./lib/optional-sdks";

export type { RegistryCredentials } from "../contracts";

interface RepositoryNames {
    /** Repository of the application image, e.g. `hello`. */
    appRepository: string;
    /** Repository of the shared build environment image. Defaults to `slipway-build-env`. */
    buildRepository?: string;
    /**
     * More repositories, for a stage's other apps and their build environments: {@link Registry.repositoryUrls} names
     * each. Defaults to none.
     */
    moreRepositories?: string[];
}

/** An ECR registry: one private repository per image, created and governed here. */
export interface EcrRegistryArgs extends RepositoryNames {
    type: "ecr";
    /**
     * Expiry of untagged images and how many images to keep per tag prefix. Defaults to untagged images expiring after
     * 7 days and the last 30 images tagged `build-*` kept.
     */
    lifecycle?: LifecycleSettings;
    /** Customer-managed KMS key for encryption at rest. Defaults to the AWS-managed ECR key. */
    kmsKeyArn?: string;
    /** Allow `pulumi destroy` to delete repositories that still hold images. Defaults to `false`. */
    forceDelete?: boolean;
}

/**
 * A registry that already exists (Harbor, GHCR, Artifactory, or an open registry on loopback); Slipway creates
 * nothing in it.
 */
export interface ExternalRegistryArgs extends RepositoryNames {
    type: "external";
    /** Registry host (and port), e.g. `registry.example.com` or `127.0.0.1:5001`. */
    server: string;
    /**
     * User that pushes images (and that the cluster pulls with). Defaults to none: an open registry, with no push
     * credentials and no image pull secret.
     */
    username?: string;
    /** That user's password or token; required exactly when `username` is set. Keep it a Pulumi secret. */
    password?: pulumi.Input<string>;
}

/** "Run your own": a `registry:2` container on this machine's Docker engine, published on 127.0.0.1 only. */
export interface LocalRegistryArgs extends RepositoryNames {
    type: "local";
    /** Host port on 127.0.0.1. Defaults to `5001`. */
    port?: number;
    /** The registry image, pinned by digest. Defaults to `registry:2.8.3` by digest. */
    image?: string;
}

/** Arguments of {@link Registry}: one of the three registry kinds. */
export type RegistryArgs = EcrRegistryArgs | ExternalRegistryArgs | LocalRegistryArgs;

/** What each registry kind provides. */
interface Endpoints {
    server: pulumi.Output<string>;
    appRepositoryUrl: pulumi.Output<string>;
    buildRepositoryUrl: pulumi.Output<string>;
    repositoryUrls: Record<string, pulumi.Output<string>>;
    pushCredentials?: pulumi.Output<RegistryCredentials>;
    pullCredentials?: pulumi.Output<RegistryCredentials>;
}

/**
 * Where Slipway's two images live. Outputs the registry server, both repository URLs, push credentials (secret) and,
 * where the cluster needs them to pull, pull credentials (secret).
 */
export class Registry extends pulumi.ComponentResource {
    /** Registry host, e.g. `127.0.0.1:5001`. */
    public readonly server: pulumi.Output<string>;
    /** `server/repository` of the application image. */
    public readonly appRepositoryUrl: pulumi.Output<string>;
    /** `server/repository` of the build environment image. */
    public readonly buildRepositoryUrl: pulumi.Output<string>;
    /** `server/repository` of each of {@link RepositoryNames.moreRepositories}, by repository name. */
    public readonly repositoryUrls: Record<string, pulumi.Output<string>>;
    /** Credentials for pushing (secret), or `undefined` for a registry that takes pushes without them. */
    public readonly pushCredentials: pulumi.Output<RegistryCredentials> | undefined;
    /**
     * Credentials the cluster needs to pull (secret; an image pull secret is made from them), or `undefined` when
     * nodes pull on their own: ECR through the node role, a local or open registry without auth. Known when the
     * component is constructed, so callers can decide whether to create a pull secret.
     */
    public readonly pullCredentials: pulumi.Output<RegistryCredentials> | undefined;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentType.Registry, name, {}, opts);
        const endpoints = (() => {
            switch (args.type) {
                case "ecr":
                    return this.ecr(name, args);
                case "external":
                    return this.external(args);
                case "local":
                    return this.local(name, args);
            }
        })();
        this.server = endpoints.server;
        this.appRepositoryUrl = endpoints.appRepositoryUrl;
        this.buildRepositoryUrl = endpoints.buildRepositoryUrl;
        this.repositoryUrls = endpoints.repositoryUrls;
        this.pushCredentials = endpoints.pushCredentials;
        this.pullCredentials = endpoints.pullCredentials;
        this.registerOutputs({
            server: this.server,
            appRepositoryUrl: this.appRepositoryUrl,
            buildRepositoryUrl: this.buildRepositoryUrl,
            pushCredentials: this.pushCredentials,
            pullCredentials: this.pullCredentials,
        });
    }

    private ecr(name: string, args: EcrRegistryArgs): Endpoints {
        const aws = awsSdk();
        const lifecycle = args.lifecycle ?? REGISTRY_DEFAULTS.lifecycle;
        const repository = (suffix: string, repositoryName: string) => {
            const repo = new aws.ecr.Repository(
                `${name}-${suffix}`,
                {
                    name: repositoryName,
                    imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
                    imageTagMutabilityExclusionFilters: MUTABLE_TAG_FILTERS.map((filter) => ({
                        filter,
                        filterType: "WILDCARD",
                    })),
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [
                        args.kmsKeyArn === undefined ? { encryptionType: "KMS" } : { encryptionType: "KMS", kmsKey: args.kmsKeyArn },
                    ],
                    forceDelete: args.forceDelete ?? REGISTRY_DEFAULTS.forceDelete,
                },
                { parent: this },
            );
            new aws.ecr.LifecyclePolicy(
                `${name}-${suffix}-lifecycle`,
                { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy(lifecycle)) },
                { parent: this },
            );
            return repo;
        };
        const app = repository("app", args.appRepository);
        const build = repository("build", args.buildRepository ?? REGISTRY_DEFAULTS.buildRepository);
        const more = Object.fromEntries(
            (args.moreRepositories ?? []).map((repo) => [repo, repository(`repo-${repo}`, repo).repositoryUrl]),
        );
        // The token is valid for 12 hours: fine for a push during `pulumi up`, wrong for a cluster,
        // whose nodes pull from ECR with their own IAM role instead.
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: app.registryId }, { parent: this });
        const server = app.repositoryUrl.apply((url) => url.split("/")[0]);
        return {
            server,
            appRepositoryUrl: app.repositoryUrl,
            buildRepositoryUrl: build.repositoryUrl,
            repositoryUrls: more,
            pushCredentials: pulumi.secret(
                pulumi
                    .all([server, token])
                    .apply(([s, t]): RegistryCredentials => ({ server: s, username: t.userName, password: t.password })),
            ),
        };
    }

    private external(args: ExternalRegistryArgs): Endpoints {
        const endpoints = {
            server: pulumi.output(args.server),
            appRepositoryUrl: pulumi.output(`${args.server}/${args.appRepository}`),
            buildRepositoryUrl: pulumi.output(`${args.server}/${args.buildRepository ?? REGISTRY_DEFAULTS.buildRepository}`),
            repositoryUrls: Object.fromEntries(
                (args.moreRepositories ?? []).map((repo) => [repo, pulumi.output(`${args.server}/${repo}`)]),
            ),
        };
        if (args.username === undefined) {
            if (args.password !== undefined) {
                throw new pulumi.InputPropertyError({
                    propertyPath: "password",
                    reason: "a password without a username: set username too, or neither for an open registry",
                });
            }
            return endpoints;
        }
        if (args.password === undefined) {
            throw new pulumi.InputPropertyError({ propertyPath: "password", reason: `username ${args.username} needs a password` });
        }
        const username = args.username;
        const credentials = pulumi.secret(
            pulumi.output(args.password).apply((password): RegistryCredentials => ({ server: args.server, username, password })),
        );
        return { ...endpoints, pushCredentials: credentials, pullCredentials: credentials };
    }

    private local(name: string, args: LocalRegistryArgs): Endpoints {
        const registryImage = args.image ?? REGISTRY_DEFAULTS.localImage;
        const port = args.port ?? REGISTRY_DEFAULTS.localPort;
        if (!isDigestPinned(registryImage)) {
            throw new pulumi.InputPropertyError({
                propertyPath: "image",
                reason: `the local registry image must be pinned by digest (…@sha256:…), got ${registryImage}`,
            });
        }
        const docker = dockerSdk();
        const image = new docker.RemoteImage(`${name}-image`, { name: registryImage, keepLocally: true }, { parent: this });
        // A named volume keeps pushed images across container restarts and re-creation.
        const volume = new docker.Volume(`${name}-data`, {}, { parent: this });
        const container = new docker.Container(
            `${name}-registry`,
            {
                image: image.imageId,
                restart: "unless-stopped",
                ports: [{ internal: 5000, external: port, ip: "127.0.0.1" }],
                volumes: [{ volumeName: volume.name, containerPath: "/var/lib/registry" }],
                envs: ["REGISTRY_STORAGE_DELETE_ENABLED=true"],
            },
            { parent: this },
        );
        const server = pulumi.interpolate`127.0.0.1:${container.ports.apply((ports) => ports?.[0]?.external ?? port)}`;
        return {
            server,
            appRepositoryUrl: pulumi.interpolate`${server}/${args.appRepository}`,
            buildRepositoryUrl: pulumi.interpolate`${server}/${args.buildRepository ?? REGISTRY_DEFAULTS.buildRepository}`,
            repositoryUrls: Object.fromEntries((args.moreRepositories ?? []).map((repo) => [repo, pulumi.interpolate`${server}/${repo}`])),
        };
    }
}
