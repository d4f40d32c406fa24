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
 * Runs scripts/local-env.sh of the project in `projectDir` and returns the environment the local stack's
 * commands run with. Its one line on stderr (which CLI, backend and kubeconfig) goes to `note`.
 */
export function localStageEnv(projectDir: string, note: (line: string) => void): Promise<Record<string, string>> {
    const script = path.join(projectDir, "scripts", "local-env.sh");
    return new Promise((resolve, reject) => {
        execFile("bash", [script, "--env0"], { cwd: projectDir, encoding: "utf8", maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
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
        });
    });
}
