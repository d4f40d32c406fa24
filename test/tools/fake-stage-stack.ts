/**
 * A {@link StageStack} fake that records every call, fed with realistic `UpdateSummary` records shaped like
 * `pulumi stack history --json` output (the SDK's own types).
 */
import type { ConfigValue, OpMap, OutputMap, PreviewResult, UpResult, UpdateSummary } from "@pulumi/pulumi/automation";
import type { StackOutputName } from "../../contracts";
import type { ConfigOptions, HistoryOptions, OperationOptions, RefreshOptions, StageStack } from "../../tools/stage-stack";
import type { ToolContext } from "../../tools/context";
import type { RegistryClient } from "../../tools/registry";
import { ExitCode, ToolError } from "../../tools/errors";
import { formatTime, numbersUpdates, updateTime } from "../../tools/updates";
import * as assert from "node:assert/strict";

/** A digest made of one repeated hex digit, readable in assertions. */
export const digest = (hex: string): string => `sha256:${hex.repeat(64 / hex.length)}`;

export const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-app";
/** A secret value that must never reach stdout or stderr. */
export const SECRET = "hunter2-db-password-9f8e7d";

/** One recorded call. */
export interface Call {
    method:
        | "history"
        | "getConfig"
        | "setConfig"
        | "setObjectConfig"
        | "setConfigPaths"
        | "removeConfig"
        | "outputs"
        | "outputsOf"
        | "preview"
        | "up"
        | "refresh";
    args: unknown[];
}

/** Options of {@link update}. */
export interface UpdateSpec {
    version: number;
    result?: UpdateSummary["result"];
    kind?: UpdateSummary["kind"];
    /** A pinned image (qa/prod). */
    pin?: { digest: string; buildNumber?: string; gitBranch?: string; gitSha?: string; repo?: string };
    /** A building stage (dev): the commit and CI build number the CLI records, and whether the tree was dirty. */
    build?: { gitSha: string; buildNumber?: string; dirty?: boolean };
    stage?: string;
    /** The message the update was run with (default `deploy <version>`). */
    message?: string;
    /** The stage's other apps (`slipway:apps`), each pinned to a digest in its own repository. */
    apps?: Record<string, { digest: string; buildNumber?: string; repo: string }>;
}

/**
 * An update as `pulumi stack history --json` reports it: environment with the CLI's git/CI keys, the structured
 * `slipway:image` config both as JSON text and `objectValue`, and a secret config value in plain text (as if the
 * backend had ignored `--show-secrets=false`: the tools must not print it either way).
 */
export function update(spec: UpdateSpec): UpdateSummary {
    const start = new Date(Date.UTC(2026, 10, 1, 9, 0, 0) + spec.version * 3_600_000);
    const image = spec.pin
        ? {
              source: "pinned",
              ref: `${spec.pin.repo ?? REPO}@${spec.pin.digest}`,
              buildNumber: spec.pin.buildNumber ?? "1",
              gitBranch: spec.pin.gitBranch ?? "main",
              gitSha: spec.pin.gitSha ?? "0123456789abcdef0123456789abcdef01234567",
          }
        : { source: "build", runtimeBaseImage: `node@${digest("6")}`, context: "app" };
    const environment: Record<string, string> = {
        "exec.kind": "auto.local",
        "exec.command": "up",
        "ci.system": "GitHub",
        "vcs.kind": "github.com",
        "vcs.owner": "acme",
        "vcs.repo": "slipway",
        "git.headName": "refs/heads/main",
        "git.head": spec.build?.gitSha ?? "fedcba9876543210fedcba9876543210fedcba98",
    };
    if (spec.build?.buildNumber) {
        environment["ci.build.number"] = spec.build.buildNumber;
    }
    if (spec.build) {
        environment["git.dirty"] = spec.build.dirty ? "true" : "false";
    }
    const config = {
        "slipway:stage": { value: spec.stage ?? "prod", secret: false },
        "slipway:image": { value: JSON.stringify(image), objectValue: image, secret: false },
        "slipway:secretEnv": { value: JSON.stringify({ DB_PASSWORD: SECRET }), secret: true },
        "slipway:registryPassword": { value: SECRET, secret: true },
    } as UpdateSummary["config"];
    if (spec.apps) {
        const apps = Object.fromEntries(
            Object.entries(spec.apps).map(([name, a]) => [
                name,
                {
                    replicas: 2,
                    image: {
                        source: "pinned",
                        ref: `${a.repo}@${a.digest}`,
                        buildNumber: a.buildNumber ?? "1",
                        gitBranch: "main",
                        gitSha: "0123456789abcdef0123456789abcdef01234567",
                    },
                },
            ]),
        );
        config["slipway:apps"] = { value: JSON.stringify(apps), objectValue: apps, secret: false } as UpdateSummary["config"][string];
    }
    return {
        version: spec.version,
        kind: spec.kind ?? "update",
        startTime: start,
        endTime: new Date(start.getTime() + 95_000),
        message: spec.message ?? `deploy ${spec.version}`,
        environment,
        config,
        result: spec.result ?? "succeeded",
        resourceChanges: { same: 14, update: 1 },
    };
}

/**
 * The same history as a DIY backend (`file://`, `s3://`, …) reports it: every update is version 0, entries stay newest
 * first, and times are the CLI's JSON text (`2026-11-01T19:00:00.000Z`), or epoch seconds with `epoch`.
 */
export function diy(history: UpdateSummary[], times: "iso" | "epoch" = "iso"): UpdateSummary[] {
    const time = (d: Date) => (times === "iso" ? d.toISOString() : Math.floor(d.getTime() / 1000));
    return history.map((u) => ({
        ...u,
        version: 0,
        startTime: time(u.startTime) as unknown as Date,
        endTime: time(u.endTime) as unknown as Date,
    }));
}

/** The start time `status` prints for an update made by {@link update} with this version: its DIY address. */
export function startedAt(version: number): string {
    return new Date(Date.UTC(2026, 10, 1, 9, 0, 0) + version * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Stack outputs as `stacks/index.ts` exports them (named by contracts/outputs.ts), plus any `extra`. */
export function outputsFor(
    d: string,
    extra: Partial<Record<StackOutputName, unknown>> & Record<string, unknown> = {},
    repo = REPO,
): OutputMap {
    const values: Partial<Record<StackOutputName, unknown>> & Record<string, unknown> = {
        registryServer: repo.split("/")[0],
        appImageRef: `${repo}@${d}`,
        appImageDigest: d,
        appImageTags: ["build-41", "sha-0123456", "branch-main"],
        namespace: "slipway-prod",
        serviceName: "slipway-app",
        buildNumber: "41",
        gitBranch: "main",
        gitSha: "0123456789abcdef0123456789abcdef01234567",
        stageName: "prod",
        ...extra,
    };
    const out: OutputMap = {};
    for (const [k, v] of Object.entries(values)) {
        if (v !== undefined) {
            out[k] = { value: v, secret: false };
        }
    }
    return out;
}

/** Options of {@link FakeStageStack}. */
export interface FakeOptions {
    history?: UpdateSummary[];
    outputs?: OutputMap;
    /** Top-level config values; objects are stored as JSON text, as `pulumi config get --json` returns them. */
    config?: Record<string, unknown>;
    changes?: OpMap;
    /** Makes `up` fail like the Automation API does when the CLI exits non-zero. */
    upError?: Error;
    /**
     * The outputs each update left in state, by its start time as {@link startedAt} prints it (what a backend keeps:
     * `stack export --version`, or a DIY checkpoint backup). Updates not listed have no record.
     */
    stateOutputs?: Record<string, OutputMap>;
}

/** The recording fake. */
export class FakeStageStack implements StageStack {
    readonly calls: Call[] = [];
    readonly config = new Map<string, string>();

    constructor(
        readonly name: string,
        private readonly options: FakeOptions = {},
    ) {
        for (const [k, v] of Object.entries(options.config ?? {})) {
            this.config.set(k, typeof v === "string" ? v : JSON.stringify(v));
        }
    }

    /** Calls of one method. */
    callsOf(method: Call["method"]): Call[] {
        return this.calls.filter((c) => c.method === method);
    }

    /** Calls that change config or deployed state. */
    mutations(): Call[] {
        return this.calls.filter((c) => ["setConfig", "setObjectConfig", "setConfigPaths", "removeConfig", "up"].includes(c.method));
    }

    /** The structured value of a top-level config key. */
    object(key: string): Record<string, unknown> | undefined {
        const v = this.config.get(key);
        return v === undefined ? undefined : (JSON.parse(v) as Record<string, unknown>);
    }

    async history(options?: HistoryOptions): Promise<UpdateSummary[]> {
        this.calls.push({ method: "history", args: [options] });
        const all = structuredClone(this.options.history ?? []);
        return options?.pageSize ? all.slice(0, options.pageSize) : all;
    }

    async getConfig(key: string, options?: ConfigOptions): Promise<ConfigValue | undefined> {
        this.calls.push({ method: "getConfig", args: [key, options] });
        if (!options?.path) {
            const v = this.config.get(key);
            return v === undefined ? undefined : { value: v, secret: false };
        }
        const [top, ...fields] = key.split(".");
        let v: unknown = this.object(top);
        for (const field of fields) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[field] : undefined;
        return v === undefined ? undefined : { value: typeof v === "object" ? JSON.stringify(v) : String(v), secret: false };
    }

    async setConfig(key: string, value: string, options?: ConfigOptions): Promise<void> {
        this.calls.push({ method: "setConfig", args: [key, value, options] });
        if (!options?.path) {
            this.config.set(key, value);
            return;
        }
        const [top, field] = splitPath(key);
        this.config.set(top, JSON.stringify({ ...(this.object(top) ?? {}), [field]: value }));
    }

    /**
     * As `pulumi config set-all --path`: each path into its top-level value; a digit-only string that fits an integer
     * becomes one, as the CLI stores it.
     */
    async setConfigPaths(values: Record<string, string>): Promise<void> {
        this.calls.push({ method: "setConfigPaths", args: [values] });
        for (const [key, value] of Object.entries(values)) {
            const [top, ...fields] = key.split(".");
            const root = this.object(top) ?? {};
            let at: Record<string, unknown> = root;
            for (const field of fields.slice(0, -1)) {
                at[field] = typeof at[field] === "object" && at[field] !== null ? at[field] : {};
                at = at[field] as Record<string, unknown>;
            }
            at[fields[fields.length - 1]!] = /^[0-9]{1,18}$/.test(value) ? Number(value) : value;
            this.config.set(top, JSON.stringify(root));
        }
    }

    async removeConfig(key: string, options?: ConfigOptions): Promise<void> {
        this.calls.push({ method: "removeConfig", args: [key, options] });
        if (!options?.path) {
            this.config.delete(key);
            return;
        }
        const [top, ...fields] = key.split(".");
        const root = this.object(top) ?? {};
        let at: Record<string, unknown> | undefined = root;
        for (const field of fields.slice(0, -1)) at = at?.[field] as Record<string, unknown> | undefined;
        if (at) delete at[fields[fields.length - 1]!];
        this.config.set(top, JSON.stringify(root));
    }

    async setObjectConfig(key: string, value: Record<string, unknown>): Promise<void> {
        this.calls.push({ method: "setObjectConfig", args: [key, value] });
        this.config.set(key, JSON.stringify(value));
    }

    async outputs(): Promise<OutputMap> {
        this.calls.push({ method: "outputs", args: [] });
        return structuredClone(this.options.outputs ?? {});
    }

    async outputsOf(update: UpdateSummary): Promise<OutputMap | undefined> {
        this.calls.push({ method: "outputsOf", args: [update] });
        const start = updateTime(update.startTime);
        const recorded = start === undefined ? undefined : this.options.stateOutputs?.[formatTime(start)];
        return recorded && structuredClone(recorded);
    }

    async preview(options?: OperationOptions): Promise<PreviewResult> {
        this.calls.push({ method: "preview", args: [options] });
        options?.onOutput?.("Previewing update (prod)\n");
        return { stdout: "", stderr: "", changeSummary: this.options.changes ?? { same: 14, update: 2 } };
    }

    async up(options?: OperationOptions): Promise<UpResult> {
        this.calls.push({ method: "up", args: [options] });
        if (this.options.upError) {
            throw this.options.upError;
        }
        options?.onOutput?.("Updating (prod)\n");
        const history = this.options.history ?? [];
        const version = Math.max(0, ...history.map((u) => u.version)) + 1;
        // A DIY backend reports version 0 for the new update too: only its start time names it.
        const numbered = history.length === 0 || numbersUpdates(history);
        const summary: UpdateSummary = {
            ...update({ version }),
            // …and starts an hour after the newest update, as the next version would have.
            ...(numbered
                ? {}
                : { version: 0, startTime: new Date(Math.max(...history.map((u) => updateTime(u.startTime) ?? 0)) + 3_600_000) }),
            message: options?.message ?? "",
            resourceChanges: this.options.changes ?? { same: 14, update: 2 },
        };
        return { stdout: "", stderr: "", outputs: {}, summary };
    }

    async refresh(options: RefreshOptions): Promise<void> {
        this.calls.push({ method: "refresh", args: [options] });
    }
}

function splitPath(key: string): [string, string] {
    const dot = key.indexOf(".");
    if (dot < 0) {
        throw new Error(`fake supports one-level paths only, got ${key}`);
    }
    return [key.slice(0, dot), key.slice(dot + 1)];
}

/**
 * An in-memory {@link RegistryClient} for the commands' unit tests: `repository:reference` → digest, and
 * `repository@digest` → image labels, recording lookups. (HttpRegistryClient itself is tested against a real HTTP
 * server in registry.test.ts.)
 */
export class FakeRegistry implements RegistryClient {
    readonly lookups: string[] = [];
    constructor(
        private readonly manifests: Record<string, string> = {},
        private readonly imageLabels: Record<string, Record<string, string>> = {},
    ) {}
    async resolve(repository: string, reference: string): Promise<string | undefined> {
        this.lookups.push(`${repository}:${reference}`);
        return this.manifests[`${repository}:${reference}`];
    }
    async labels(repository: string, digest: string): Promise<Record<string, string> | undefined> {
        this.lookups.push(`labels ${repository}@${digest}`);
        return this.imageLabels[`${repository}@${digest}`];
    }
}

/** A context over fakes that captures stdout and stderr. */
export function fakeContext(stacks: FakeStageStack[], registry = new FakeRegistry()) {
    const io = { out: "", err: "" };
    const ctx: ToolContext = {
        openStack: async (name) => {
            const stack = stacks.find((s) => s.name === name);
            if (!stack) {
                throw new Error(`code: 255\n stdout: \n stderr: error: no stack named '${name}' found\n err?: Error: failed\n`);
            }
            return stack;
        },
        registry,
        out: (s) => (io.out += s),
        err: (s) => (io.err += s),
    };
    return { ctx, io, registry };
}

/** Asserts that `p` is refused (exit code 2) with a message matching `message`. */
export async function refusal(p: Promise<unknown>, message: RegExp): Promise<void> {
    await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof ToolError, String(err));
        assert.equal(err.exitCode, ExitCode.Refused);
        assert.match(err.message, message);
        return true;
    });
}
