/**
 * Ordering and naming updates in `stack.history()`, whatever the backend. Pulumi Cloud numbers every update (version
 * 1, 2, …); DIY backends (`file://`, `s3://`, `gs://`, `azblob://`) do not: every entry has version 0, entries come
 * newest first, and only their start and end times tell them apart. So:
 *
 * - updates are ordered by version where the backend numbers them, else by start time (newest first);
 * - every update has an address the backend can honour: its version where updates are numbered, else its start time
 *   in ISO 8601 UTC to the second (`2026-11-29T22:50:01Z`), which is what `status` prints and `rollback --to` takes.
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { refused } from "./errors";

/** An update's time as the SDK or the CLI gives it: a Date, ISO 8601 text, or epoch seconds or milliseconds. */
type TimeValue = Date | string | number | undefined | null;

/** Milliseconds since the epoch, or undefined for a missing or unreadable time. */
export function updateTime(value: unknown): number | undefined {
    const v = value as TimeValue;
    if (v instanceof Date) {
        return Number.isNaN(v.getTime()) ? undefined : v.getTime();
    }
    const epoch = (n: number) => (n < 1e12 ? n * 1000 : n);
    if (typeof v === "number") {
        return Number.isFinite(v) && v > 0 ? epoch(v) : undefined;
    }
    if (typeof v === "string" && v.trim() !== "") {
        if (/^[0-9]+(\.[0-9]+)?$/.test(v.trim())) {
            return epoch(Number(v));
        }
        const ms = Date.parse(v);
        return Number.isNaN(ms) ? undefined : ms;
    }
    return undefined;
}

/** ISO 8601 UTC to the second: `2026-11-29T22:50:01Z`. */
export function formatTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** True when the backend numbers its updates: every entry has its own version above 0 (Pulumi Cloud). */
export function numbersUpdates(history: readonly UpdateSummary[]): boolean {
    const versions = history.map((u) => u.version);
    return versions.every((v) => Number.isInteger(v) && v > 0) && new Set(versions).size === versions.length;
}

/** How to name updates of one stack's history. */
export interface UpdateNaming {
    /** Whether the backend numbers updates (else they are named by start time). */
    numbered: boolean;
    /** The address of an update: its version, or its start time (`2026-11-29T22:50:01Z`). */
    address(update: UpdateSummary): string;
    /** "update 41" or "update 2026-11-29T22:50:01Z", for messages. */
    describe(update: UpdateSummary): string;
}

/** Names the updates of `history` as its backend allows. */
export function updateNaming(history: readonly UpdateSummary[]): UpdateNaming {
    const numbered = numbersUpdates(history);
    const address = (u: UpdateSummary): string => {
        if (numbered) {
            return String(u.version);
        }
        const start = updateTime(u.startTime);
        return start === undefined ? "(no start time)" : formatTime(start);
    };
    return { numbered, address, describe: (u) => `update ${address(u)}` };
}

/**
 * Deployments only (`kind: update`), newest first: by version where the backend numbers updates, else by start time.
 * Entries the backend cannot tell apart keep its own order, which is newest first.
 */
export function deployments(history: readonly UpdateSummary[]): UpdateSummary[] {
    const numbered = numbersUpdates(history);
    const newestFirst = (a: UpdateSummary, b: UpdateSummary): number =>
        numbered ? b.version - a.version : (updateTime(b.startTime) ?? 0) - (updateTime(a.startTime) ?? 0);
    return history.filter((u) => u.kind === "update").sort(newestFirst);
}

/** The newest deployment, or `undefined` for a stack that was never updated. */
export function lastDeployment(history: readonly UpdateSummary[]): UpdateSummary | undefined {
    return deployments(history)[0];
}

/**
 * The id of an update's result as `up` returns it (`UpResult.summary`): its version where the backend numbers
 * updates, else its start time. A DIY backend reports version 0 for every update, which names nothing.
 */
export function summaryAddress(summary: Pick<UpdateSummary, "version" | "startTime">): string {
    if (Number.isInteger(summary.version) && summary.version > 0) {
        return String(summary.version);
    }
    const start = updateTime(summary.startTime);
    return start === undefined ? "(no start time)" : formatTime(start);
}

/**
 * How an operator names the update to restore (`rollback --to`): `previous`, `build:<n>`, `sha:<7..40 hex>`, a version
 * (`41`) or a start time in UTC (`2026-11-29T22:50:01Z`, optionally with milliseconds).
 */
export const UPDATE_ADDRESS = /^(previous|build:[0-9]+|sha:[0-9a-f]{7,40}|[1-9][0-9]*|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)$/;

/** A parsed {@link UPDATE_ADDRESS}. */
export type UpdateAddress =
    | { kind: "previous" }
    | { kind: "build"; buildNumber: string }
    | { kind: "sha"; prefix: string }
    | { kind: "version"; version: number }
    | { kind: "time"; ms: number; withMillis: boolean };

/** Parses an update address; `undefined` for anything {@link UPDATE_ADDRESS} does not accept. */
export function parseUpdateAddress(text: string): UpdateAddress | undefined {
    if (!UPDATE_ADDRESS.test(text)) {
        return undefined;
    }
    if (text === "previous") {
        return { kind: "previous" };
    }
    if (text.startsWith("build:")) {
        return { kind: "build", buildNumber: text.slice("build:".length) };
    }
    if (text.startsWith("sha:")) {
        return { kind: "sha", prefix: text.slice("sha:".length) };
    }
    if (/^[0-9]+$/.test(text)) {
        return { kind: "version", version: Number(text) };
    }
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : { kind: "time", ms, withMillis: text.includes(".") };
}

/** What an address may be, for refusals. */
export const UPDATE_ADDRESS_HELP =
    "pass previous, build:<n>, sha:<7..40 hex>, a version (41) or a start time in UTC (2026-11-29T22:50:01Z)";

/**
 * The deployment of `history` at a version or start-time `address`. A version is honoured only where the backend
 * numbers updates; a start time everywhere, to the second, or to the millisecond when given with milliseconds (then
 * it must match exactly: dropping them silently could pick another update). Throws a refusal that says what to pass
 * instead. `build:` and `sha:` addresses are resolved in tools/history.ts, which knows what an update built.
 */
export function findDeployment(stackName: string, history: readonly UpdateSummary[], address: string): UpdateSummary {
    const naming = updateNaming(history);
    const all = deployments(history);
    const known = () => all.map(naming.address).join(", ") || "none";
    const parsed = parseUpdateAddress(address);
    if (parsed === undefined || (parsed.kind !== "version" && parsed.kind !== "time")) {
        throw refused(`${JSON.stringify(address)} names no single update by version or time: ${UPDATE_ADDRESS_HELP}`);
    }
    if (parsed.kind === "version") {
        if (!naming.numbered) {
            throw refused(
                `stack ${stackName}'s backend does not number its updates (a DIY backend records every update as version 0), ` +
                    `so update ${address} cannot be found: name the update by its start time as status prints it, ` +
                    `e.g. --to ${all[0] ? naming.address(all[0]) : "2026-11-29T22:50:01Z"} (deployments: ${known()})`,
            );
        }
        const chosen = all.find((u) => u.version === parsed.version);
        if (!chosen) {
            throw refused(`stack ${stackName} has no deployment with version ${address} (deployments: ${known()})`);
        }
        return chosen;
    }
    const wanted = parsed.withMillis ? new Date(parsed.ms).toISOString() : formatTime(parsed.ms);
    const matches = all.filter((u) => {
        const start = updateTime(u.startTime);
        return start !== undefined && (parsed.withMillis ? start === parsed.ms : formatTime(start) === wanted);
    });
    if (matches.length === 0) {
        const hint = parsed.withMillis
            ? ` to the millisecond; pass the time to the second as --list prints it, e.g. ${formatTime(parsed.ms)}`
            : "";
        throw refused(`stack ${stackName} has no deployment that started at ${wanted}${hint} (deployments: ${known()})`);
    }
    if (matches.length > 1) {
        throw refused(`stack ${stackName} has ${matches.length} deployments that started at ${wanted}: roll back with --digest instead`);
    }
    return matches[0];
}
