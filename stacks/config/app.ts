/**
 * `slipway:app`: the workload, with the checks that keep a rollout from getting stuck.
 */
import { z } from "zod";
import { peakPods, TMP_SIZE_LIMIT } from "../../components/lib/manifests";
import { isQuantity, parseQuantity } from "../../components/lib/quantity";
import { APP_DEFAULTS } from "../../components/defaults";
import { isSlipwayEnv } from "../../contracts";
import { absolutePath, dnsLabel, envName, labelName, metricName, nonRootUid, port, probePath, quantity } from "./primitives";

/** Whole seconds of a probe's timing. */
const probeSeconds = z.number().int("expected whole seconds").min(1, "expected at least 1 second").max(3600);

/** One HTTP probe on the `http` port; each field defaults on its own, to today's values for this probe. */
function probeSchema(defaults: { path: string; periodSeconds: number; failureThreshold: number; timeoutSeconds?: number }) {
    return z
        .strictObject({
            path: probePath.default(defaults.path),
            periodSeconds: probeSeconds.default(defaults.periodSeconds),
            failureThreshold: z
                .number()
                .int("expected a whole number")
                .min(1, "expected at least 1")
                .max(1000)
                .default(defaults.failureThreshold),
            /** Absent where the default has none: Kubernetes' own (1 s). */
            timeoutSeconds: defaults.timeoutSeconds === undefined ? probeSeconds.optional() : probeSeconds.default(defaults.timeoutSeconds),
        })
        .prefault({});
}

const resourcesSchema = z
    .strictObject({
        requests: z.strictObject({
            cpu: quantity,
            memory: quantity,
            ephemeralStorage: quantity.default(APP_DEFAULTS.ephemeralStorage.request),
        }),
        limits: z.strictObject({
            cpu: quantity,
            memory: quantity,
            ephemeralStorage: quantity.default(APP_DEFAULTS.ephemeralStorage.limit),
        }),
    })
    .superRefine((r, ctx) => {
        const disk = r.limits.ephemeralStorage;
        if (isQuantity(disk) && parseQuantity(disk) <= parseQuantity(TMP_SIZE_LIMIT)) {
            ctx.addIssue({
                code: "custom",
                path: ["limits", "ephemeralStorage"],
                message: `expected more than the ${TMP_SIZE_LIMIT} the /tmp volume may fill, plus room for logs (the kubelet evicts the pod beyond it)`,
            });
        }
        for (const kind of ["cpu", "memory", "ephemeralStorage"] as const) {
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

/** Every key of an app, before the rules that relate them. */
const appFields = z.strictObject({
    name: dnsLabel.default("hello"),
    port: port.default(APP_DEFAULTS.port),
    /** `false`: the app has no metrics port (no Service port, no ServiceMonitor, no METRICS_PORT). */
    metricsPort: z
        .union([port, z.literal(false)], { error: "expected a port number in 1024-65535, or false for no metrics port" })
        .default(APP_DEFAULTS.metricsPort),
    /** HTTP probes on the `http` port (docs/app-contract.md). */
    probes: z
        .strictObject({
            startup: probeSchema(APP_DEFAULTS.probes.startup),
            readiness: probeSchema(APP_DEFAULTS.probes.readiness),
            liveness: probeSchema(APP_DEFAULTS.probes.liveness),
        })
        .prefault({}),
    /** The numeric user the image runs as (its `USER`); never 0. */
    runAsUser: nonRootUid.default(APP_DEFAULTS.runAsUser),
    /** The numeric group; defaults to runAsUser. */
    runAsGroup: z.number().int("expected a whole group ID").min(0, "expected a group ID >= 0").optional(),
    /** The app's request counter: only with it is there an error-rate alert. */
    metrics: z
        .strictObject({
            requestsTotal: metricName,
            statusLabel: labelName.default(APP_DEFAULTS.statusLabel),
        })
        .optional(),
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
    preStopSeconds: z.number().int().min(0).max(60).default(APP_DEFAULTS.preStopSeconds),
    /** Seconds the app stays up not-ready after SIGTERM before it stops accepting. */
    drainSeconds: z.number().int().min(0).max(60).default(APP_DEFAULTS.drainSeconds),
    /** Seconds the app gives in-flight requests once it stops accepting. */
    shutdownTimeoutSeconds: z.number().int().min(1).max(300).default(APP_DEFAULTS.shutdownTimeoutSeconds),
    /** Namespaces allowed to reach the app port (e.g. the ingress controller's). */
    allowFrom: z.array(dnsLabel).default([]),
    ingress: z
        .strictObject({
            host: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected a DNS host name"),
            className: z.string().min(1).default("nginx"),
            tlsSecretName: dnsLabel.optional(),
        })
        .optional(),
    /** Max skew 1 over nodes: preferred (soft) or required (hard); hard is no per-node cap (docs/configuration.md). */
    topologySpread: z.enum(["soft", "hard"]).default(APP_DEFAULTS.topologySpread),
    /** Restrict egress to the cluster DNS and these dependencies. Absent: egress unrestricted. */
    egress: z
        .strictObject({
            dnsNamespace: dnsLabel.default("kube-system"),
            allow: z
                .array(
                    z
                        .strictObject({
                            namespace: dnsLabel.optional(),
                            cidr: z.union([z.cidrv4(), z.cidrv6()], { error: "expected a CIDR such as 10.0.0.0/16" }).optional(),
                            port: z.number().int().min(1, "expected a port 1-65535").max(65535, "expected a port 1-65535"),
                            protocol: z.enum(["TCP", "UDP"]).default("TCP"),
                        })
                        .refine((d) => (d.namespace === undefined) !== (d.cidr === undefined), {
                            message: "expected exactly one of namespace or cidr",
                        }),
                )
                .default([]),
        })
        .optional(),
    /** Expose the http port on this port of every node (Service type NodePort). Absent: a ClusterIP Service. */
    nodePort: z
        .number({ error: "expected a nodePort number in 30000-32767" })
        .int("expected a whole nodePort number")
        .min(30000, "expected a nodePort in 30000-32767 (the cluster's NodePort range)")
        .max(32767, "expected a nodePort in 30000-32767 (the cluster's NodePort range)")
        .optional(),
    /** Seconds a rollout may stall before it counts as failed (progressDeadlineSeconds); pulumi up waits 60 s more. */
    rolloutTimeoutSeconds: z
        .number({ error: "expected a number of seconds in 30-3600" })
        .int("expected a whole number of seconds")
        .min(30, "expected at least 30 seconds (a pod must have time to start and turn ready)")
        .max(3600, "expected at most 3600 seconds")
        .default(APP_DEFAULTS.rolloutTimeoutSeconds),
    quota: z.strictObject({
        cpu: quantity,
        memory: quantity,
        pods: z.number().int().min(1),
    }),
});

/**
 * The app contract's cross-key rules. They run even when other keys of the app are bad, so one error names them all: they
 * read the raw values, each only where it has the right type.
 */
function contractRules(keys: { port: string; metrics: string }) {
    return (app: unknown, ctx: z.RefinementCtx): void => {
        const raw = app as Record<string, unknown>;
        if (typeof raw.port === "number" && raw.port === raw.metricsPort) {
            ctx.addIssue({ code: "custom", path: ["metricsPort"], message: `expected a port different from ${keys.port}` });
        }
        if (raw.metrics !== undefined && raw.metricsPort === false) {
            ctx.addIssue({
                code: "custom",
                path: ["metrics"],
                message: `needs a metricsPort: the request metric is scraped from it (or remove ${keys.metrics})`,
            });
        }
        if (isObject(raw.env)) {
            for (const name of Object.keys(raw.env).filter(isSlipwayEnv)) {
                ctx.addIssue({ code: "custom", path: ["env", name], message: "is set by Slipway itself; choose another name" });
            }
        }
    };
}

const whenObject = { when: (payload: { value: unknown }) => isObject(payload.value) };

/** An Ingress is reached from the controller's namespace, which the NetworkPolicy must admit. */
function ingressRule(app: { ingress?: unknown; allowFrom: string[] }, ctx: z.RefinementCtx): void {
    if (app.ingress && app.allowFrom.length === 0) {
        ctx.addIssue({
            code: "custom",
            path: ["allowFrom"],
            message: "expected the ingress controller's namespace here when ingress is set (the NetworkPolicy denies everything else)",
        });
    }
}

/** What one app may hold at once during a rollout: its pods, cpu and memory limits at max replicas. */
export function rolloutPeak(app: Pick<z.output<typeof appFields>, "replicas" | "autoscaling" | "resources">): {
    pods: number;
    cpu?: number;
    memory?: number;
} {
    const pods = peakPods(app.replicas, app.autoscaling?.maxReplicas);
    const limit = (kind: "cpu" | "memory") =>
        isQuantity(app.resources.limits[kind]) ? parseQuantity(app.resources.limits[kind]) * pods : undefined;
    return { pods, cpu: limit("cpu"), memory: limit("memory") };
}

/** `slipway:app`: the stack's first app, whose quota is the stage namespace's. */
export const appSchema = appFields
    .superRefine(contractRules({ port: "app.port", metrics: "app.metrics" }), whenObject)
    .superRefine(ingressRule)
    .superRefine((app, ctx) => {
        // A rolling update with maxSurge 1 runs the new set plus its surge pod while old pods still drain, and the
        // quota counts them all: a quota without room for that stalls every rollout step, so refuse it now.
        const peak = rolloutPeak(app);
        if (app.quota.pods < peak.pods) {
            ctx.addIssue({
                code: "custom",
                path: ["quota", "pods"],
                message: `expected at least ${peak.pods} pods (during a rollout: max replicas + 1 surge pod + the old pods still draining)`,
            });
        }
        for (const kind of ["cpu", "memory"] as const) {
            const needed = peak[kind];
            if (needed === undefined || !isQuantity(app.quota[kind])) {
                continue;
            }
            if (parseQuantity(app.quota[kind]) < needed) {
                ctx.addIssue({
                    code: "custom",
                    path: ["quota", kind],
                    message: `expected at least ${peak.pods} x limits.${kind} (${app.resources.limits[kind]}): a rollout at max replicas holds ${peak.pods} pods`,
                });
            }
        }
    });

/**
 * One more app of the stage (`slipway:apps.<name>`): every key of `slipway:app` but `name` (the entry's key) and
 * `quota` (the stage's, in `slipway:app`), plus its own `image`, its own `secretEnv` and, where its build environment
 * differs from the stage's, its own `buildImage`.
 */
export function moreAppSchema<I extends z.ZodType, B extends z.ZodType>(image: I, buildImage: B) {
    return appFields
        .omit({ name: true, quota: true })
        .extend({
            image,
            buildImage: buildImage.optional(),
            /** The app's secret environment, as `slipway:secretEnv` is the first app's. */
            secretEnv: z.record(envName, z.string()).default({}),
        })
        .superRefine(contractRules({ port: "the app's port", metrics: "the app's metrics" }), whenObject)
        .superRefine(ingressRule);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
