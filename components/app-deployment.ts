import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { isDigestPinned } from "./lib/image-ref";
import {
    appNetworkPolicySpec,
    autoscalerSpec,
    commonLabels,
    appEgressPolicySpec,
    EgressSettings,
    deploymentCustomTimeouts,
    labelValue,
    deploymentSpec,
    ingressSpec,
    MonitoringSettings,
    podContractProblems,
    podDisruptionBudgetSpec,
    ProbeSettings,
    ProbesSettings,
    prometheusRuleSpec,
    provenanceAnnotations,
    renderConfigFile,
    RequestMetric,
    ResourceSettings,
    serviceMonitorSpec,
    serviceSpec,
} from "./lib/manifests";
import { ComponentType, type RegistryCredentials } from "../contracts";
import { APP_DEFAULTS } from "./defaults";
import { StageNamespace } from "./stage-namespace";

/** Arguments of {@link AppDeployment}. Pass the Kubernetes provider through `opts.providers`. */
export interface AppDeploymentArgs {
    /** App name: names the Deployment, Service and container. A DNS-1123 label. */
    appName: string;
    /** Stage (local, dev, qa, prod): part of labels, namespace and alert severity. */
    stage: string;
    /** Namespace to create for this stage; every object of the app lives in it. Defaults to `<appName>-<stage>`. */
    namespace?: string;
    /** The image, only by digest: `repo@sha256:<64 hex>`. Anything else is rejected. */
    image: pulumi.Input<string>;
    /**
     * CI build number of the image, for annotations, the `BUILD_NUMBER` variable and the pods'
     * `app.kubernetes.io/version` label (made a valid label value). May be an Output.
     */
    buildNumber: pulumi.Input<string>;
    /** Branch the image was built from. */
    gitBranch: pulumi.Input<string>;
    /** Commit the image was built from. */
    gitSha: pulumi.Input<string>;
    /** Desired replicas; the HPA minimum wins when {@link AppDeploymentArgs.autoscaling} is set. Defaults to `1`. */
    replicas?: number;
    /** Container port of the app (probes and Service `http` port), 1024-65535. Defaults to `8080`. */
    port?: number;
    /**
     * Container port of the metrics endpoint (Service `metrics` port, scraped by the ServiceMonitor, passed as
     * `METRICS_PORT`), 1024-65535 and not {@link AppDeploymentArgs.port}. `false`: the app has none, so no metrics port,
     * no `METRICS_PORT` and no ServiceMonitor. Defaults to `9464`.
     */
    metricsPort?: number | false;
    /**
     * HTTP probes on the `http` port, each field defaulting on its own: startup `/healthz` every 1 s, 30 failures;
     * readiness `/readyz` every 5 s, 2 failures, 2 s timeout; liveness `/healthz` every 10 s, 3 failures, 2 s timeout.
     */
    probes?: { [K in keyof ProbesSettings]?: Partial<ProbeSettings> };
    /**
     * Numeric user the container runs as; never `0`. The image must run as this user (its files readable by it): Slipway
     * cannot read an image's `USER` while the program runs. Defaults to `10001`.
     */
    runAsUser?: number;
    /** Numeric group of the container and of its mounted volumes (`fsGroup`). Defaults to {@link AppDeploymentArgs.runAsUser}. */
    runAsGroup?: number;
    /**
     * The app's request counter, for the error-rate alert: `requestsTotal` names the metric, `statusLabel` (default
     * `status`) its label carrying the HTTP status. Needs a metrics port. Defaults to none: no error-rate alert.
     */
    metrics?: { requestsTotal: string; statusLabel?: string };
    /** Plain environment variables. Never put secrets here: use {@link AppDeploymentArgs.secretEnv}. Defaults to none. */
    env?: Record<string, string>;
    /** Secret environment variables, stored in a Kubernetes Secret and referenced by key. Defaults to none. */
    secretEnv?: Record<string, pulumi.Input<string>>;
    /** A config file mounted read-only from an auto-named ConfigMap: a content change rolls the pods. */
    configFile?: { path: string; content: string | Record<string, unknown> };
    /**
     * Requests and limits of the container. `ephemeralStorage` defaults to a request of `128Mi` and a limit of `256Mi`
     * (the 64Mi `/tmp` volume plus logs).
     */
    resources: Resources;
    /** CPU autoscaling; adds a HorizontalPodAutoscaler. */
    autoscaling?: { minReplicas: number; maxReplicas: number; targetCpuUtilization: number };
    /** Seconds of preStop sleep before SIGTERM (Kubernetes >= 1.30 for the `sleep` action). Defaults to `5`. */
    preStopSeconds?: number;
    /** Seconds the app stays up not-ready after SIGTERM. Defaults to `2`. */
    drainSeconds?: number;
    /** Seconds the app waits for in-flight requests before it exits. Defaults to `10`. */
    shutdownTimeoutSeconds?: number;
    /** Namespaces admitted to the app port by the NetworkPolicy (e.g. the ingress controller's). Defaults to none. */
    allowFrom?: string[];
    /** Optional Ingress to the Service. */
    ingress?: { host: string; className: string; tlsSecretName?: string };
    /**
     * Spread over nodes with max skew 1: `soft` prefers it (`ScheduleAnyway`); `hard` requires it (`DoNotSchedule`),
     * so node counts stay within one of each other. `hard` keeps pods on separate nodes only while there are at least
     * as many nodes as pods; it is no per-node cap. Defaults to `soft`.
     */
    topologySpread?: "soft" | "hard";
    /**
     * Restrict the pods' egress to the cluster DNS and these dependencies (a NetworkPolicy of type Egress). Defaults
     * to none: egress is unrestricted.
     */
    egress?: EgressSettings;
    /**
     * Expose the `http` port on this port of every node (30000-32767): the Service becomes `NodePort` and the app port
     * is open to every source. Defaults to none: a `ClusterIP` Service reached inside the cluster.
     */
    nodePort?: number;
    /**
     * Seconds a rollout may make no progress before Kubernetes marks it failed (`progressDeadlineSeconds`); `pulumi up`
     * gives up on the Deployment a minute later. Defaults to `300`.
     */
    rolloutTimeoutSeconds?: number;
    /**
     * Namespace ResourceQuota; LimitRange defaults come from {@link AppDeploymentArgs.resources}. Required unless
     * {@link AppDeploymentArgs.stageNamespace} is given (the stage's namespace has its own quota).
     */
    quota?: { cpu: string; memory: string; pods: number };
    /**
     * The stage's namespace, shared by its apps ({@link StageNamespace}): the app lives in it and uses its image pull
     * secret; {@link AppDeploymentArgs.namespace}, `quota` and `imagePullCredentials` are then the stage's, not read here.
     * Defaults to none: the app creates its stage's namespace-wide objects itself, as a one-app stage.
     */
    stageNamespace?: StageNamespace;
    /** Prometheus Operator monitoring, or undefined where its CRDs are not installed. */
    monitoring?: MonitoringSettings;
    /**
     * Registry credentials the cluster needs to pull, made into an image pull secret (`Registry.pullCredentials`).
     * Defaults to none: nodes pull on their own.
     */
    imagePullCredentials?: pulumi.Input<RegistryCredentials>;
}

/** Container resources as AppDeployment takes them: ephemeral storage may be left to its default. */
export interface Resources {
    /** What the scheduler reserves: `cpu`, `memory`, and `ephemeralStorage` (defaults to `128Mi`). */
    requests: Omit<ResourceSettings["requests"], "ephemeralStorage"> & { ephemeralStorage?: string };
    /** What the container may use: `cpu`, `memory`, and `ephemeralStorage` (defaults to `256Mi`). */
    limits: Omit<ResourceSettings["limits"], "ephemeralStorage"> & { ephemeralStorage?: string };
}

/** {@link AppDeploymentArgs} with every default applied. */
type Optional =
    "configFile" | "autoscaling" | "ingress" | "monitoring" | "imagePullCredentials" | "nodePort" | "egress" | "quota" | "stageNamespace";
type Settings = Required<Omit<AppDeploymentArgs, Optional | "resources" | "metricsPort" | "probes" | "metrics">> &
    Pick<AppDeploymentArgs, Optional> & {
        resources: ResourceSettings;
        /** Undefined: the app has no metrics port. */
        metricsPort?: number;
        probes: ProbesSettings;
        requestMetric?: RequestMetric;
    };

/** Applies the documented defaults (components/defaults.ts). */
function withDefaults(args: AppDeploymentArgs): Settings {
    return {
        ...args,
        namespace: args.stageNamespace?.namespaceName ?? args.namespace ?? `${args.appName}-${args.stage}`,
        replicas: args.replicas ?? APP_DEFAULTS.replicas,
        port: args.port ?? APP_DEFAULTS.port,
        metricsPort: args.metricsPort === false ? undefined : (args.metricsPort ?? APP_DEFAULTS.metricsPort),
        probes: {
            startup: { ...APP_DEFAULTS.probes.startup, ...args.probes?.startup },
            readiness: { ...APP_DEFAULTS.probes.readiness, ...args.probes?.readiness },
            liveness: { ...APP_DEFAULTS.probes.liveness, ...args.probes?.liveness },
        },
        runAsUser: args.runAsUser ?? APP_DEFAULTS.runAsUser,
        runAsGroup: args.runAsGroup ?? args.runAsUser ?? APP_DEFAULTS.runAsUser,
        requestMetric: args.metrics && {
            requestsTotal: args.metrics.requestsTotal,
            statusLabel: args.metrics.statusLabel ?? APP_DEFAULTS.statusLabel,
        },
        env: args.env ?? {},
        secretEnv: args.secretEnv ?? {},
        preStopSeconds: args.preStopSeconds ?? APP_DEFAULTS.preStopSeconds,
        drainSeconds: args.drainSeconds ?? APP_DEFAULTS.drainSeconds,
        shutdownTimeoutSeconds: args.shutdownTimeoutSeconds ?? APP_DEFAULTS.shutdownTimeoutSeconds,
        allowFrom: args.allowFrom ?? [],
        topologySpread: args.topologySpread ?? APP_DEFAULTS.topologySpread,
        rolloutTimeoutSeconds: args.rolloutTimeoutSeconds ?? APP_DEFAULTS.rolloutTimeoutSeconds,
        resources: {
            requests: {
                ...args.resources.requests,
                ephemeralStorage: args.resources.requests.ephemeralStorage ?? APP_DEFAULTS.ephemeralStorage.request,
            },
            limits: {
                ...args.resources.limits,
                ephemeralStorage: args.resources.limits.ephemeralStorage ?? APP_DEFAULTS.ephemeralStorage.limit,
            },
        },
    };
}

/**
 * One app in one stage: its NetworkPolicy, ConfigMap and Secret, Deployment, Service, PDB, HPA, Ingress, ServiceMonitor and
 * PrometheusRule, in the stage's {@link StageNamespace} (made here, as a child, when none is given). Bodies come from the
 * pure functions in `lib/manifests/`; this class only creates the resources.
 */
export class AppDeployment extends pulumi.ComponentResource {
    /** Name of the namespace created for the stage. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the Service (stable DNS name `<service>.<namespace>`). */
    public readonly serviceName: pulumi.Output<string>;
    /** Name of the Deployment. */
    public readonly deploymentName: pulumi.Output<string>;
    /** The image the Deployment runs, by digest. */
    public readonly image: pulumi.Output<string>;

    constructor(name: string, given: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentType.AppDeployment, name, {}, opts);
        const args = withDefaults(given);
        // The app contract (ports, probes, user, env names, metrics), checked before any child exists.
        const problems = podContractProblems(args);
        if (problems.length > 0) {
            throw new pulumi.InputPropertyError({
                propertyPath: problems[0].property,
                reason: `AppDeployment ${name}: ${problems.map((p) => `${p.property}: ${p.reason}`).join("; ")}`,
            });
        }
        const image = requireDigest(args.image);
        const id = { appName: args.appName, stage: args.stage, namespace: args.namespace };
        const labels = commonLabels(id);
        const child = { parent: this };

        // The stage's namespace-wide objects: the stage's own component, else (one app on its own) this app's child,
        // with aliases to where they lived before they were a component of their own.
        const stageNamespace =
            args.stageNamespace ??
            new StageNamespace(
                name,
                {
                    stage: args.stage,
                    namespace: args.namespace,
                    labelledAfter: args.appName,
                    quota: requireQuota(name, args.quota),
                    defaultResources: args.resources,
                    imagePullCredentials: args.imagePullCredentials,
                    formerParent: { name, parent: this },
                },
                child,
            );
        // Every body below names the namespace's name, so each waits for the namespace without dependsOn.
        const inNamespace = child;
        const meta = (objectName?: string) => ({
            ...(objectName === undefined ? {} : { name: objectName }),
            namespace: stageNamespace.name,
            labels,
        });

        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: meta(args.appName),
                spec: appNetworkPolicySpec({
                    ...id,
                    port: args.port,
                    metricsPort: args.metricsPort,
                    allowFrom: args.allowFrom,
                    monitoringNamespace: args.monitoring?.namespace,
                    openAppPort: args.nodePort !== undefined,
                }),
            },
            inNamespace,
        );
        if (args.egress) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-egress`,
                { metadata: meta(`${args.appName}-egress`), spec: appEgressPolicySpec(id, args.egress) },
                inNamespace,
            );
        }

        // Auto-named (no metadata.name): a new name on every content change makes the Deployment roll.
        const configMap =
            args.configFile &&
            new k8s.core.v1.ConfigMap(
                `${name}-config`,
                {
                    metadata: meta(),
                    data: { [path.posix.basename(args.configFile.path)]: renderConfigFile(args.configFile.path, args.configFile.content) },
                    immutable: true,
                },
                inNamespace,
            );
        const secretEnvNames = Object.keys(args.secretEnv);
        const secret =
            secretEnvNames.length > 0
                ? new k8s.core.v1.Secret(
                      `${name}-env`,
                      { metadata: meta(), type: "Opaque", stringData: pulumi.secret(args.secretEnv), immutable: true },
                      inNamespace,
                  )
                : undefined;
        const provenance = { image, buildNumber: args.buildNumber, gitBranch: args.gitBranch, gitSha: args.gitSha };
        // The build number may be an Output (a computed value): resolve it before making it a label value.
        const versionLabel = pulumi.output(args.buildNumber).apply(labelValue);
        // With an HPA its minimum is the floor the PDB and the initial rollout work with.
        const desiredReplicas = args.autoscaling?.minReplicas ?? args.replicas;
        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { ...meta(args.appName), annotations: provenanceAnnotations(provenance) },
                spec: deploymentSpec({
                    ...id,
                    ...provenance,
                    versionLabel,
                    replicas: desiredReplicas,
                    port: args.port,
                    metricsPort: args.metricsPort,
                    probes: args.probes,
                    runAsUser: args.runAsUser,
                    runAsGroup: args.runAsGroup,
                    env: args.env,
                    secretEnvNames,
                    secretName: secret?.metadata.name,
                    configFile: configMap && args.configFile && { path: args.configFile.path, configMapName: configMap.metadata.name },
                    resources: args.resources,
                    preStopSeconds: args.preStopSeconds,
                    drainSeconds: args.drainSeconds,
                    shutdownTimeoutSeconds: args.shutdownTimeoutSeconds,
                    topologySpread: args.topologySpread,
                    imagePullSecretName: stageNamespace.pullSecretName,
                    rolloutTimeoutSeconds: args.rolloutTimeoutSeconds,
                }),
            },
            {
                ...inNamespace,
                // With an HPA, the replica count belongs to the autoscaler after creation.
                ignoreChanges: args.autoscaling ? ["spec.replicas"] : [],
                customTimeouts: deploymentCustomTimeouts(args.rolloutTimeoutSeconds),
            },
        );
        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: meta(args.appName),
                spec: serviceSpec({ ...id, port: args.port, metricsPort: args.metricsPort, nodePort: args.nodePort }),
            },
            inNamespace,
        );

        if (desiredReplicas >= 2) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                { metadata: meta(args.appName), spec: podDisruptionBudgetSpec(id) },
                inNamespace,
            );
        }
        if (args.autoscaling) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(
                `${name}-hpa`,
                { metadata: meta(args.appName), spec: autoscalerSpec(id, args.autoscaling) },
                inNamespace,
            );
        }
        if (args.ingress) {
            new k8s.networking.v1.Ingress(
                `${name}-ingress`,
                { metadata: meta(args.appName), spec: ingressSpec(id, args.ingress) },
                inNamespace,
            );
        }
        if (args.monitoring) {
            const monitoringMeta = { ...meta(args.appName), labels: { ...labels, ...args.monitoring.selectorLabels } };
            // Without a metrics port there is nothing to scrape; the alerts still watch the Deployment.
            if (args.metricsPort !== undefined) {
                new k8s.apiextensions.CustomResource(
                    `${name}-servicemonitor`,
                    {
                        apiVersion: "monitoring.coreos.com/v1",
                        kind: "ServiceMonitor",
                        metadata: monitoringMeta,
                        spec: serviceMonitorSpec(id, args.monitoring),
                    },
                    inNamespace,
                );
            }
            if (args.monitoring.alerts.enabled) {
                new k8s.apiextensions.CustomResource(
                    `${name}-alerts`,
                    {
                        apiVersion: "monitoring.coreos.com/v1",
                        kind: "PrometheusRule",
                        metadata: monitoringMeta,
                        spec: prometheusRuleSpec(id, args.monitoring, args.requestMetric),
                    },
                    inNamespace,
                );
            }
        }

        this.namespace = stageNamespace.name;
        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.image = image;
        this.registerOutputs({ namespace: this.namespace, serviceName: this.serviceName, deploymentName: this.deploymentName, image });
    }
}

/** The quota of an app that makes its own namespace: required there. */
function requireQuota(name: string, quota: AppDeploymentArgs["quota"]): NonNullable<AppDeploymentArgs["quota"]> {
    if (quota === undefined) {
        throw new pulumi.InputPropertyError({
            propertyPath: "quota",
            reason: `AppDeployment ${name}: quota is required when no stageNamespace is given (the app creates the namespace)`,
        });
    }
    return quota;
}

/**
 * Accepts only `repo@sha256:…`. A plain string is checked now, before any resource exists; an
 * Output (a digest being built) is checked when it resolves, failing that update.
 */
function requireDigest(image: pulumi.Input<string>): pulumi.Output<string> {
    const reject = (value: string) =>
        new pulumi.InputPropertyError({
            propertyPath: "image",
            reason: `image must be referenced by digest (<repository>@sha256:<64 hex>), got ${JSON.stringify(value)}; tags are mutable and break rollback`,
        });
    if (typeof image === "string") {
        if (!isDigestPinned(image)) {
            throw reject(image);
        }
        return pulumi.output(image);
    }
    return pulumi.output(image).apply((value) => {
        if (!isDigestPinned(value)) {
            throw reject(value);
        }
        return value;
    });
}
