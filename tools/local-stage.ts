/**
 * The local stage's setup (toolchain, backend, passphrase, kubeconfig) for the tools, from the one place that knows
 * it: scripts/local-env.sh, which up:local and down:local use too. So `npm run status -- --stack local` works from a
 * fresh shell exactly as after `npm run up:local`, and an environment of the user's own still wins.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { LOCAL_STAGE } from "../contracts";

/**
 * Parses `NAME=value` pairs separated by NUL bytes (what `local-env.sh --env0` prints; values may hold any byte
 * but NUL, newlines included). Throws on a pair without `=` or with a name that is not an environment name.
 */
export function parseEnv0(text: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const pair of text.split("\0")) {
        if (pair === "") {
            continue;
        }
        const eq = pair.indexOf("=");
        const name = eq < 0 ? "" : pair.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
            throw new Error(`not a NAME=value pair: ${JSON.stringify(pair.slice(0, 40))}`);
        }
        env[name] = pair.slice(eq + 1);
    }
    return env;
}

/** True for the stack the local loop owns (its setup comes from scripts/local-env.sh). */
export function isLocalStack(stackName: string): boolean {
    return stackName === LOCAL_STAGE;
}

/**
 * The Pulumi project a command works on: `SLIPWAY_WORK_DIR` when set, else the nearest folder from `start` upwards
 * that holds a `Pulumi.yaml` (as `pulumi` itself finds it), else `start`.
 */
export function projectDir(start: string, env: Record<string, string | undefined>, exists: (file: string) => boolean): string {
    if (env.SLIPWAY_WORK_DIR) {
        return path.resolve(start, env.SLIPWAY_WORK_DIR);
    }
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
        if (exists(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) return path.resolve(start);
    }
}

/** Where scripts/local-env.sh is: beside this file's package, in this repository (tools/) and installed (dist/tools/). */
export function localEnvScript(fromDir: string, exists: (file: string) => boolean): string {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
        const script = path.join(dir, "scripts", "local-env.sh");
        if (exists(script)) return script;
        if (path.dirname(dir) === dir) throw new Error(`scripts/local-env.sh not found above ${fromDir}`);
    }
}

/**
 * Runs scripts/local-env.sh for the project in `project` and returns the environment the local stack's commands run
 * with. Its one line on stderr (which CLI, backend and kubeconfig) goes to `note`.
 */
export function localStageEnv(script: string, project: string, note: (line: string) => void): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
        execFile(
            "bash",
            [script, "--env0"],
            { cwd: project, env: { ...process.env, SLIPWAY_PROJECT_DIR: project }, encoding: "utf8", maxBuffer: 1024 * 1024 },
            (err, stdout, stderr) => {
                if (stderr) note(stderr);
                if (err) {
                    reject(new Error(`the local stage's setup could not be found (${script} exited ${err.code ?? err.message})`));
                    return;
                }
                try {
                    resolve(parseEnv0(stdout));
                } catch (parseErr) {
                    reject(parseErr);
                }
            },
        );
    });
}
