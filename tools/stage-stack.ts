/**
 * The small surface of a Pulumi stack that the tools need, and its implementation over the Automation API.
 *
 * The tools depend on {@link StageStack} only, so tests drive them with a fake that records every call and never
 * needs a Pulumi CLI.
 */
import type { ConfigValue, EngineEvent, OutputMap, PreviewResult, Stack, UpResult, UpdateSummary } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import * as path from "node:path";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { backupStartedAt, checkpointBackups, diyHistoryDirs, historyStartTime, stackOutputsOf } from "./checkpoint";
import { updateTime } from "./updates";

/** Options shared by {@link StageStack.preview} and {@link StageStack.up}. */
export interface OperationOptions {
    /** Message recorded with the operation (shown by `pulumi stack history`). */
    message?: string;
    /** Receives Pulumi's progress output as it is produced (Pulumi masks secrets in it). */
    onOutput?: (text: string) => void;
    /** Receives the engine's events as they happen (the steps, with each resource's inputs). */
    onEvent?: (event: EngineEvent) => void;
    /** Show each resource's changed properties (`--diff`). Default true. */
    diff?: boolean;
    /** Cancels the operation as Ctrl-C does: Pulumi stops waiting, records what it did, and exits with an error. */
    signal?: AbortSignal;
}

/** Options of {@link StageStack.history}. */
export interface HistoryOptions {
    /** Number of most recent entries to fetch; all when omitted. */
    pageSize?: number;
    /**
     * Whether secret config values are decrypted into the result. Defaults to `false`, unlike the Automation API,
     * whose `history()` shows secrets unless told otherwise. The tools never pass `true`.
     */
    showSecrets?: boolean;
}

/** Options of config reads and writes. */
export interface ConfigOptions {
    /** Treat the key as a path into a structured value, as `pulumi config set --path` does. */
    path?: boolean;
}

/** One stage's Pulumi stack, as the tools see it. */
export interface StageStack {
    /** The stack name, e.g. `qa`. */
    readonly name: string;
    /** Update history, newest first. Secrets are hidden unless `showSecrets` is set. */
    history(options?: HistoryOptions): Promise<UpdateSummary[]>;
    /** A config value, or `undefined` when the key is not set. */
    getConfig(key: string, options?: ConfigOptions): Promise<ConfigValue | undefined>;
    /**
     * Sets a plain (non-secret) string in the stack's config file. With `path`, the CLI stores digit-only strings
     * as integers (`pulumi config set --path`), so values such as build numbers go through {@link setObjectConfig}.
     */
    setConfig(key: string, value: string, options?: ConfigOptions): Promise<void>;
    /**
     * Replaces a structured (object) config value in one write, as typed YAML: strings stay strings and keys not in
     * `value` are gone (`pulumi config set-all --json`).
     */
    setObjectConfig(key: string, value: Record<string, unknown>): Promise<void>;
    /**
     * Sets plain strings at paths into structured values, in one write (`pulumi config set-all --path`); the rest of
     * each value, secrets included, stays as it is. Digit-only strings are stored as integers, as with `--path` sets.
     */
    setConfigPaths(values: Record<string, string>): Promise<void>;
    /** Removes a key, or with `path` a field of a structured value. */
    removeConfig(key: string, options?: ConfigOptions): Promise<void>;
    /** The stack outputs of the last update; secret outputs are marked `secret` and have no value. */
    outputs(): Promise<OutputMap>;
    /**
     * The stack outputs `update` (an entry of {@link history}) left in state, secret outputs marked `secret`, or
     * `undefined` where the backend keeps no such record (a DIY backend other than `file://`, or an update whose
     * state backup is gone). This is what a built image's digest is read back from for a rollback.
     */
    outputsOf(update: UpdateSummary): Promise<OutputMap | undefined>;
    /** `pulumi preview --diff`. */
    preview(options?: OperationOptions): Promise<PreviewResult>;
    /** `pulumi up --diff --yes`. */
    up(options?: OperationOptions): Promise<UpResult>;
    /** `pulumi refresh --target …`: records what the cluster runs for these resources, changing nothing there. */
    refresh(options: RefreshOptions): Promise<void>;
}

/** Options of {@link StageStack.refresh}. */
export interface RefreshOptions {
    /** URNs of the resources to read back. */
    target: string[];
    /** Receives Pulumi's progress output. */
    onOutput?: (text: string) => void;
}

/** {@link StageStack} over an Automation API {@link Stack} (a local workspace running the project's program). */
export class AutomationStageStack implements StageStack {
    /** A `file://` backend's history records, read once: one rollback asks for many updates' outputs. */
    private diyRecords?: Promise<DiyRecord[]>;

    constructor(private readonly stack: Stack) {}

    get name(): string {
        return this.stack.name;
    }

    history(options: HistoryOptions = {}): Promise<UpdateSummary[]> {
        // The SDK's third parameter defaults to *showing* secrets: always pass it explicitly.
        return this.stack.history(options.pageSize, options.pageSize ? 1 : undefined, options.showSecrets ?? false);
    }

    async getConfig(key: string, options: ConfigOptions = {}): Promise<ConfigValue | undefined> {
        // Not getAllConfig(): it runs `pulumi config --show-secrets` and would decrypt every secret of the stack.
        try {
            return await this.stack.getConfig(key, options.path ?? false);
        } catch (err) {
            // `pulumi config get` exits non-zero with "configuration key '…' not found for stack '…'".
            if (/not found/i.test(String((err as Error).message))) {
                return undefined;
            }
            throw err;
        }
    }

    setConfig(key: string, value: string, options: ConfigOptions = {}): Promise<void> {
        return this.stack.setConfig(key, { value, secret: false }, options.path ?? false);
    }

    setConfigPaths(values: Record<string, string>): Promise<void> {
        return this.stack.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value, secret: false }])), true);
    }

    removeConfig(key: string, options: ConfigOptions = {}): Promise<void> {
        return this.stack.removeConfig(key, options.path ?? false);
    }

    setObjectConfig(key: string, value: Record<string, unknown>): Promise<void> {
        // The shape `pulumi config --json` prints: the JSON text plus the object, marking it structured.
        const entry = { value: JSON.stringify(value), objectValue: value, secret: false };
        return this.stack.setAllConfigJson(JSON.stringify({ [key]: entry }));
    }

    async outputs(): Promise<OutputMap> {
        // Not Stack.outputs(): it also runs `pulumi stack output --show-secrets`, decrypting every secret output into
        // this process. The masked form is enough: secret outputs read "[secret]", and the tools never print them.
        const masked = JSON.parse(await this.cli(["stack", "output", "--json", "--stack", this.stack.name])) as Record<string, unknown>;
        return Object.fromEntries(
            Object.entries(masked).map(([key, value]) => [
                key,
                value === "[secret]" ? { value: undefined, secret: true } : { value, secret: false },
            ]),
        );
    }

    async outputsOf(update: UpdateSummary): Promise<OutputMap | undefined> {
        if (update.version > 0) {
            // A backend that numbers updates keeps every version's state. Without --show-secrets, secret outputs
            // stay ciphertext, which stackOutputsOf marks secret.
            let exported: string;
            try {
                exported = await this.cli(["stack", "export", "--version", String(update.version), "--stack", this.stack.name]);
            } catch {
                // A version the backend has pruned, or an older CLI without --version: the digest is not on record.
                return undefined;
            }
            return stackOutputsOf(JSON.parse(exported));
        }
        const start = updateTime(update.startTime);
        const record = start === undefined ? undefined : backupStartedAt(await this.readDiyRecords(), start);
        if (!record?.checkpoint) {
            return undefined;
        }
        return stackOutputsOf(JSON.parse(decompressed(record.checkpoint, await readFile(record.checkpoint))));
    }

    /** The update records of a `file://` backend's history folder with their checkpoint files; empty elsewhere. */
    private readDiyRecords(): Promise<DiyRecord[]> {
        this.diyRecords ??= (async () => {
            const workspace = this.stack.workspace;
            const backend = (await workspace.whoAmI()).url ?? "";
            const project = (await workspace.projectSettings()).name;
            for (const dir of diyHistoryDirs(backend, project, this.stack.name, homedir()) ?? []) {
                const files = await readdir(dir).catch(() => undefined);
                const stackName = this.stack.name.split("/").pop() ?? this.stack.name;
                const backups = checkpointBackups(files ?? [], stackName);
                if (backups.length === 0) {
                    continue;
                }
                return Promise.all(
                    backups.map(async (b) => {
                        const file = path.join(dir, b.history);
                        return {
                            startTime: historyStartTime(JSON.parse(decompressed(file, await readFile(file)))),
                            checkpoint: b.checkpoint && path.join(dir, b.checkpoint),
                        };
                    }),
                );
            }
            return [];
        })();
        return this.diyRecords;
    }

    /** Runs the Pulumi CLI of this workspace, with its environment, and returns stdout. */
    private cli(args: string[]): Promise<string> {
        const workspace = this.stack.workspace;
        return runCli(workspace.pulumiCommand.command, args, workspace.workDir, {
            ...workspace.envVars,
            ...(workspace.pulumiHome ? { PULUMI_HOME: workspace.pulumiHome } : {}),
        });
    }

    preview(options: OperationOptions = {}): Promise<PreviewResult> {
        return this.stack.preview({ diff: true, color: "never", ...options });
    }

    up(options: OperationOptions = {}): Promise<UpResult> {
        return this.stack.up({ diff: true, color: "never", ...options });
    }

    async refresh(options: RefreshOptions): Promise<void> {
        await this.stack.refresh({ target: options.target, onOutput: options.onOutput, color: "never" });
    }
}

/** One update of a `file://` backend's history: its start time (unix seconds) and its checkpoint file's path. */
interface DiyRecord {
    startTime?: number;
    checkpoint?: string;
}

/** The text of a state file, which the backend may have compressed (`.gz`, `.zst`). */
function decompressed(file: string, bytes: Buffer): string {
    if (file.endsWith(".gz")) {
        return gunzipSync(bytes).toString("utf8");
    }
    return (file.endsWith(".zst") ? zstdDecompressSync(bytes) : bytes).toString("utf8");
}

/**
 * Runs the Pulumi CLI non-interactively and returns its stdout. A failure is reported in the Automation API's
 * CommandError shape (`code: N\n stdout: …\n stderr: …\n err?: …`), which tools/errors.ts turns into the CLI's message.
 */
function runCli(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            command,
            [...args, "--non-interactive"],
            { cwd, env: { ...process.env, ...env, PULUMI_AUTOMATION_API: "true" }, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => {
                if (err) {
                    const code = typeof err.code === "number" ? err.code : -2;
                    reject(new Error(`code: ${code}\n stdout: ${stdout}\n stderr: ${stderr}\n err?: ${err.message}\n`));
                } else {
                    resolve(stdout);
                }
            },
        );
    });
}

/**
 * Selects an existing stack of the project in `workDir` (the repo root, where `Pulumi.yaml` is), through the Pulumi
 * CLI on PATH. `envVars` are set for every CLI run of this stack (the local stage's backend, passphrase and
 * kubeconfig: tools/local-stage.ts). Loads the Automation API lazily: it is large, and `--help` should not pay for it.
 */
export async function selectStageStack(stackName: string, workDir: string, envVars?: Record<string, string>): Promise<StageStack> {
    // require, not import(): this file is CommonJS and the SDK's `automation` entry is a directory import.
    const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.selectStack({ stackName, workDir }, envVars ? { envVars } : undefined);
    return new AutomationStageStack(stack);
}
