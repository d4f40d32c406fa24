import { z } from "zod";
import { isDigestPinned, TAG_PATTERN } from "../components/lib/image-ref";
import { peakPods, SLIPWAY_ENV } from "../components/lib/manifests";
import { isQuantity, parseQuantity } from "../components/lib/quantity";
import { NODE_24_BOOKWORM_SLIM, REGISTRY_2 } from "./defaults";

/**
 * The one schema for all Slipway stack config (`slipway:*` keys in `Pulumi.<stack>.yaml`).
 * Parsed once, before any resource exists; a bad file fails with every bad key listed.
 * Objects are strict so a misspelt key (`replica:`) is an error rather than a silent default.
 */

const PROJECT = "slipway";

const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-1123 label (lowercase letters, digits, '-')")
    .max(63, "expected at most 63 characters");

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

const pinnedImage = z.string().refine(isDigestPinned, "expected an image pinned by digest: <repository>[:tag]@sha256:<64 hex digits>");

const quantity = z.string().refine(isQuantity, "expected a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi");

const port = z.number().int("expected an integer port").min(1024, "expected a port >= 1024 (non-root)").max(65535);

const duration = z.string().regex(/^[0-9]+(ms|s|m|h)$/, "expected a Prometheus duration such as 30s or 1m");

const absolutePath = z.string().regex(/^\/[^\0]*[^/]$/, "expected an absolute file path such as /etc/app/config.yaml");

/** Repository names, shared by every registry type. */
const repositories = {
    /** Repository of the application image. Defaults to the app name. */
    appRepository: z
        .string()
        .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "expected a repository path")
        .optional(),
    /** Repository of the shared build environment image. */
    buildRepository: z
        .string()
        .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "expected a repository path")
        .default("slipway-build-env"),
};

const registrySchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("local"),
            port: port.default(5001),
            image: pinnedImage.default(REGISTRY_2),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("ecr"),
            lifecycle: z
                .strictObject({
                    untaggedExpiryDays: z.number().int().min(1, "expected at least 1 day").default(7),
                    keepLastPerPrefix: z.number().int().min(1, "expected at least 1 image").default(30),
                    tagPrefixes: z.array(z.string().regex(TAG_PATTERN, "expected a tag prefix")).min(1).default(["build-"]),
                })
                .prefault({}),
            kmsKeyArn: z.string().startsWith("arn:", "expected a KMS key ARN").optional(),
            forceDelete: z.boolean().default(false),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("external"),
            server: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?$/, "expected a registry host such as registry.example.com or host:5000"),
            username: z.string().min(1, "expected the registry user name"),
            ...repositories,
        }),
    ],
    { error: "expected type to be one of: local, ecr, external" },
);

const buildImageSchema = z.strictObject({
    /** The build environment's version: its tag, bumped on every Dockerfile change. */
    version: z.string().regex(TAG_PATTERN, "expected a tag such as 1.4.0"),
    baseImage: pinnedImage.default(NODE_24_BOOKWORM_SLIM),
    context: z.string().min(1).default("build-image"),
});

/** How both images are built: shared, so the build environment and the app image always match. */
const buildSchema = z
    .strictObject({
        /** Build during `pulumi preview`? CI previews must not (no registry writes from pull requests). */
        buildOnPreview: z.boolean().default(false),
        /**
         * buildx builder. Registry cache export needs a `docker-container` builder (or a daemon on the
         * containerd image store); scripts/local-up.sh creates one for the local stack.
         */
        builder: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "expected a buildx builder name")
            .optional(),
        platforms: z
            .array(z.enum(["linux/amd64", "linux/arm64"]))
            .min(1)
            .default(["linux/amd64"]),
    })
    .prefault({});

/**
 * Where a pinned image came from. `pulumi config set --path image.buildNumber 41` stores a number,
 * so numbers are accepted and kept as text.
 */
const provenance = z
    .union([z.string().min(1), z.number().int().nonnegative()], { error: "expected text such as a build number, branch or commit" })
    .transform(String)
    .default("unknown");

const imageSchema = z.discriminatedUnion(
    "source",
    [
        z.strictObject({
            source: z.literal("build"),
            runtimeBaseImage: pinnedImage.default(NODE_24_BOOKWORM_SLIM),
            context: z.string().min(1).default("app"),
            exportArtifactsTo: z.string().min(1).optional(),
        }),
        z.strictObject({
            source: z.literal("pinned"),
            ref: pinnedImage,
            buildNumber: provenance,
            gitBranch: provenance,
            gitSha: provenance,
        }),
    ],
    { error: "expected source to be one of: build, pinned" },
);

const resourcesSchema = z
    .strictObject({
        requests: z.strictObject({ cpu: quantity, memory: quantity }),
        limits: z.strictObject({ cpu: quantity, memory: quantity }),
    })
    .superRefine((r, ctx) => {
        for (const kind of ["cpu", "memory"] as const) {
            // Refinements run even when a field failed; a bad quantity is already reported.
            if (!isQuantity(r.requests[kind]) || !isQuantity(r.limits[kind])) {
                continue;
            }
            if (parseQuantity(r.requests[kind]) > parseQuantity(r.limits[kind])) {
                ctx.addIssue({
                    code: "custom",
                    path: ["requests", kind],
                    message: `expected requests.${kind} (${r.requests[kind]}) <= limits.${kind} (${r.limits[kind]})`,
                });
            }
        }
    });

const appSchema = z
    .strictObject({
        name: dnsLabel.default("hello"),
        port: port.default(8080),
        metricsPort: port.default(9464),
        replicas: z.number().int("expected a whole number of replicas").min(1, "expected at least 1 replica").max(100),
        env: z.record(envName, z.string()).default({}),
        configFile: z
            .strictObject({
                path: absolutePath.default("/etc/slipway/config.yaml"),
                content: z.union([z.string(), z.record(z.string(), z.unknown())], {
                    error: "expected the file content as a string or a YAML mapping",
                }),
            })
            .optional(),
        resources: resourcesSchema,
        autoscaling: z
            .strictObject({
                minReplicas: z.number().int().min(1),
                maxReplicas: z.number().int().min(1),
                targetCpuUtilization: z.number().int().min(10).max(100).default(70),
            })
            .refine((a) => a.minReplicas <= a.maxReplicas, {
                message: "expected minReplicas <= maxReplicas",
                path: ["minReplicas"],
            })
            .optional(),
        /** Seconds the kubelet waits (preStop sleep) before SIGTERM, while endpoints drop the pod. */
        preStopSeconds: z.number().int().min(0).max(60).default(5),
        /** Seconds the app stays up not-ready after SIGTERM before it stops accepting. */
        drainSeconds: z.number().int().min(0).max(60).default(2),
        /** Seconds the app gives in-flight requests once it stops accepting. */
        shutdownTimeoutSeconds: z.number().int().min(1).max(300).default(10),
        /** Namespaces allowed to reach the app port (e.g. the ingress controller's). */
        allowFrom: z.array(dnsLabel).default([]),
        ingress: z
            .strictObject({
                host: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected a DNS host name"),
                className: z.string().min(1).default("nginx"),
                tlsSecretName: dnsLabel.optional(),
            })
            .optional(),
        topologySpread: z.enum(["soft", "hard"]).default("soft"),
        quota: z.strictObject({
            cpu: quantity,
            memory: quantity,
            pods: z.number().int().min(1),
        }),
    })
    .superRefine((app, ctx) => {
        if (app.port === app.metricsPort) {
            ctx.addIssue({ code: "custom", path: ["metricsPort"], message: "expected a port different from app.port" });
        }
        if (app.ingress && app.allowFrom.length === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["allowFrom"],
                message: "expected the ingress controller's namespace here when ingress is set (the NetworkPolicy denies everything else)",
            });
        }
        // A rolling update with maxSurge 1 runs one pod more than the maximum replica count;
        // a quota without room for it leaves the rollout stuck, so refuse it now.
        const peak = peakPods(app.replicas, app.autoscaling?.maxReplicas);
        if (app.quota.pods < peak) {
            ctx.addIssue({
                code: "custom",
                path: ["quota", "pods"],
                message: `expected at least ${peak} pods (max replicas + 1 surge pod during a rollout)`,
            });
        }
        for (const kind of ["cpu", "memory"] as const) {
            if (!isQuantity(app.resources.limits[kind]) || !isQuantity(app.quota[kind])) {
                continue;
            }
            const needed = parseQuantity(app.resources.limits[kind]) * peak;
            if (parseQuantity(app.quota[kind]) < needed) {
                ctx.addIssue({
                    code: "custom",
                    path: ["quota", kind],
                    message: `expected at least ${peak} x limits.${kind} (${app.resources.limits[kind]}) for a rollout at max replicas`,
                });
            }
        }
    });

const monitoringSchema = z
    .strictObject({
        /** Off where the Prometheus Operator CRDs are absent: ServiceMonitor cannot even be previewed then. */
        enabled: z.boolean().default(true),
        namespace: dnsLabel.default("monitoring"),
        path: z.string().startsWith("/", "expected a path starting with /").default("/metrics"),
        interval: duration.default("30s"),
        /** Labels the Prometheus instance selects ServiceMonitors by (kube-prometheus-stack: release). */
        selectorLabels: z.record(z.string(), z.string()).default({}),
        alerts: z
            .strictObject({
                enabled: z.boolean().default(true),
                errorRateThreshold: z.number().gt(0).lt(1).default(0.05),
                restartThreshold: z.number().int().min(1).default(3),
            })
            .prefault({}),
    })
    .prefault({});

export const stackConfigSchema = z
    .strictObject({
        stage: z.enum(["local", "dev", "qa", "prod"], { error: "expected one of: local, dev, qa, prod" }),
        kubernetes: z
            .strictObject({
                context: z.string().min(1).optional(),
                kubeconfig: z.string().min(1).optional(),
                renderYamlTo: z.string().min(1).optional(),
            })
            .default({}),
        /** Required where images are built; pinned stages only read it for pull credentials. */
        registry: registrySchema.optional(),
        registryPassword: z.string().min(1).optional(),
        /** Required where images are built; kept while a building stage is pinned (rollback). */
        buildImage: buildImageSchema.optional(),
        build: buildSchema,
        image: imageSchema,
        app: appSchema,
        monitoring: monitoringSchema,
        secretEnv: z.record(envName, z.string()).default({}),
    })
    .superRefine((config, ctx) => {
        if ((config.stage === "qa" || config.stage === "prod") && config.image.source !== "pinned") {
            ctx.addIssue({
                code: "custom",
                path: ["image", "source"],
                message: `expected "pinned" in ${config.stage}: qa and prod run a digest promoted from the stage before, never a rebuild`,
            });
        }
        if (config.image.source === "build") {
            for (const key of ["registry", "buildImage"] as const) {
                if (config[key] === undefined) {
                    ctx.addIssue({ code: "custom", path: [key], message: `is required when image.source is "build"` });
                }
            }
        } else if (config.buildImage !== undefined && config.registry === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["registry"],
                message: "is required with buildImage (the build environment is pushed there)",
            });
        }
        if (config.registry?.type === "external" && config.registryPassword === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["registryPassword"],
                message: "expected a secret (pulumi config set --secret registryPassword …) for registry.type external",
            });
        }
        for (const name of Object.keys(config.app.env)) {
            if ((SLIPWAY_ENV as readonly string[]).includes(name)) {
                ctx.addIssue({ code: "custom", path: ["app", "env", name], message: "is set by Slipway itself; choose another name" });
            }
            if (name in config.secretEnv) {
                ctx.addIssue({ code: "custom", path: ["secretEnv", name], message: "is also set in app.env; keep one" });
            }
        }
        for (const name of Object.keys(config.secretEnv)) {
            if ((SLIPWAY_ENV as readonly string[]).includes(name)) {
                ctx.addIssue({ code: "custom", path: ["secretEnv", name], message: "is set by Slipway itself; choose another name" });
            }
        }
    });

/** The validated, defaulted stack config. */
export type StackConfig = z.output<typeof stackConfigSchema>;

/** Raised for bad stack config; `problems` holds one line per bad key. */
export class StackConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid Slipway stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
        this.name = "StackConfigError";
    }
}

/**
 * Validates raw config (keys without the `slipway:` prefix, values already decoded from YAML/JSON).
 * Throws a StackConfigError that lists every bad key as `slipway:<path>: <what was expected>`.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
    const result = stackConfigSchema.safeParse(raw);
    if (result.success) {
        return result.data;
    }
    const problems = result.error.issues.flatMap((issue) =>
        // An unknown key is reported at its own path, so the message names the exact key.
        issue.code === "unrecognized_keys"
            ? issue.keys.map(
                  (key) => `${configKey([...issue.path, key])}: unknown key (check its spelling against the README's config reference)`,
              )
            : [`${configKey(issue.path)}: ${describeIssue(issue)}`],
    );
    throw new StackConfigError(problems);
}

function configKey(path: readonly PropertyKey[]): string {
    const [top, ...rest] = path.map(String);
    return [`${PROJECT}:${top ?? "*"}`, ...rest].join(".");
}

function describeIssue(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
        return `is required (expected ${issue.expected})`;
    }
    if (issue.code === "invalid_key") {
        // The key itself is wrong (a record key): say what a key must look like.
        return `bad key name: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    }
    return issue.message.replace(/^Invalid input: /, "");
}

/**
 * Decodes the flat `project:key → string` map Pulumi hands a program (structured values arrive as
 * JSON text) into `key → value` for this project only.
 */
export function decodeProjectConfig(all: Record<string, string>, project = PROJECT): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(all)) {
        const [namespace, key] = splitKey(fullKey);
        if (namespace !== project) {
            continue;
        }
        raw[key] = decodeValue(text);
    }
    return raw;
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function decodeValue(text: string): unknown {
    // Pulumi passes objects, arrays, numbers and booleans as JSON; plain strings arrive as-is.
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
