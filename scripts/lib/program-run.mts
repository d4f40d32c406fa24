/**
 * One run of a checkout's Pulumi program under Pulumi mocks, in this fresh process, timed from the process's start:
 * what `npm run bench:program` (scripts/bench-program.ts) starts once per sample. Plain `node` runs this file (Node 24
 * strips the types), so ts-node is registered only where the engine's language host registers it.
 *
 * It does what the Node.js language host (`@pulumi/pulumi/cmd/run`) does before and while running a program, without
 * an engine: load `@pulumi/pulumi`, hand it the stack's config (from `Pulumi.<stack>.yaml`, as `slipway:<key>` → text
 * or JSON), register ts-node with the tsconfig that Pulumi.yaml names (tsconfig.pulumi.json: transpile only, by its
 * `noCheck`), require the program Pulumi.yaml's `main:` names, and wait until every exported output has resolved and
 * every resource registration has reached the mock monitor. The mocks answer at once, so the figure is the program's
 * own cost: Node.js, the SDKs it loads, transpiling and running it. Engine, providers and the cluster are not in it.
 *
 * Usage: node scripts/lib/program-run.mts --project DIR [--stack local]
 *        node scripts/lib/program-run.mts --project DIR --require @pulumi/aws
 * Prints one JSON line on stdout: ms since the process started at each step, the CPU ms the process used until its
 * outputs resolved, the resources registered and which of
 * the optional provider SDKs (`@pulumi/aws`, `@pulumi/docker`) the run loaded. The second form times `require` of
 * one module after `@pulumi/pulumi` (which every program loads first).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

/** Provider SDKs that only some stacks need; the run reports whether each was loaded. */
const OPTIONAL_SDKS = ["@pulumi/aws", "@pulumi/docker"];

const { values } = parseArgs({
    options: { project: { type: "string" }, stack: { type: "string", default: "local" }, require: { type: "string" } },
});
const project = path.resolve(values.project ?? process.cwd());
// The language host runs the program from the folder Pulumi.yaml's `main:` is in: the project's folder here.
process.chdir(project);
// Modules resolve from the checkout under test, as the program's own imports do.
const projectRequire = createRequire(path.join(project, "package.json"));
const ms = () => Math.round(performance.now() * 10) / 10;
const started = ms();

if (values.require !== undefined) {
    projectRequire("@pulumi/pulumi");
    const pulumiLoaded = ms();
    projectRequire(values.require);
    console.log(JSON.stringify({ module: values.require, started, pulumiLoaded, moduleMs: ms() - pulumiLoaded }));
    process.exit(0);
}

const pulumi = projectRequire("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
const pulumiLoaded = ms();
const { parse } = projectRequire("yaml") as typeof import("yaml");

let resources = 0;
await pulumi.runtime.setMocks(
    {
        newResource(args) {
            resources++;
            // The outputs the program needs from a provider to carry on: an image's digest (AppImage pins by it), an
            // ECR repository's URL (dev).
            const computed: Record<string, Record<string, unknown>> = {
                "docker-build:index:Image": { digest: `sha256:${"0".repeat(64)}` },
                "aws:ecr/repository:Repository": {
                    repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${args.inputs.name}`,
                    registryId: "123456789012",
                },
            };
            return { id: `${args.name}-id`, state: { ...args.inputs, ...computed[args.type] } };
        },
        call(args) {
            // The ECR registry's push token (dev); the local stack makes no call.
            return args.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken" ? { userName: "AWS", password: "token" } : {};
        },
    },
    "slipway",
    values.stack,
    false,
);
const stackFile = parse(readFileSync(`Pulumi.${values.stack}.yaml`, "utf8")) as { config?: Record<string, unknown> };
pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(stackFile.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)] as const)),
);

// ts-node as @pulumi/pulumi/cmd/run registers it for a CommonJS TypeScript program, with the same helpers.
const projectFile = parse(readFileSync("Pulumi.yaml", "utf8")) as { main?: string; runtime?: { options?: { tsconfig?: string } } };
const tsutils = projectRequire("@pulumi/pulumi/tsutils") as {
    loadTypeScriptCompilerOptions(p: string): Record<string, unknown>;
    typeScriptRequireStrings(): { tsnodeRequire: string; typescriptRequire: string };
};
const tsconfigPath = projectFile.runtime?.options?.tsconfig ?? "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfigPath);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
projectRequire(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ? process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true" : compilerOptions.noCheck,
    project: tsconfigPath,
    skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
const tsNodeRegistered = ms();

const program = projectRequire(path.resolve(projectFile.main ?? ".")) as Record<string, unknown>;
const programLoaded = ms();
// Every exported output resolved (plain values count as resolved), then every registration answered.
await new Promise((resolve) => pulumi.all(program).apply(resolve));
const settings = projectRequire("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
await settings.waitForRPCs();
const outputs = ms();
// CPU time (user + system) of this process so far: the part of the figure that waits for no other process's CPU.
const { user, system } = process.cpuUsage();
const cpu = Math.round((user + system) / 100) / 10;

const loaded = OPTIONAL_SDKS.filter((sdk) => {
    try {
        return projectRequire.cache[projectRequire.resolve(sdk)] !== undefined;
    } catch {
        return false;
    }
});
console.log(
    JSON.stringify({ stack: values.stack, started, pulumiLoaded, tsNodeRegistered, programLoaded, outputs, cpu, resources, loaded }),
);
process.exit(0);
