/**
 * Reading the stack outputs an earlier update produced from the state documents the Pulumi CLI keeps: the deployment
 * `pulumi stack export --version <n>` prints (backends that number updates), and the checkpoint backups a DIY backend
 * writes beside every update's history entry. Pure functions over parsed JSON and file names; the file and process
 * I/O is in tools/stage-stack.ts.
 *
 * A DIY backend (pkg/backend/diy `addToHistory`) writes, for every update, into
 * `<backend>/.pulumi/history/<project>/<stack>/` (older, non-project backends: `.pulumi/history/<stack>/`):
 *
 * - `<stack>-<unix nanos>.history.json` — the update's record (`startTime` in unix seconds, `kind`, `result`, …);
 * - `<stack>-<unix nanos>.checkpoint.json` — a copy of the stack's checkpoint as that update left it.
 *
 * Either may end in `.gz` or `.zst` when the backend compresses state.
 */
import type { OutputMap } from "@pulumi/pulumi/automation";

/** The type token of the stack's root resource, whose `outputs` are the stack outputs. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The key Pulumi marks an encrypted (secret) value with in state. */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/** One resource as state records it; only what is read here. */
interface StateResource {
    type?: unknown;
    outputs?: unknown;
}

/** True for a value state stores as a secret: `{ "4dabf…": "1b47…", ciphertext | plaintext }`. */
function isSecretValue(value: unknown): boolean {
    return value !== null && typeof value === "object" && SECRET_SIGNATURE in (value as object);
}

/** The resources of a deployment: `stack export` form (`{ deployment }`), checkpoint form (`{ checkpoint: { latest } }`). */
function resourcesOf(document: unknown): StateResource[] | undefined {
    if (document === null || typeof document !== "object") {
        return undefined;
    }
    const doc = document as { deployment?: { resources?: unknown }; checkpoint?: { latest?: { resources?: unknown } | null } };
    const resources = doc.deployment ? doc.deployment.resources : doc.checkpoint?.latest?.resources;
    return Array.isArray(resources) ? (resources as StateResource[]) : undefined;
}

/**
 * The stack outputs recorded in a deployment document (either form), with secret values marked `secret` and left
 * out, as `stack output --json` would show them. `undefined` when the document holds no stack resource (an empty
 * stack, or not a deployment at all).
 */
export function stackOutputsOf(document: unknown): OutputMap | undefined {
    const root = resourcesOf(document)?.find((r) => r.type === ROOT_STACK_TYPE);
    if (!root) {
        return undefined;
    }
    const outputs = root.outputs !== null && typeof root.outputs === "object" ? (root.outputs as Record<string, unknown>) : {};
    return Object.fromEntries(
        Object.entries(outputs).map(([key, value]) => [
            key,
            isSecretValue(value) ? { value: undefined, secret: true } : { value, secret: false },
        ]),
    );
}

/** One update's pair of backup files in a DIY backend's history folder. */
export interface CheckpointBackup {
    /** `<stack>-<nanos>`: what both files start with. */
    prefix: string;
    /** The update's record (file name). */
    history: string;
    /** The state after the update (file name), when the backend kept one. */
    checkpoint?: string;
}

const BACKUP_FILE = /^(.+-[0-9]+)\.(history|checkpoint)\.json(\.gz|\.zst)?$/;

/**
 * Pairs the files of a DIY history folder by prefix, for one stack (`stackName` without organization or project).
 * Files of other stacks (a stack whose name shares the folder in a legacy layout) and other files are ignored.
 */
export function checkpointBackups(fileNames: readonly string[], stackName: string): CheckpointBackup[] {
    const byPrefix = new Map<string, CheckpointBackup>();
    for (const name of fileNames) {
        const m = BACKUP_FILE.exec(name);
        // The CLI names files `<stack>-<nanos>`: the stack is everything before the last dash.
        if (!m || m[1].slice(0, m[1].lastIndexOf("-")) !== stackName) {
            continue;
        }
        const entry = byPrefix.get(m[1]) ?? { prefix: m[1], history: "" };
        if (m[2] === "history") {
            entry.history = name;
        } else {
            entry.checkpoint = name;
        }
        byPrefix.set(m[1], entry);
    }
    return [...byPrefix.values()].filter((e) => e.history !== "");
}

/** The `startTime` of a history record (unix seconds), or `undefined` when it has none. */
export function historyStartTime(record: unknown): number | undefined {
    const start = (record as { startTime?: unknown } | null)?.startTime;
    return typeof start === "number" && Number.isFinite(start) && start > 0 ? start : undefined;
}

/**
 * Of `records` (backups with their parsed history record's start time), the one whose update started at
 * `startMs` (milliseconds; the CLI records seconds). `undefined` when none or more than one did: two updates in the
 * same second cannot be told apart, and a wrong guess would restore the wrong image.
 */
export function backupStartedAt<T extends { startTime?: number }>(records: readonly T[], startMs: number): T | undefined {
    const matches = records.filter((r) => r.startTime !== undefined && r.startTime === Math.floor(startMs / 1000));
    return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The folders a `file://` backend keeps an update history in for a stack, project layout first. `backendUrl` is the
 * backend's URL (`file:///var/state`, or `file://~/state`, which the CLI expands to `homeDir`); `undefined` for
 * other backends, whose history the tools do not read.
 */
export function diyHistoryDirs(backendUrl: string, project: string, stackName: string, homeDir: string): string[] | undefined {
    let url: URL;
    try {
        url = new URL(backendUrl);
    } catch {
        return undefined;
    }
    if (url.protocol !== "file:") {
        return undefined;
    }
    const path = decodeURIComponent(url.pathname).replace(/\/+$/, "");
    const root = url.host === "~" ? `${homeDir.replace(/\/+$/, "")}${path}` : path;
    const stack = stackName.split("/").pop() ?? stackName;
    return [`${root}/.pulumi/history/${project}/${stack}`, `${root}/.pulumi/history/${stack}`];
}
