import { CapturedResource, revealInput } from "./mocks";

/**
 * Offline validation of Kubernetes objects against the official OpenAPI schemas bundled in
 * kubernetes-models (core APIs) and @kubernetes-models/prometheus-operator (ServiceMonitor,
 * PrometheusRule). Those validators ignore fields the schema does not define, so a misspelt
 * `readinesProbe` would pass; {@link unknownFields} closes that gap.
 */

/** A Kubernetes object body: what the provider would send to the API server. */
export type KubernetesObject = { apiVersion: string; kind: string; metadata?: Record<string, any>; [key: string]: unknown };

type ModelClass = new (data: unknown) => { validate(): void };

const MODULES: Record<string, string> = {
    "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

async function modelFor(object: KubernetesObject): Promise<ModelClass> {
    const specifier = MODULES[object.apiVersion] ?? `kubernetes-models/${object.apiVersion}`;
    const module = (await import(specifier)) as Record<string, ModelClass>;
    const model = module[object.kind];
    if (model === undefined) {
        throw new Error(`no schema for ${object.apiVersion} ${object.kind} in ${specifier}`);
    }
    return model;
}

/** Schema errors of an object as `path message` lines; empty when valid. */
export async function schemaErrors(object: KubernetesObject): Promise<string[]> {
    const Model = await modelFor(object);
    return errorsOf(Model, object).map((e) => `${e.instancePath || "/"} ${e.message}`);
}

function errorsOf(Model: ModelClass, object: unknown): { instancePath: string; message?: string }[] {
    try {
        new Model(object).validate();
        return [];
    } catch (error) {
        const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
        if (!errors) {
            throw error;
        }
        return errors;
    }
}

/**
 * Paths of fields the schema does not define. Each field is probed by replacing its value with a
 * Symbol, which no JSON-schema type accepts: a defined field then fails at its own path, an
 * undefined one is silently ignored by the validator and so reported here.
 */
export async function unknownFields(object: KubernetesObject): Promise<string[]> {
    const Model = await modelFor(object);
    const unknown: string[] = [];
    const probe = (pathParts: (string | number)[]) => {
        const copy = structuredClone(object) as any;
        let parent = copy;
        for (const part of pathParts.slice(0, -1)) {
            parent = parent[part];
        }
        parent[pathParts[pathParts.length - 1]] = Symbol("probe");
        const pointer = toPointer(pathParts);
        return errorsOf(Model, copy).some((e) => e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`));
    };
    const walk = (value: unknown, pathParts: (string | number)[]) => {
        if (Array.isArray(value)) {
            value.forEach((item, i) => walk(item, [...pathParts, i]));
        } else if (value !== null && typeof value === "object") {
            for (const [key, child] of Object.entries(value)) {
                const childPath = [...pathParts, key];
                if (!probe(childPath)) {
                    unknown.push(toPointer(childPath));
                    continue;
                }
                walk(child, childPath);
            }
        }
    };
    walk(object, []);
    return unknown;
}

/** RFC 6901 JSON pointer, as ajv reports `instancePath` (label keys contain `/`). */
function toPointer(parts: (string | number)[]): string {
    return parts.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** Deep copy with secret markers removed and undefined dropped, as the provider would serialise it. */
function plain(value: unknown): unknown {
    const revealed = revealInput(value);
    if (Array.isArray(revealed)) {
        return revealed.map(plain);
    }
    if (revealed !== null && typeof revealed === "object") {
        return Object.fromEntries(
            Object.entries(revealed)
                .filter(([, v]) => v !== undefined)
                .map(([k, v]) => [k, plain(v)]),
        );
    }
    return revealed;
}

/** The Kubernetes objects among captured resources, as bodies; auto-named ones get a generated name. */
export function kubernetesObjects(resources: CapturedResource[]): { resource: CapturedResource; object: KubernetesObject }[] {
    return resources
        .filter((r) => r.type.startsWith("kubernetes:"))
        .map((resource) => {
            const object = plain(resource.inputs) as KubernetesObject;
            object.metadata = { ...object.metadata, name: object.metadata?.name ?? `${resource.name}-1a2b3c4d` };
            return { resource, object };
        });
}
