import { ResourceValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { K8S, containersOf, describeContainer, podTemplateOf } from "../lib/kube";
import { secretLikeContent, secretLikeName, secretLikeValue } from "../lib/secrets";

const configSchema = {
    properties: {
        allowedNames: {
            type: "array" as const,
            items: { type: "string" as const },
            default: [] as string[],
            description: "Env var / ConfigMap key names that look secret but are not (e.g. TOKEN_URL).",
        },
    },
};

/**
 * Secrets travel as Kubernetes Secrets (slipway:secretEnv → Secret → env valueFrom), never as ConfigMap data,
 * env literals or annotations, where anyone with read access to the namespace (or the Pulumi state) sees them.
 */
export const noPlaintextSecrets: ResourceValidationPolicy = {
    name: "slipway-no-plaintext-secrets",
    description: "No secret-looking keys or values in ConfigMaps, plain env values or annotations.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["security", "secrets"],
    configSchema,
    remediationSteps: "Move the value to slipway:secretEnv (pulumi config set --secret --path 'secretEnv.NAME' …).",
    validateResource: (args, report) => {
        if (!args.type.startsWith("kubernetes:")) {
            return args.notApplicable("not a Kubernetes object");
        }
        const { allowedNames } = configWithDefaults<{ allowedNames: string[] }>(configSchema, args);
        const fix =
            "Fix: keep it in slipway:secretEnv (pulumi config set --secret --path secretEnv.<NAME> <value>), " +
            "which reaches the pod through a Kubernetes Secret and env valueFrom.secretKeyRef.";

        const annotations: Record<string, unknown> = args.props.metadata?.annotations ?? {};
        for (const [key, value] of Object.entries(annotations)) {
            const kind = secretLikeValue(value);
            if (kind) report(`annotation "${key}" holds ${kind}. ${fix}`);
        }

        if (args.type === K8S.ConfigMap) {
            for (const section of ["data", "binaryData"] as const) {
                for (const [key, value] of Object.entries<unknown>(args.props[section] ?? {})) {
                    if (secretLikeName(key, allowedNames)) {
                        report(`ConfigMap ${section} key "${key}" looks like a secret. ${fix}`);
                        continue;
                    }
                    const kind = section === "data" ? secretLikeContent(value) : undefined;
                    if (kind) report(`ConfigMap ${section} key "${key}" contains ${kind}. ${fix}`);
                }
            }
            return;
        }

        const template = podTemplateOf(args.type, args.props);
        if (!template) {
            return;
        }
        for (const ref of containersOf(template.spec)) {
            for (const env of Array.isArray(ref.container.env) ? ref.container.env : []) {
                if (env?.valueFrom || env?.value === undefined || env.value === "") {
                    continue; // references to Secrets/ConfigMaps and empty values are fine
                }
                if (secretLikeName(env.name, allowedNames)) {
                    report(`${describeContainer(ref)} sets env ${env.name} to a literal value. ${fix}`);
                    continue;
                }
                const kind = secretLikeValue(env.value);
                if (kind) report(`${describeContainer(ref)} env ${env.name} holds ${kind}. ${fix}`);
            }
        }
    },
};
