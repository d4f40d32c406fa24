import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentType, type RegistryCredentials } from "../contracts";
import { commonLabels, denyAllIngressSpec, dockerConfigJson, limitRangeSpec, resourceQuotaSpec, ResourceSettings } from "./lib/manifests";

/** Arguments of {@link StageNamespace}. Pass the Kubernetes provider through `opts.providers`. */
export interface StageNamespaceArgs {
    /** Stage (local, dev, qa, prod): part of the labels. */
    stage: string;
    /** Name of the namespace to create; it holds every app of the stage. */
    namespace: string;
    /**
     * The app the stage's namespace-wide objects are labelled and named after (`<name>-quota`, `<name>-limits`): the
     * stack's first app, so a one-app stack's objects keep their names and labels.
     */
    labelledAfter: string;
    /** The namespace's ResourceQuota: room for every app's pods, rollouts included. */
    quota: { cpu: string; memory: string; pods: number };
    /** The LimitRange's defaults for a container that sets none: the first app's resources. */
    defaultResources: ResourceSettings;
    /**
     * Registry credentials the cluster needs to pull, made into one image pull secret every app of the stage uses.
     * Defaults to none: nodes pull on their own.
     */
    imagePullCredentials?: pulumi.Input<RegistryCredentials>;
    /**
     * Where these objects lived before this component held them: the component's `name` and URN (or the resource). Each
     * child gets an alias to `<name>-<suffix>` under it, so moving them here replaces nothing. Defaults to none.
     */
    formerParent?: { name: string; parent: pulumi.Resource | pulumi.Input<string> };
}

/**
 * What belongs to a stage and not to one of its apps: the Namespace (Pod Security "restricted"), its ResourceQuota and
 * LimitRange, the default-deny ingress NetworkPolicy, and the image pull secret. Each {@link AppDeployment} of the stage
 * lives in it.
 */
export class StageNamespace extends pulumi.ComponentResource {
    /** Name of the namespace, once it exists. */
    public readonly name: pulumi.Output<string>;
    /** Name of the namespace as given: what the apps' labels and policies name. */
    public readonly namespaceName: string;
    /** Name of the image pull secret, where the registry needs one. */
    public readonly pullSecretName: pulumi.Output<string> | undefined;

    constructor(name: string, args: StageNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ComponentType.StageNamespace, name, {}, opts);
        const former = args.formerParent;
        const child = (suffix: string): pulumi.CustomResourceOptions => ({
            parent: this,
            aliases: former === undefined ? [] : [{ name: `${former.name}-${suffix}`, parent: former.parent }],
        });
        const labels = commonLabels({ appName: args.labelledAfter, stage: args.stage, namespace: args.namespace });

        const ns = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: args.namespace,
                    labels: {
                        ...labels,
                        // Pod Security Admission: the namespace refuses pods that are not "restricted".
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            child("ns"),
        );
        // Every body below names ns.metadata.name, so each waits for the namespace without dependsOn.
        const meta = (objectName?: string) => ({
            ...(objectName === undefined ? {} : { name: objectName }),
            namespace: ns.metadata.name,
            labels,
        });
        new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            { metadata: meta(`${args.labelledAfter}-quota`), spec: resourceQuotaSpec(args.quota) },
            child("quota"),
        );
        new k8s.core.v1.LimitRange(
            `${name}-limits`,
            { metadata: meta(`${args.labelledAfter}-limits`), spec: limitRangeSpec(args.defaultResources, args.quota) },
            child("limits"),
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-deny-all`,
            { metadata: meta("default-deny-ingress"), spec: denyAllIngressSpec() },
            child("deny-all"),
        );
        const pullSecret =
            args.imagePullCredentials &&
            new k8s.core.v1.Secret(
                `${name}-pull`,
                {
                    metadata: meta(),
                    type: "kubernetes.io/dockerconfigjson",
                    stringData: { ".dockerconfigjson": pulumi.secret(pulumi.output(args.imagePullCredentials).apply(dockerConfigJson)) },
                },
                child("pull"),
            );

        this.name = ns.metadata.name;
        this.namespaceName = args.namespace;
        this.pullSecretName = pullSecret?.metadata.name;
        this.registerOutputs({ name: this.name, pullSecretName: this.pullSecretName });
    }
}
