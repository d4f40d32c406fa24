/**
 * The end-to-end suites' world: a throw-away copy of this repository (a git repository of its own, so every change
 * is a commit the way a developer makes one), a file backend in a temp folder, an empty passphrase, and the real CLI,
 * providers (in the toolchain's Pulumi home, as a user's local loop has them), BuildKit, registry and node that
 * scripts/test-e2e.sh put on PATH and in the env.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..", "..");

/** The result of a command that ran to its end. */
export interface Ran {
    code: number;
    stdout: string;
    stderr: string;
    /** Wall time in seconds. */
    seconds: number;
}

/** Options of {@link run}. */
export interface RunOptions {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Text for stdin; without it stdin is /dev/null. */
    input?: string;
    /** Kill after this many seconds (default 900) and report code 124. */
    timeoutSeconds?: number;
    /** The signal that timeout sends (default SIGTERM); SIGINT lets the Pulumi CLI cancel and record its update. */
    killSignal?: NodeJS.Signals;
    /** Receives stdout and stderr as they arrive (progress of long engine runs). */
    onOutput?: (text: string) => void;
}

/** Runs a command to its end and captures everything; never throws on a non-zero exit. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<Ran> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            cwd: options.cwd,
            env: options.env,
            stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        const timer = setTimeout(
            () => {
                timedOut = true;
                child.kill(options.killSignal ?? "SIGTERM");
            },
            (options.timeoutSeconds ?? 900) * 1000,
        );
        child.stdout!.on("data", (d: Buffer) => {
            stdout += d;
            options.onOutput?.(String(d));
        });
        child.stderr!.on("data", (d: Buffer) => {
            stderr += d;
            options.onOutput?.(String(d));
        });
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr, seconds });
        });
        if (options.input !== undefined) {
            // A command may exit before reading its input; its exit code, not EPIPE, is the result.
            child.stdin!.on("error", () => undefined);
            child.stdin!.end(options.input);
        }
    });
}

/** Throws with the command's output unless it exited 0. */
export function ok(ran: Ran, what: string): Ran {
    if (ran.code !== 0) {
        throw new Error(`${what} exited ${ran.code}\n--- stdout\n${ran.stdout.slice(-4000)}\n--- stderr\n${ran.stderr.slice(-4000)}`);
    }
    return ran;
}

/** A copy of the repository plus a Pulumi backend, for one suite. */
export class Workspace {
    /** The project copy: Pulumi.yaml, app/, stacks/, … and a symlink to this repo's node_modules. */
    readonly dir: string;
    /** Environment of every command run in it. */
    readonly env: NodeJS.ProcessEnv;
    private readonly root: string;

    /**
     * @param name part of the temp folder's name
     * @param options.installDependencies leave node_modules out, as in a fresh clone (`npm run up:local` then runs
     *   `npm ci` itself: the cold-start benchmark). Defaults to false: the copy links this repo's node_modules.
     */
    constructor(name: string, options: { installDependencies?: boolean } = {}) {
        this.root = mkdtempSync(path.join(tmpdir(), `slipway-e2e-${name}-`));
        this.dir = path.join(this.root, "project");
        const backend = path.join(this.root, "backend");
        for (const d of [this.dir, backend]) mkdirSync(d, { recursive: true });
        // Tracked files only: what a fresh clone has, nothing generated.
        const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
            cwd: REPO,
            encoding: "utf8",
        }).stdout.split("\0");
        for (const file of files.filter((f) => f !== "" && existsSync(path.join(REPO, f)))) {
            mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
            cpSync(path.join(REPO, file), path.join(this.dir, file));
        }
        if (!options.installDependencies) symlinkSync(path.join(REPO, "node_modules"), path.join(this.dir, "node_modules"));
        this.env = {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${backend}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // Build metadata as CI would pass it is deliberately absent: builds take it from the copy's git.
            SLIPWAY_BUILD_NUMBER: "",
            GITHUB_RUN_NUMBER: "",
        };
        this.git("init", "--quiet", "--initial-branch", "main");
        // The node_modules link is not the project's content: a dirty tree would make every build "dirty".
        writeFileSync(path.join(this.dir, ".git", "info", "exclude"), "node_modules\n");
        this.commit("e2e: copy of the repository");
    }

    /** `git` in the copy, as the e2e author; throws on failure. */
    git(...args: string[]): string {
        const r = spawnSync("git", ["-c", "user.name=Slipway e2e", "-c", "user.email=e2e@slipway.invalid", ...args], {
            cwd: this.dir,
            encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    }

    /** Commits everything that changed; returns the new HEAD. */
    commit(message: string): string {
        this.git("add", "-A");
        this.git("commit", "--quiet", "--allow-empty", "-m", message);
        return this.git("rev-parse", "HEAD");
    }

    /** Rewrites a file of the copy. */
    edit(file: string, change: (text: string) => string): void {
        const target = path.join(this.dir, file);
        const before = readFileSync(target, "utf8");
        const after = change(before);
        if (after === before) throw new Error(`editing ${file} changed nothing`);
        writeFileSync(target, after);
    }

    /** The real Pulumi CLI in the copy. */
    pulumi(args: string[], options: Omit<RunOptions, "cwd" | "env"> & { env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
        return run("pulumi", args, { ...options, cwd: this.dir, env: { ...this.env, ...options.env } });
    }

    /** An npm script of the copy (the tools: promote, rollback, status), under the repo's Node 24. */
    npm(script: string, args: string[], options: Omit<RunOptions, "cwd" | "env"> = {}): Promise<Ran> {
        return run("npm", ["run", "--silent", script, "--", ...args], {
            ...options,
            cwd: this.dir,
            env: { ...this.env, PATH: `${path.join(REPO, "node_modules", ".bin")}:${this.env.PATH}` },
        });
    }

    /** Removes the copy and its backend. */
    dispose(): void {
        rmSync(this.root, { recursive: true, force: true });
    }
}

/** A required environment variable that scripts/test-e2e.sh sets. */
export function fromEnv(name: string): string {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the end-to-end suites through npm run test:e2e`);
    return value;
}
