/**
 * Runs Slipway's policies the way the policy server does, without a server: hand-built ResourceValidationArgs and
 * StackValidationArgs (with `notApplicable` that throws and `stackTags`), the config exactly as given (each rule fills
 * its own schema defaults, as it must when called outside the engine), and the
 * engine's enforcement precedence.
 */
import {
    EnforcementLevel,
    PolicyPackConfig,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Stage, effectiveEnforcement, policies } from "../../policy/policies";

/** Thrown when a policy reads a value that is unknown during preview, as the policy server's proxy does. */
export class UnknownValue extends Error {}

/** How the Pulumi mocks mark a value unknown during preview. */
function isUnknown(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>).__pulumiUnknown === true;
}

/**
 * Wraps props so reading an unknown value throws {@link UnknownValue}: the policy server does the same, and reports
 * the policy as advisory "can't run during preview".
 */
export function unknownChecking<T>(value: T, path = "props"): T {
    if (typeof value !== "object" || value === null) return value;
    return new Proxy(value as unknown as object, {
        get(target, key, receiver) {
            const v = Reflect.get(target, key, receiver);
            if (typeof key === "symbol") return v;
            if (isUnknown(v)) throw new UnknownValue(`${path}.${key} is unknown`);
            return unknownChecking(v, `${path}.${key}`);
        },
    }) as T;
}

/** Thrown by the hand-built `notApplicable`, as the policy server's own NotApplicableError is. */
export class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(`not applicable: ${reason ?? ""}`);
    }
}

/** A resource as a test describes it. */
export interface TestResource {
    type: string;
    name?: string;
    props: Record<string, any>;
    urn?: string;
}

/** The outcome of running one policy. */
export interface PolicyRun {
    /** Messages passed to reportViolation, in order. */
    violations: string[];
    /** The reason given to notApplicable, when the policy declared itself not applicable. */
    notApplicable?: string;
    /** Set when the policy hit a value unknown during preview (the server then reports it as advisory). */
    unknown?: string;
}

function urnOf(r: TestResource): string {
    return r.urn ?? `urn:pulumi:test::slipway::${r.type}::${r.name ?? "r"}`;
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

/** Resource options as the engine reports them for a plain resource. */
function defaultOpts() {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        additionalSecretOutputs: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    };
}

/** ResourceValidationArgs for a hand-built resource. */
export function resourceArgs(resource: TestResource, config: Record<string, unknown> = {}): ResourceValidationArgs {
    return {
        type: resource.type,
        props: resource.props,
        urn: urnOf(resource),
        name: resource.name ?? "r",
        opts: defaultOpts(),
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** StackValidationArgs for hand-built resources (props are the resources' outputs, as in a real stack check). */
export function stackArgs(resources: TestResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: urnOf(r),
        name: r.name ?? "r",
        opts: defaultOpts(),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
    return {
        resources: policyResources,
        stackTags: new Map<string, string>(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

async function collect(run: (report: (message: string) => void) => Promise<void> | void): Promise<PolicyRun> {
    const violations: string[] = [];
    try {
        await run((message) => violations.push(message));
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        if (e instanceof UnknownValue) return { violations, unknown: e.message };
        throw e;
    }
    return { violations };
}

/** Runs a resource policy on one resource. */
export function runResource(
    policy: ResourceValidationPolicy,
    resource: TestResource,
    config?: Record<string, unknown>,
): Promise<PolicyRun> {
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    return collect(async (report) => {
        // Exactly the config given: each rule fills its schema's defaults itself (policy/lib/config.ts), and these tests
        // must see it do so, not a copy of that logic here.
        for (const validate of validations) await validate(resourceArgs(resource, config), report);
    });
}

/** Runs a stack policy on a set of resources. */
export function runStack(policy: StackValidationPolicy, resources: TestResource[], config?: Record<string, unknown>): Promise<PolicyRun> {
    return collect((report) => policy.validateStack(stackArgs(resources, config), report));
}

/** One violation found by {@link runPack}. */
export interface Violation {
    policy: string;
    enforcement: EnforcementLevel;
    /** The resource's name for resource rules; "stack" for stack rules. */
    resource: string;
    message: string;
}

/** The per-stage policy config the repository ships (`policy/config/<stage>.json`). */
export function stagePolicyConfig(stage: Stage): PolicyPackConfig {
    return JSON.parse(readFileSync(path.resolve(__dirname, "..", "..", "policy", "config", `${stage}.json`), "utf8"));
}

/** The config properties (everything but enforcementLevel) a pack config gives one policy. */
function propertiesFor(config: PolicyPackConfig, name: string): Record<string, unknown> {
    const entry = config[name];
    if (typeof entry !== "object" || entry === null) return {};
    const { enforcementLevel: _ignored, ...properties } = entry;
    return properties;
}

/**
 * Runs every enabled policy of the pack over a stack, as `pulumi preview --policy-pack policy
 * --policy-pack-config <config>` would: resource rules on every resource, stack rules once.
 */
export async function runPack(resources: TestResource[], config: PolicyPackConfig = {}): Promise<Violation[]> {
    const found: Violation[] = [];
    for (const policy of policies) {
        const enforcement = effectiveEnforcement(policy.name, config);
        if (enforcement === "disabled") continue;
        const properties = propertiesFor(config, policy.name);
        const record = (run: PolicyRun, resource: string) => {
            for (const message of run.violations) found.push({ policy: policy.name, enforcement, resource, message });
            if (run.unknown) {
                found.push({
                    policy: policy.name,
                    enforcement: "advisory",
                    resource,
                    message: `can't run policy '${policy.name}' during preview: ${run.unknown}`,
                });
            }
        };
        if ("validateStack" in policy) {
            record(await runStack(policy, resources, properties), "stack");
        } else {
            for (const resource of resources) record(await runResource(policy, resource, properties), resource.name ?? "r");
        }
    }
    return found;
}

/** Replaces serialized secrets (`{ <sig key>: <secret sig>, value }`) by their values, as the policy server does before calling policies. */
export function unwrapSecrets(value: unknown): any {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (typeof value !== "object" || value === null) return value;
    const record = value as Record<string, unknown>;
    if (record[specialSigKey] === specialSecretSig) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}
