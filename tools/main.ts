/**
 * Entry point of `npm run up | preview | promote | rollback | status`: wires the CLI to the Automation API, the
 * registry and kubectl.
 */
import { existsSync } from "node:fs";
import { run } from "./cli";
import { isLocalStack, localEnvScript, localStageEnv, projectDir } from "./local-stage";
import { HttpRegistryClient, registryOptionsFromEnv } from "./registry";
import { KubectlPodSource } from "./rollout-watch";
import { selectStageStack } from "./stage-stack";

/** The Pulumi project: `SLIPWAY_WORK_DIR`, else the nearest folder with a Pulumi.yaml from here upwards. */
const workDir = projectDir(process.cwd(), process.env, existsSync);

/** The local stage's environment, looked up once and only when a command touches the local stack. */
let localEnv: Promise<Record<string, string>> | undefined;
function localStageEnvOnce(): Promise<Record<string, string>> {
    localEnv ??= localStageEnv(localEnvScript(__dirname, existsSync), workDir, (line) => process.stderr.write(line)).then((env) => {
        // The CLI the workspace starts is looked up on this process's PATH.
        if (env.PATH) process.env.PATH = env.PATH;
        return env;
    });
    return localEnv;
}

run(process.argv.slice(2), {
    openStack: async (name) => selectStageStack(name, workDir, isLocalStack(name) ? await localStageEnvOnce() : undefined),
    registry: new HttpRegistryClient(registryOptionsFromEnv(process.env)),
    onInterrupt: (handler) => {
        let first: number | undefined;
        const listener = () => {
            const now = Date.now();
            // One press can arrive twice: from the terminal (the whole process group) and passed on by npm.
            if (first !== undefined && now - first > 1000) process.exit(130);
            if (first === undefined) {
                first = now;
                handler();
            }
        };
        process.on("SIGINT", listener);
        return () => process.off("SIGINT", listener);
    },
    podsFor: async (name) => new KubectlPodSource(isLocalStack(name) ? { ...process.env, ...(await localStageEnvOnce()) } : process.env),
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
