import * as fs from "fs";
import * as path from "path";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ComponentType, StackOutput } from "../../contracts";
import { configWithDefaults } from "../lib/config";
import { isDigestPinned, isLoopbackRegistry, normaliseRegistry, parseImageRef } from "../lib/images";
import { containersOf, describeContainer, podTemplateOf } from "../lib/kube";

/** Pulumi type tokens of the registry and build resources. */
export const TYPES = {
    EcrRepository: "aws:ecr/repository:Repository",
    EcrLifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    DockerBuildImage: "docker-build:index:Image",
    SlipwayRegistry: ComponentType.Registry,
    /** The root resource of every stack; its outputs are the program's stack outputs. */
    Stack: "pulumi:pulumi:Stack",
} as const;

const IMMUTABLE = ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"];

/** ECR repositories never let a tag move and scan every push. */
export const ecrRepository: ResourceValidationPolicy = {
    name: "slipway-ecr-repository",
    description: "ECR repositories have immutable tags and scan on push.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["supply-chain", "aws"],
    remediationSteps: "Set imageTagMutability IMMUTABLE and imageScanningConfiguration.scanOnPush true.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.EcrRepository) {
            return args.notApplicable("not an ECR repository");
        }
        const mutability = args.props.imageTagMutability ?? "MUTABLE";
        if (!IMMUTABLE.includes(mutability)) {
            report(
                `imageTagMutability is ${mutability}: a re-pushed build-<n> or sha-<sha> tag would point rollback at ` +
                    `different content. Fix: set imageTagMutability: "IMMUTABLE" (or "IMMUTABLE_WITH_EXCLUSION" with ` +
                    `exclusion filters for tags that must move).`,
            );
        }
        if (args.props.imageScanningConfiguration?.scanOnPush !== true) {
            report(
                `imageScanningConfiguration.scanOnPush is not true, so pushed images are never scanned for ` +
                    `vulnerabilities. Fix: set imageScanningConfiguration: { scanOnPush: true }.`,
            );
        }
    },
};

/** In prod an ECR repository must not be deletable while it still holds the digests prod runs and rolls back to. */
export const ecrNoForceDelete: ResourceValidationPolicy = {
    name: "slipway-ecr-no-force-delete",
    description: "ECR repositories are not force-deletable (deleting one deletes every digest a rollback needs).",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["aws", "prod"],
    remediationSteps: "Set slipway:registry.forceDelete false for the stage.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.EcrRepository) {
            return args.notApplicable("not an ECR repository");
        }
        if (args.props.forceDelete === true) {
            report(
                `forceDelete is true: destroying the stack deletes the repository with every image in it, ` +
                    `including the digests that stack history would roll back to. Fix: set slipway:registry.forceDelete ` +
                    `to false for this stage.`,
            );
        }
    },
};

/** Every ECR repository in the stack has a lifecycle policy that at least expires untagged images. */
export const ecrLifecyclePolicy: StackValidationPolicy = {
    name: "slipway-ecr-lifecycle-policy",
    description: "Every ECR repository has a lifecycle policy that expires untagged images.",
    enforcementLevel: "mandatory",
    severity: "medium",
    tags: ["aws", "cost"],
    remediationSteps: "Create an aws.ecr.LifecyclePolicy for the repository (slipway:registry.lifecycle).",
    validateStack: (args, report) => {
        const repositories = args.resources.filter((r) => r.type === TYPES.EcrRepository);
        if (repositories.length === 0) {
            return args.notApplicable("no ECR repositories");
        }
        const policies = args.resources.filter((r) => r.type === TYPES.EcrLifecyclePolicy);
        for (const repo of repositories) {
            const attached = policies.filter((p) => lifecyclePolicyTargets(p, repo));
            if (attached.length === 0) {
                report(
                    `ECR repository "${repo.props.name ?? repo.name}" has no lifecycle policy, so untagged layers ` +
                        `and old builds accumulate forever. Fix: add an aws.ecr.LifecyclePolicy with repository set to ` +
                        `this repository's name (configure slipway:registry.lifecycle).`,
                    repo.urn,
                );
                continue;
            }
            for (const policy of attached) {
                const problem = lifecycleProblem(policy.props.policy);
                if (problem) {
                    report(
                        `the lifecycle policy of ECR repository "${repo.props.name ?? repo.name}" ${problem}. ` +
                            `Fix: include a rule { selection: { tagStatus: "untagged", countType: "sinceImagePushed", ` +
                            `countUnit: "days", countNumber: N }, action: { type: "expire" } }.`,
                        policy.urn,
                    );
                }
            }
        }
    },
};

/** A LifecyclePolicy belongs to a repository by name or by a dependency on it. */
function lifecyclePolicyTargets(policy: PolicyResource, repo: PolicyResource): boolean {
    const name = repo.props.name ?? repo.name;
    if (policy.props.repository === name) {
        return true;
    }
    return (policy.propertyDependencies?.repository ?? []).some((d) => d.urn === repo.urn);
}

/** Why a lifecycle policy document falls short, or undefined when it is fine. */
function lifecycleProblem(document: unknown): string | undefined {
    let parsed: any;
    try {
        parsed = typeof document === "string" ? JSON.parse(document) : document;
    } catch {
        return "is not valid JSON";
    }
    const rules: any[] = Array.isArray(parsed?.rules) ? parsed.rules : [];
    if (rules.length === 0) {
        return "has no rules";
    }
    if (!rules.some((r) => r?.selection?.tagStatus === "untagged" && r?.action?.type === "expire")) {
        return "never expires untagged images";
    }
    return undefined;
}

/** Dockerfile build args that name an image: `BASE_IMAGE`, `BUILD_IMAGE`, `RUNTIME_BASE_IMAGE`, … */
const IMAGE_ARG = /IMAGE$/i;

const buildConfigSchema = {
    properties: {
        programDirectory: {
            type: "string" as const,
            description:
                "Directory that relative dockerfile/context paths are resolved against " +
                "(default: the directory above the policy pack, i.e. the Pulumi project).",
        },
    },
};

/**
 * docker-build images take every base image by digest: build args ending in IMAGE must be `…@sha256:…`, and
 * the Dockerfile's FROM lines (read from disk when the file is reachable) must use a pinned ref, a build arg,
 * an earlier stage or scratch.
 */
export const buildBaseImagesPinned: ResourceValidationPolicy = {
    name: "slipway-build-base-images-pinned",
    description: "docker-build images pin every base image by digest (build args ending in IMAGE, Dockerfile FROM lines).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["supply-chain", "build"],
    configSchema: buildConfigSchema,
    remediationSteps: "Pass base images as build args pinned by @sha256: (slipway:buildImage.baseImage, slipway:image.runtimeBaseImage).",
    validateResource: (args, report) => {
        if (args.type !== TYPES.DockerBuildImage) {
            return args.notApplicable("not a docker-build image");
        }
        const buildArgs: Record<string, unknown> = args.props.buildArgs ?? {};
        for (const [name, value] of Object.entries(buildArgs)) {
            if (IMAGE_ARG.test(name) && !isDigestPinned(value)) {
                report(
                    `build arg ${name} is "${value}", not pinned by digest, so the same commit can build on a ` +
                        `different base tomorrow. Fix: pass ${name} as <repository>@sha256:<64 hex> (docker buildx ` +
                        `imagetools inspect <tag> prints the digest).`,
                );
            }
        }
        const { programDirectory } = configWithDefaults<{ programDirectory?: string }>(buildConfigSchema, args);
        const dockerfile = readDockerfile(args.props, programDirectory ?? path.resolve(__dirname, "..", ".."));
        if (dockerfile === undefined) {
            return;
        }
        for (const problem of unpinnedFromLines(dockerfile, buildArgs)) {
            report(
                `${problem}. Fix: write FROM \${SOME_IMAGE} with ARG SOME_IMAGE passed pinned by digest, or ` +
                    `FROM <repository>@sha256:<64 hex>.`,
            );
        }
    },
};

/** The Dockerfile text: inline, or read from `dockerfile.location` (default `<context>/Dockerfile`) if readable. */
function readDockerfile(props: Record<string, any>, programDirectory: string): string | undefined {
    if (typeof props.dockerfile?.inline === "string") {
        return props.dockerfile.inline;
    }
    const context = typeof props.context?.location === "string" ? props.context.location : undefined;
    const location =
        typeof props.dockerfile?.location === "string"
            ? props.dockerfile.location
            : context !== undefined && !/^[a-z]+:\/\//i.test(context)
              ? path.join(context, "Dockerfile")
              : undefined;
    if (location === undefined) {
        return undefined;
    }
    const file = path.resolve(programDirectory, location);
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined; // not on this machine (e.g. a remote context): the build args check still applies
    }
}

/** FROM lines whose base is neither pinned, nor a stage, nor scratch, nor a build arg that is pinned. */
export function unpinnedFromLines(dockerfile: string, buildArgs: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const stages = new Set<string>();
    const argDefaults = new Map<string, string | undefined>();
    // Join line continuations so `FROM \` + image on the next line parses as one instruction.
    const lines = dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/);
    for (const raw of lines) {
        const line = raw.trim();
        const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
        if (arg) {
            argDefaults.set(arg[1], arg[2]?.replace(/^["']|["']$/g, ""));
            continue;
        }
        const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
        if (!from) {
            continue;
        }
        const base = from[1];
        if (from[2]) {
            stages.add(from[2].toLowerCase());
        }
        if (base === "scratch" || (stages.has(base.toLowerCase()) && base.toLowerCase() !== from[2]?.toLowerCase())) {
            continue;
        }
        const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(base);
        if (variable) {
            const name = variable[1];
            const value = buildArgs[name] ?? argDefaults.get(name);
            if (!isDigestPinned(value)) {
                problems.push(
                    `Dockerfile "FROM ${base}": ${name} is ${value === undefined ? "not passed and has no default" : `"${value}"`}, not pinned by digest`,
                );
            }
            continue;
        }
        if (!isDigestPinned(base)) {
            problems.push(`Dockerfile "FROM ${base}" is not pinned by digest`);
        }
    }
    return problems;
}

const registryConfigSchema = {
    properties: {
        registryServers: {
            type: "array" as const,
            items: { type: "string" as const },
            default: [] as string[],
            description:
                "The stack's registry servers (host[:port]). Empty: derive them from the stack itself: its " +
                "registryServer output (a pinned stage's is the slipway:pullRegistry its pin was checked against), " +
                "Registry component, ECR repositories and docker-build registry credentials.",
        },
    },
};

/**
 * Slipway knows where a stage's images live: docker-build pushes (explicitly) only to the stack's registry, with
 * credentials for it, and every pod pulls from that registry too.
 */
export const imagesOnStackRegistry: StackValidationPolicy = {
    name: "slipway-images-on-stack-registry",
    description: "docker-build images set push explicitly and push only to the stack's registry; pods pull only from it.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["supply-chain", "registry"],
    configSchema: registryConfigSchema,
    remediationSteps: "Tag images as <stack registry server>/<repository>:<tag> and add that server to registries.",
    validateStack: (args, report) => {
        const { registryServers } = configWithDefaults<{ registryServers: string[] }>(registryConfigSchema, args);
        const images = args.resources.filter((r) => r.type === TYPES.DockerBuildImage);
        const stackRegistries = new Set<string>(registryServers.map((s) => normaliseRegistry(s)!).filter(Boolean));
        if (stackRegistries.size === 0) {
            // The stack says where its images live, so no policy config repeats an account id. The engine's stack
            // analysis gets every resource with its outputs, the root stack (the program's exports) included.
            for (const r of args.resources) {
                if (r.type === TYPES.Stack) addRegistry(stackRegistries, r.props[StackOutput.registryServer]);
                if (r.type === TYPES.SlipwayRegistry) addRegistry(stackRegistries, r.props.server);
                if (r.type === TYPES.EcrRepository) addRegistry(stackRegistries, r.props.repositoryUrl);
                if (r.type === TYPES.DockerBuildImage) {
                    for (const registry of r.props.registries ?? []) addRegistry(stackRegistries, registry?.address);
                }
            }
        }
        const known = [...stackRegistries].sort();
        const knownText = known.length > 0 ? known.join(", ") : "none found";

        for (const image of images) {
            const push = image.props.push;
            if (typeof push !== "boolean") {
                report(
                    `docker-build image "${image.name}" leaves push unset. Fix: set push explicitly ` +
                        `(true to publish to the stack's registry, false for a local-only build).`,
                    image.urn,
                );
                continue;
            }
            if (!push) {
                continue;
            }
            const tags: unknown[] = Array.isArray(image.props.tags) ? image.props.tags : [];
            if (tags.length === 0) {
                report(
                    `docker-build image "${image.name}" pushes without tags. Fix: tag it ` +
                        `<registry>/<repository>:build-<n> (and sha-/branch- tags).`,
                    image.urn,
                );
            }
            const credentials = new Set<string>(
                (image.props.registries ?? []).map((r: any) => normaliseRegistry(r?.address)).filter(Boolean),
            );
            const reported = new Set<string>();
            for (const tag of tags) {
                const ref = parseImageRef(tag);
                if (!ref?.explicitRegistry) {
                    report(
                        `docker-build image "${image.name}" pushes "${tag}" without a registry host, i.e. to Docker ` +
                            `Hub. Fix: prefix the tag with the stack's registry server (${knownText}).`,
                        image.urn,
                    );
                    continue;
                }
                const registry = ref.registry.toLowerCase();
                if (known.length > 0 && !stackRegistries.has(registry)) {
                    report(
                        `docker-build image "${image.name}" pushes "${tag}" to ${registry}, which is not this stack's ` +
                            `registry (${knownText}). Fix: tag it on the stack's registry server.`,
                        image.urn,
                    );
                } else if (!credentials.has(registry) && !isLoopbackRegistry(registry) && !reported.has(registry)) {
                    reported.add(registry);
                    report(
                        `docker-build image "${image.name}" pushes to ${registry} without credentials for it. ` +
                            `Fix: add { address: "${registry}", username, password } to registries (from the Registry ` +
                            `component's outputs).`,
                        image.urn,
                    );
                }
            }
        }

        if (known.length === 0) {
            return; // an external registry with nothing in the stack to learn it from: nothing to compare pulls to
        }
        for (const r of args.resources) {
            const template = podTemplateOf(r.type, r.props);
            if (!template) continue;
            for (const ref of containersOf(template.spec)) {
                const image = parseImageRef(ref.container.image);
                if (image && !stackRegistries.has(image.registry.toLowerCase())) {
                    report(
                        `${r.type.split(":").pop()} "${r.name}" ${describeContainer(ref)} pulls ` +
                            `"${ref.container.image}" from ${image.registry}, outside this stack's registry (${knownText}). ` +
                            `Fix: mirror the image into the stack's registry and reference it there by digest.`,
                        r.urn,
                    );
                }
            }
        }
    },
};

function addRegistry(set: Set<string>, address: unknown): void {
    const registry = normaliseRegistry(address);
    if (registry) set.add(registry);
}
