import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { STAGES, type BuildMetadata } from "../../contracts";
import { parseStackConfig } from "../../stacks/config";
import { defineStage, StackOutputs } from "../../stacks/stage";
import { attachUrns, CapturedResource, RecordingMocks, registeredUrns, settle } from "./mocks";

export type { CapturedResource } from "./mocks";

/** The stacks the repository ships, each with its `Pulumi.<stack>.yaml`. */
export const STACKS = STAGES;
export type StackName = (typeof STACKS)[number];

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Build metadata the tests pretend CI passed. */
export const TEST_BUILD: BuildMetadata = {
    buildNumber: "1042",
    gitBranch: "feature/login-page",
    gitSha: "9f2c4e1a7b3d5f6e8c0a1b2c3d4e5f6a7b8c9d0e",
};

/**
 * The `slipway:` keys of a real stack file, without the prefix: the config the program would get
 * from `pulumi up -s <stack>`. Other namespaces (`aws:region`) are left out, as the program ignores them.
 */
export function readStackConfig(stack: StackName): Record<string, unknown> {
    const file = parseYaml(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(file.config ?? {})) {
        if (key.startsWith("slipway:")) {
            raw[key.slice("slipway:".length)] = value;
        }
    }
    return raw;
}

/** Options of {@link evaluateStack}. */
export interface EvaluateOptions {
    /** Evaluate as `pulumi preview`: computed outputs (digests) stay unknown. */
    preview?: boolean;
    /** Top-level keys (without `slipway:`) replacing the stack file's. */
    config?: Record<string, unknown>;
    /** Build metadata; {@link TEST_BUILD} by default. */
    build?: BuildMetadata;
    /** defineStage's `projectRoot`; the working directory by default, as for a program Pulumi runs. */
    projectRoot?: string;
}

/** The result of evaluating one stack under mocks. */
export interface EvaluatedStack {
    resources: CapturedResource[];
    /** Every URN the stack registered, sorted. */
    urns: string[];
    outputs: StackOutputs;
    mocks: RecordingMocks;
}

/**
 * Runs the program for one stack under fresh Pulumi mocks and returns every resource it registered,
 * with inputs resolved. Each evaluation gets its own mocks, so stacks never leak into each other.
 */
async function runStack(stack: StackName, options: EvaluateOptions): Promise<EvaluatedStack> {
    const mocks = new RecordingMocks(options.preview ?? false);
    await pulumi.runtime.setMocks(mocks, "slipway", stack, options.preview ?? false);
    const config = parseStackConfig({ ...readStackConfig(stack), ...options.config });
    const outputs = defineStage(config, options.build ?? TEST_BUILD, { projectRoot: options.projectRoot });
    await settle();
    const urns = registeredUrns().sort();
    attachUrns(mocks.resources, urns);
    return { resources: mocks.resources, urns, outputs, mocks };
}

const evaluated = new Map<string, Promise<EvaluatedStack>>();

/**
 * {@link runStack}, once per distinct stack and options in a test process: the program is
 * deterministic for given inputs, and its outputs stay resolved after the mocks move on. Callers get
 * their own deep copy of the resources and may mutate it.
 */
export async function evaluateStackFull(stack: StackName, options: EvaluateOptions = {}): Promise<EvaluatedStack> {
    const key = JSON.stringify([stack, options]);
    let pending = evaluated.get(key);
    if (pending === undefined) {
        pending = runStack(stack, options);
        evaluated.set(key, pending);
    }
    const result = await pending;
    return { ...result, resources: structuredClone(result.resources) };
}

/** {@link evaluateStackFull}, resources only: what the policy pack and schema checks consume. */
export async function evaluateStack(stack: StackName, options: EvaluateOptions = {}): Promise<CapturedResource[]> {
    return (await evaluateStackFull(stack, options)).resources;
}

/** Resources of one type token. */
export function ofType(resources: CapturedResource[], type: string): CapturedResource[] {
    return resources.filter((r) => r.type === type);
}

/** The single resource of a type; fails loudly when there are none or several. */
export function single(resources: CapturedResource[], type: string): CapturedResource {
    const found = ofType(resources, type);
    if (found.length !== 1) {
        throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    }
    return found[0];
}
