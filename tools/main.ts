/**
 * Entry point of `npm run promote | rollback | status`: wires the CLI to the Automation API and the registry.
 */
import * as path from "node:path";
import { run } from "./cli";
import { HttpRegistryClient, registryOptionsFromEnv } from "./registry";
import { selectStageStack } from "./stage-stack";

/** The Pulumi project directory: the repo root (where `Pulumi.yaml` is) unless `SLIPWAY_WORK_DIR` says otherwise. */
const workDir = process.env.SLIPWAY_WORK_DIR ?? path.resolve(__dirname, "..");

run(process.argv.slice(2), {
    openStack: (name) => selectStageStack(name, workDir),
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
