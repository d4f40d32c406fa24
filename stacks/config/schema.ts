/**
 * The one schema for all Slipway stack config (`slipway:*` keys in `Pulumi.<stack>.yaml`).
 * Parsed once, before any resource exists; a bad file fails with every bad key listed.
 * Objects are strict so a misspelt key (`replica:`) is an error rather than a silent default.
 */
import { z } from "zod";
import { pinnedRefRegistry } from "../../components/lib/image-ref";
import { DEPLOYED_STAGES, isPinnedStage, isSlipwayEnv, PINNED_STAGES, STAGES } from "../../contracts";
import { appSchema, moreAppSchema, rolloutPeak } from "./app";
import { buildImageSchema, buildSchema, imageSchema } from "./images";
import { monitoringSchema } from "./monitoring";
import { dnsLabel, envName, namespaceName, registryHost } from "./primitives";
import { isQuantity, parseQuantity } from "../../components/lib/quantity";
import { registrySchema } from "./registry";

const checkedSchema = z
    .strictObject({
        stage: z.enum(STAGES, { error: `expected one of: ${STAGES.join(", ")}` }),
        /** Where the stage runs: its cluster (a kube context of a kubeconfig) and its namespace there. */
        kubernetes: z
            .strictObject({
                /** Kube context of the stage's cluster. Absent: the kubeconfig's current context. */
                context: z.string().min(1).optional(),
                /** Kubeconfig path or content. Absent: `$KUBECONFIG`, else `~/.kube/config`. */
                kubeconfig: z.string().min(1).optional(),
                /**
                 * The stage's namespace, which Slipway creates and owns. Absent: `<app.name>-<stage>`, so stages sharing one
                 * cluster never share a namespace. Changing it on a deployed stack replaces the namespace and all in it.
                 */
                namespace: namespaceName.optional(),
                /** Render YAML to this folder instead of applying it. */
                renderYamlTo: z.string().min(1).optional(),
            })
            .default({}),
        /** Required where images are built; pinned stages only read it for pull credentials. */
        registry: registrySchema.optional(),
        /**
         * Pinned stages: the registry host their images come from (dev's registry, where promotion takes digests from).
         * Where set, an `image.ref` on any other host is refused. Absent: whatever host the pin names.
         */
        pullRegistry: registryHost.optional(),
        registryPassword: z.string().min(1).optional(),
        /** Required where images are built; kept while a building stage is pinned (rollback). */
        buildImage: buildImageSchema.optional(),
        build: buildSchema,
        image: imageSchema,
        app: appSchema,
        /**
         * More apps in the stage, by name (a DNS label): each with its own image (built, or pinned by digest) and
         * workload, in the stage's namespace. Absent: the stage runs `app` alone.
         */
        apps: z.record(dnsLabel, moreAppSchema(imageSchema, buildImageSchema)).default({}),
        monitoring: monitoringSchema,
        secretEnv: z.record(envName, z.string()).default({}),
    })
    .superRefine((config, ctx) => {
        appsRules(config, ctx);
        if (isPinnedStage(config.stage) && config.image.source !== "pinned") {
            ctx.addIssue({
                code: "custom",
                path: ["image", "source"],
                message: `expected "pinned" in ${config.stage}: ${PINNED_STAGES.join(" and ")} run a digest promoted from the stage before, never a rebuild`,
            });
        }
        if (config.pullRegistry !== undefined) {
            if (config.image.source === "build") {
                ctx.addIssue({
                    code: "custom",
                    path: ["pullRegistry"],
                    message: "is for stages that run a pinned image; a stage that builds pulls from its own slipway:registry. Remove it",
                });
            } else if (pinnedRefRegistry(config.image.ref) !== config.pullRegistry) {
                const before = DEPLOYED_STAGES[DEPLOYED_STAGES.indexOf(config.stage as (typeof DEPLOYED_STAGES)[number]) - 1];
                const promote = before === undefined ? "promote" : `npm run promote -- --from ${before} --to ${config.stage}`;
                ctx.addIssue({
                    code: "custom",
                    path: ["image", "ref"],
                    message:
                        `is on ${pinnedRefRegistry(config.image.ref)}, but slipway:pullRegistry says ${config.stage} pulls from ` +
                        `${config.pullRegistry}: pin an image from there (${promote}), or correct slipway:pullRegistry`,
                });
            }
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
        // The password belongs to registry.username: required with it, meaningless (and refused) without it.
        const username = config.registry?.type === "external" ? config.registry.username : undefined;
        if (username !== undefined && config.registryPassword === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["registryPassword"],
                message: `expected a secret for registry.username ${username} (pulumi config set --secret registryPassword …)`,
            });
        }
        if (username === undefined && config.registryPassword !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["registryPassword"],
                message:
                    config.registry?.type === "external"
                        ? "is set but registry.username is not: an open registry takes no credentials; set registry.username, or remove registryPassword"
                        : "is used only with registry.type external and a registry.username; remove it",
            });
        }
        // Rendered manifests hold Secret data in plain text (the engine only warns): refuse what would put a secret there.
        const rendered = config.kubernetes.renderYamlTo;
        for (const key of ["context", "kubeconfig"] as const) {
            if (rendered !== undefined && config.kubernetes[key] !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["kubernetes", key],
                    message: "is not used with kubernetes.renderYamlTo (rendering talks to no cluster); remove one of them",
                });
            }
        }
        if (rendered !== undefined && username !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["kubernetes", "renderYamlTo"],
                message:
                    `would write registry.username ${username}'s password in plain text to ${rendered} (the image pull Secret); ` +
                    "render only stages whose registry needs no pull credentials (ECR, an open registry)",
            });
        }
        if (rendered !== undefined && Object.keys(config.secretEnv).length > 0) {
            ctx.addIssue({
                code: "custom",
                path: ["kubernetes", "renderYamlTo"],
                message: `would write secretEnv values in plain text to ${rendered}; deliver those secrets to the cluster another way`,
            });
        }
        // Names only (Slipway's own are refused by the app schema): the values are the app's to check.
        for (const name of Object.keys(config.app.env)) {
            if (name in config.secretEnv) {
                ctx.addIssue({ code: "custom", path: ["secretEnv", name], message: "is also set in app.env; keep one" });
            }
        }
        for (const name of Object.keys(config.secretEnv)) {
            if (isSlipwayEnv(name)) {
                ctx.addIssue({ code: "custom", path: ["secretEnv", name], message: "is set by Slipway itself; choose another name" });
            }
        }
    });

type Checked = z.output<typeof checkedSchema>;

/** The rules that relate `slipway:apps` to the stage and to `slipway:app`. */
function appsRules(config: Omit<Checked, "apps"> & { apps: Checked["apps"] }, ctx: z.RefinementCtx): void {
    const more = Object.entries(config.apps);
    if (more.length === 0) {
        return;
    }
    const nodePorts = new Map<number, string>();
    if (config.app.nodePort !== undefined) nodePorts.set(config.app.nodePort, "app");
    for (const [name, app] of more) {
        const at = (...keys: string[]) => ["apps", name, ...keys];
        if (name === config.app.name) {
            ctx.addIssue({
                code: "custom",
                path: at(),
                message: `names the stage's first app (slipway:app.name ${name}); choose another name`,
            });
        }
        if (app.nodePort !== undefined) {
            const taken = nodePorts.get(app.nodePort);
            if (taken !== undefined) {
                const other = taken === "app" ? "slipway:app.nodePort" : `slipway:apps.${taken}.nodePort`;
                ctx.addIssue({ code: "custom", path: at("nodePort"), message: `${app.nodePort} is also ${other}; each app needs its own` });
            }
            nodePorts.set(app.nodePort, name);
        }
        if (isPinnedStage(config.stage) && app.image.source !== "pinned") {
            ctx.addIssue({
                code: "custom",
                path: at("image", "source"),
                message: `expected "pinned" in ${config.stage}: ${PINNED_STAGES.join(" and ")} run digests promoted from the stage before, never a rebuild`,
            });
        }
        if (
            app.image.source === "pinned" &&
            config.pullRegistry !== undefined &&
            pinnedRefRegistry(app.image.ref) !== config.pullRegistry
        ) {
            ctx.addIssue({
                code: "custom",
                path: at("image", "ref"),
                message: `is on ${pinnedRefRegistry(app.image.ref)}, but slipway:pullRegistry says ${config.stage} pulls from ${config.pullRegistry}`,
            });
        }
        if (app.image.source === "build") {
            if (config.registry === undefined) {
                ctx.addIssue({ code: "custom", path: ["registry"], message: `is required: slipway:apps.${name} builds its image` });
            }
            if (app.buildImage === undefined && config.buildImage === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: at("buildImage"),
                    message: "is required when the stage has no slipway:buildImage (the build environment this app builds in)",
                });
            }
        }
    }
    for (const [name, app] of more) {
        for (const envName of Object.keys(app.secretEnv)) {
            if (envName in app.env) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apps", name, "secretEnv", envName],
                    message: `is also set in slipway:apps.${name}.env; keep one`,
                });
            }
            if (isSlipwayEnv(envName)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apps", name, "secretEnv", envName],
                    message: "is set by Slipway itself; choose another name",
                });
            }
        }
        if (config.kubernetes.renderYamlTo !== undefined && Object.keys(app.secretEnv).length > 0) {
            ctx.addIssue({
                code: "custom",
                path: ["kubernetes", "renderYamlTo"],
                message: `would write slipway:apps.${name}.secretEnv values in plain text to ${config.kubernetes.renderYamlTo}; deliver those secrets to the cluster another way`,
            });
        }
    }
    // Each app's images go to repositories of their own: two apps sharing one would overwrite each other's tags and
    // cache (and on ECR, create one repository twice).
    if (config.registry !== undefined) {
        const owners = new Map<string, string>([
            [config.registry.appRepository ?? config.app.name, "slipway:app's image"],
            [config.registry.buildRepository, "the stage's build environment (slipway:registry.buildRepository)"],
        ]);
        for (const [name, app] of more.filter(([name]) => name !== config.app.name)) {
            for (const [repository, what] of [
                [name, "image"],
                ...(app.buildImage === undefined ? [] : [[`${name}-build-env`, "build environment"]]),
            ] as const) {
                const taken = owners.get(repository);
                if (taken !== undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["apps", name],
                        message: `its ${what} would go to the repository ${repository}, which holds ${taken}; choose another name`,
                    });
                }
                owners.set(repository, `slipway:apps.${name}'s ${what}`);
            }
        }
    }
    // Objects in the one namespace are named after the apps: none may take another's name.
    const egressOf = new Map(
        [[config.app.name, config.app.egress] as const, ...more.map(([name, app]) => [name, app.egress] as const)]
            .filter(([, egress]) => egress !== undefined)
            .map(([name]) => [`${name}-egress`, name]),
    );
    const hosts = new Map<string, string>();
    if (config.app.ingress) hosts.set(config.app.ingress.host, "slipway:app.ingress.host");
    for (const [name, app] of more) {
        if (name === "default-deny-ingress") {
            ctx.addIssue({
                code: "custom",
                path: ["apps", name],
                message: "is the name of the stage's default-deny NetworkPolicy; choose another name",
            });
        }
        const egress = egressOf.get(name);
        if (egress !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["apps", name],
                message: `is the name of ${egress}'s egress NetworkPolicy; choose another name`,
            });
        }
        if (app.ingress) {
            const taken = hosts.get(app.ingress.host);
            if (taken !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apps", name, "ingress", "host"],
                    message: `${app.ingress.host} is also ${taken}; each app needs its own host`,
                });
            }
            hosts.set(app.ingress.host, `slipway:apps.${name}.ingress.host`);
        }
    }
    // A stage pulls from one registry (its registryServer output, which the policy pack admits): without
    // slipway:pullRegistry to name it, every pinned app must be on the first app's.
    if (config.registry === undefined && config.pullRegistry === undefined && config.image.source === "pinned") {
        const host = pinnedRefRegistry(config.image.ref);
        for (const [name, app] of more) {
            if (app.image.source === "pinned" && pinnedRefRegistry(app.image.ref) !== host) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apps", name, "image", "ref"],
                    message:
                        `is on ${pinnedRefRegistry(app.image.ref)}, but slipway:image is on ${host}: a stage pulls every app from one ` +
                        "registry (set slipway:pullRegistry to it)",
                });
            }
        }
    }
    // One namespace, one quota: it must hold every app's rollout at once.
    const peaks = [rolloutPeak(config.app), ...more.map(([, app]) => rolloutPeak(app))];
    const sum = (kind: "pods" | "cpu" | "memory") => peaks.reduce((total, p) => total + (p[kind] ?? 0), 0);
    const apps = `the stage's ${peaks.length} apps`;
    if (config.app.quota.pods < sum("pods")) {
        ctx.addIssue({
            code: "custom",
            path: ["app", "quota", "pods"],
            message: `expected at least ${sum("pods")} pods: ${apps} roll out at once at most`,
        });
    }
    // Quantities as the quota is written: millicores, mebibytes.
    const up = (x: number) => Math.ceil(Number(x.toFixed(6)));
    const needed = { cpu: `${up(sum("cpu") * 1000)}m`, memory: `${up(sum("memory") / 2 ** 20)}Mi` };
    for (const kind of ["cpu", "memory"] as const) {
        if (isQuantity(config.app.quota[kind]) && parseQuantity(config.app.quota[kind]) < sum(kind)) {
            ctx.addIssue({
                code: "custom",
                path: ["app", "quota", kind],
                message: `expected at least ${needed[kind]}: the sum over ${apps} of limits.${kind} x pods during a rollout`,
            });
        }
    }
}

/** True for a schema whose value is text (a string or an enum of strings), under optional/default wrappers. */
function takesText(schema: z.core.$ZodType): boolean {
    const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType };
    if ((def.type === "optional" || def.type === "default" || def.type === "prefault") && def.innerType) {
        return takesText(def.innerType);
    }
    return def.type === "string" || def.type === "enum";
}

/**
 * Top-level keys whose value is text (`stage`, `registryPassword`). Pulumi hands every value to the program as a
 * string, structured ones as JSON; a text value must never be JSON-decoded, or a digit-only password becomes a number.
 */
export const TEXT_KEYS: ReadonlySet<string> = new Set(
    Object.entries(checkedSchema.shape)
        .filter(([, schema]) => takesText(schema))
        .map(([key]) => key),
);

/** A stage that builds its app image: the registry and the build environment are always there. */
export type BuildingStackConfig = Omit<Checked, "image" | "registry" | "buildImage"> & {
    imageSource: "build";
    image: Extract<Checked["image"], { source: "build" }>;
    registry: NonNullable<Checked["registry"]>;
    buildImage: NonNullable<Checked["buildImage"]>;
};

/** A stage that runs a pinned digest; a registry and build environment stay only where their config does. */
export type PinnedStackConfig = Omit<Checked, "image"> & {
    imageSource: "pinned";
    image: Extract<Checked["image"], { source: "pinned" }>;
};

/** The validated, defaulted stack config: building or pinned, told apart by `imageSource`. */
export type StackConfig = BuildingStackConfig | PinnedStackConfig;

/**
 * The schema whose output is a {@link StackConfig}. The refinements above report a building stage without a registry
 * or build environment together with every other bad key; the transform only runs on valid config, and turns what
 * they established into types, so the program needs no non-null assertions or casts.
 */
export const stackConfigSchema = checkedSchema.transform((config, ctx): StackConfig => {
    const { image, registry, buildImage } = config;
    if (image.source === "pinned") {
        return { ...config, imageSource: "pinned", image };
    }
    if (registry === undefined || buildImage === undefined) {
        ctx.issues.push({ code: "custom", input: config, message: "a building stage needs registry and buildImage" });
        return z.NEVER;
    }
    return { ...config, imageSource: "build", image, registry, buildImage };
});
