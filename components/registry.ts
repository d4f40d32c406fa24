import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ecrLifecyclePolicy, LifecycleSettings, MUTABLE_TAG_FILTERS } from "./lib/ecr-lifecycle";
import { ComponentType, type RegistryCredentials } from "../contracts";
import { isDigestPinned } from "./lib/image-ref";

export type { RegistryCredentials } from "../contracts";

interface RepositoryNames {
    /** Repository of the application image, e.g. `hello`. */
    appRepository: string;
    /** Repository of the shared build environment image, e.g. `slipway-build-env`. */
    buildRepository: string;
}

/** An ECR registry: one private repository per image, created and governed here. */
export interface EcrRegistryArgs extends RepositoryNames {
    type: "ecr";
    /** Expiry of untagged images and how many images to keep per tag prefix. */
    lifecycle: LifecycleSettings;
    /** Customer-managed KMS key for encryption at rest; the AWS-managed ECR key when omitted. */
    kmsKeyArn?: string;
    /** Allow `pulumi destroy` to delete repositories that still hold images. */
    forceDelete: boolean;
}

/** A registry that already exists (Harbor, GHCR, Artifactory, …); Slipway creates nothing in it. */
export interface ExternalRegistryArgs extends RepositoryNames {
    type: "external";
    /** Registry host (and port), e.g. `registry.example.com`. */
    server: string;
    /** User that pushes images (and that the cluster pulls with). */
    username: string;
    /** That user's password or token; keep it a Pulumi secret. */
    password: pulumi.Input<string>;
}

/** "Run your own": a `registry:2` container on this machine, published on 127.0.0.1 only. */
export interface LocalRegistryArgs extends RepositoryNames {
    type: "local";
    /** Host port on 127.0.0.1. */
    port: number;
    /** The registry image, pinned by digest. */
    image: string;
}

/** Arguments of {@link Registry}: one of the three registry kinds. */
export type RegistryArgs = EcrRegistryArgs | ExternalRegistryArgs | LocalRegistryArgs;

/**
 * Where Slipway's two images live. Outputs the registry server, both repository URLs, push
 * credentials (secret) and, where the cluster needs them to pull, pull credentials (secret).
 */
export class Registry extends pulumi.ComponentResource {
    /** Registry host, e.g. `127.0.0.1:5001`. */
    public readonly server: pulumi.Output<string>;
    /** `server/repository` of the application image. */
    public readonly appRepositoryUrl: pulumi.Output<string>;
    /** `server/repository` of the build environment image. */
    public readonly buildRepositoryUrl: pulumi.Output<string>;
    /** Credentials for pushing, or undefined for an unauthenticated local registry. Secret. */
    public readonly pushCredentials: pulumi.Output<RegistryCredentials | undefined>;
    /**
     * Credentials the cluster needs to pull (an image pull secret is made from them), or undefined
     * when nodes pull on their own (ECR through the node role, a local registry without auth).
     */
    public readonly pullCredentials: pulumi.Output<RegistryCredentials | undefined>;

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

    private ecr(name: string, args: EcrRegistryArgs) {
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
                    forceDelete: args.forceDelete,
                },
                { parent: this },
            );
            new aws.ecr.LifecyclePolicy(
                `${name}-${suffix}-lifecycle`,
                { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy(args.lifecycle)) },
                { parent: this },
            );
            return repo;
        };
        const app = repository("app", args.appRepository);
        const build = repository("build", args.buildRepository);
        // The token is valid for 12 hours: fine for a push during `pulumi up`, wrong for a cluster,
        // whose nodes pull from ECR with their own IAM role instead.
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: app.registryId }, { parent: this });
        const server = app.repositoryUrl.apply((url) => url.split("/")[0]);
        return {
            server,
            appRepositoryUrl: app.repositoryUrl,
            buildRepositoryUrl: build.repositoryUrl,
            pushCredentials: pulumi.secret(
                pulumi
                    .all([server, token])
                    .apply(([s, t]): RegistryCredentials | undefined => ({ server: s, username: t.userName, password: t.password })),
            ),
            pullCredentials: pulumi.output<RegistryCredentials | undefined>(undefined),
        };
    }

    private external(args: ExternalRegistryArgs) {
        const credentials = pulumi.secret(
            pulumi
                .output(args.password)
                .apply((password): RegistryCredentials | undefined => ({ server: args.server, username: args.username, password })),
        );
        return {
            server: pulumi.output(args.server),
            appRepositoryUrl: pulumi.output(`${args.server}/${args.appRepository}`),
            buildRepositoryUrl: pulumi.output(`${args.server}/${args.buildRepository}`),
            pushCredentials: credentials,
            pullCredentials: credentials,
        };
    }

    private local(name: string, args: LocalRegistryArgs) {
        if (!isDigestPinned(args.image)) {
            throw new pulumi.InputPropertyError({
                propertyPath: "image",
                reason: `the local registry image must be pinned by digest (…@sha256:…), got ${args.image}`,
            });
        }
        const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
        // A named volume keeps pushed images across container restarts and re-creation.
        const volume = new docker.Volume(`${name}-data`, {}, { parent: this });
        const container = new docker.Container(
            `${name}-registry`,
            {
                image: image.imageId,
                restart: "unless-stopped",
                ports: [{ internal: 5000, external: args.port, ip: "127.0.0.1" }],
                volumes: [{ volumeName: volume.name, containerPath: "/var/lib/registry" }],
                envs: ["REGISTRY_STORAGE_DELETE_ENABLED=true"],
            },
            { parent: this },
        );
        const server = pulumi.interpolate`127.0.0.1:${container.ports.apply((ports) => ports?.[0]?.external ?? args.port)}`;
        return {
            server,
            appRepositoryUrl: pulumi.interpolate`${server}/${args.appRepository}`,
            buildRepositoryUrl: pulumi.interpolate`${server}/${args.buildRepository}`,
            pushCredentials: pulumi.output<RegistryCredentials | undefined>(undefined),
            pullCredentials: pulumi.output<RegistryCredentials | undefined>(undefined),
        };
    }
}
