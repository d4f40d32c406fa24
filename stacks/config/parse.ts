/**
 * Reading the config Pulumi hands the program, and turning schema issues into one error that lists every bad key.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { StackConfig, stackConfigSchema, TEXT_KEYS } from "./schema";

/** The Pulumi project whose `<project>:<key>` config Slipway reads. */
export const PROJECT = "slipway";

/**
 * Raised for bad stack config; `problems` holds one line per bad key. A Pulumi RunError: the engine prints its message
 * alone, where any other error thrown by a program comes with the program's stack trace around it.
 */
export class StackConfigError extends pulumi.RunError {
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
            ? issue.keys.map((key) => `${configKey([...issue.path, key])}: unknown key (check its spelling against docs/configuration.md)`)
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
 * Decodes the flat `project:key → string` map Pulumi hands a program into `key → value` for this project only.
 * Structured values arrive as JSON text and are decoded; keys the schema types as text ({@link TEXT_KEYS}) are kept
 * exactly as given: `registryPassword: "12345678"` must stay a string.
 */
export function decodeProjectConfig(all: Record<string, string>, project = PROJECT): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(all)) {
        const [namespace, key] = splitKey(fullKey);
        if (namespace !== project) {
            continue;
        }
        raw[key] = TEXT_KEYS.has(key) ? text : decodeValue(text);
    }
    return raw;
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function decodeValue(text: string): unknown {
    // Pulumi passes objects, arrays, numbers and booleans as JSON; plain strings arrive as-is (and a key the schema
    // does not know is decoded the same way, to be reported as unknown).
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
