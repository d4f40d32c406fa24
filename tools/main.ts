/**
 * Entry point of `npm run promote | rollback | status`: wires the CLI to the Automation API and the registry.
 */
import * as path from "node:path";
import { run } from "./cli";
import { isLocalStack, localStageEnv } from "./local-stage";
import { HttpRegistryClient, registryOptionsFromEnv } from "./registry";
import { selectStageStack } from "./stage-stack";

/** The Pulumi project directory: the repo root (where `Pulumi.yaml` is) unless `SLIPWAY_WORK_DIR` says otherwise. */
const workDir = process.env.SLIPWAY_WORK_DIR ?? path.resolve(__dirname, "..");

/** The local stage's environment, looked up once and only when a command touches the local stack. */
let localEnv: Promise<Record<string, string>> | undefined;
function localStageEnvOnce(): Promise<Record<string, string>> {
    localEnv ??= localStageEnv(workDir, (line) => process.stderr.write(line)).then((env) => {
        // The CLI the workspace starts is looked up on this process's PATH.
        if (env.PATH) process.env.PATH = env.PATH;
        return env;
    });
    return localEnv;
}

run(process.argv.slice(2), {
    openStack: async (name) => selectStageStack(name, workDir, isLocalStack(name) ? await localStageEnvOnce() : undefined),
    registry: new HttpRegistryClient(registryOptionsFromEnv(process.env)),
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
}).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        process.stderr.write(`error: ${String(err)}\n`);
        process.exitCode = 1;
    },
);
