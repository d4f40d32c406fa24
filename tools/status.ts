/**
 * `status [--stack …]`: what runs where — digest, build, branch, sha, last update per stage, and per app where a stage
 * runs several.
 */
import type { OutputMap, UpdateSummary } from "@pulumi/pulumi/automation";
import { DEPLOYED_STAGES, StackOutput, type AppOutputs } from "../contracts";
import type { ToolContext } from "./context";
import { describeError, ExitCode, type ExitCodeValue } from "./errors";
import { lastDeployment, updateNaming, updateTime, formatTime } from "./updates";
import { shortDigest } from "./image-ref";
import { formatColumns } from "./columns";

/** The stages `status` shows when no `--stack` is given: those CI deploys. */
export const DEFAULT_STAGES = DEPLOYED_STAGES;

/** One stage's row. Only non-secret stack outputs and history metadata go in here. */
export interface StageStatus {
    stack: string;
    /** The app of the row, where the stack runs several (one row each); absent for a one-app stack. */
    app?: string;
    digest?: string;
    imageRef?: string;
    buildNumber?: string;
    gitBranch?: string;
    gitSha?: string;
    /**
     * The newest deployment's address, what `rollback --to` takes: its version where the backend numbers updates,
     * else its start time in UTC (`2026-11-29T22:50:01Z`; DIY backends record every update as version 0).
     */
    lastUpdate?: string;
    /** The newest deployment's version, only where the backend numbers updates. */
    lastVersion?: number;
    lastResult?: string;
    lastEnd?: string;
    /** Why the stack could not be read. */
    error?: string;
}

/** An output as text; secret outputs are never shown (their values are not even read). */
function shown(outputs: OutputMap, key: string): string | undefined {
    const o = outputs[key];
    if (o?.secret) {
        return "[secret]";
    }
    if (!o || o.value === undefined || o.value === null || o.value === "") {
        return undefined;
    }
    return String(o.value);
}

/** A value of the `apps` output as text. */
const textOf = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);

/**
 * Builds a stage's rows from its outputs and history: one row for a one-app stack, one per app (in the order the
 * `apps` output lists them: by name, as the CLI prints it) where that output holds several.
 */
export function stageStatus(stack: string, outputs: OutputMap, history: UpdateSummary[]): StageStatus[] {
    const last = lastDeployment(history);
    const naming = updateNaming(history);
    const end = updateTime(last?.endTime);
    const lastUpdate = {
        lastUpdate: last && naming.address(last),
        lastVersion: last && naming.numbered ? last.version : undefined,
        lastResult: last?.result,
        lastEnd: end === undefined ? undefined : formatTime(end),
    };
    const apps = outputs[StackOutput.apps];
    const byApp = !apps?.secret && apps?.value !== null && typeof apps?.value === "object" ? Object.entries(apps.value as object) : [];
    if (byApp.length > 1) {
        return byApp.map(([app, value]) => {
            const o = (value ?? {}) as Partial<Record<keyof AppOutputs, unknown>>;
            return {
                stack,
                app,
                digest: textOf(o.imageDigest),
                imageRef: textOf(o.imageRef),
                buildNumber: textOf(o.buildNumber),
                gitBranch: textOf(o.gitBranch),
                gitSha: textOf(o.gitSha),
                ...lastUpdate,
            };
        });
    }
    return [
        {
            stack,
            digest: shown(outputs, StackOutput.appImageDigest),
            imageRef: shown(outputs, StackOutput.appImageRef),
            buildNumber: shown(outputs, StackOutput.buildNumber),
            gitBranch: shown(outputs, StackOutput.gitBranch),
            gitSha: shown(outputs, StackOutput.gitSha),
            ...lastUpdate,
        },
    ];
}

/**
 * `41 succeeded <end>` where updates are numbered; `<start> succeeded` where the start time is the address. Either
 * way the first word is exactly what `rollback --to` takes.
 */
function lastUpdateCell(r: StageStatus): string {
    if (r.lastUpdate === undefined) {
        return "never deployed";
    }
    return r.lastVersion === undefined ? `${r.lastUpdate} ${r.lastResult}` : `${r.lastUpdate} ${r.lastResult} ${r.lastEnd ?? ""}`.trim();
}

/** Renders rows as an aligned text table; an APP column where any stage runs several apps. */
export function formatStatusTable(rows: StageStatus[]): string {
    const withApps = rows.some((r) => r.app !== undefined);
    const header = ["STAGE", ...(withApps ? ["APP"] : []), "DIGEST", "BUILD", "BRANCH", "SHA", "LAST UPDATE"];
    const cells = rows.map((r) =>
        r.error
            ? [r.stack, ...(withApps ? [""] : []), `error: ${r.error}`, "", "", "", ""]
            : [
                  r.stack,
                  ...(withApps ? [r.app ?? "-"] : []),
                  r.digest ? shortDigest(r.digest) : "-",
                  r.buildNumber ?? "-",
                  r.gitBranch ?? "-",
                  r.gitSha ? r.gitSha.slice(0, 7) : "-",
                  lastUpdateCell(r),
              ],
    );
    // Error rows span the table: they do not widen the digest column.
    return formatColumns(header, cells, (row) => rows[row].error !== undefined);
}

/** Options of {@link status}. */
export interface StatusOptions {
    stacks: string[];
    json: boolean;
}

/** Prints the status of each stage; returns {@link ExitCode.Failed} when any stage could not be read. */
export async function status(ctx: ToolContext, options: StatusOptions): Promise<ExitCodeValue> {
    const rows: StageStatus[] = [];
    for (const name of options.stacks) {
        try {
            const stack = await ctx.openStack(name);
            rows.push(...stageStatus(name, await stack.outputs(), await stack.history()));
        } catch (err) {
            ctx.err(`error: cannot read stack ${name}: ${describeError(err)}\n`);
            rows.push({ stack: name, error: "unreadable (see stderr)" });
        }
    }
    ctx.out(options.json ? JSON.stringify(rows, null, 2) + "\n" : formatStatusTable(rows));
    return rows.some((r) => r.error) ? ExitCode.Failed : ExitCode.Ok;
}
