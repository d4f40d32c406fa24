/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball's file list, an install of the
 * tarball into an empty project (dependencies from the npm cache), then the installed `slipway` command and library.
 * Everything happens in one temp folder, removed at the end.
 */
import { strict as assert } from "node:assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");

/**
 * The environment every command runs in: the repository's Node 24 first on PATH (the package's `engines`), and none
 * of the `npm_*` variables an enclosing `npm run` sets, so the inner npm reads only its own defaults and the cache.
 */
const ENV: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_"))),
    PATH: `${path.join(REPO, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    npm_config_update_notifier: "false",
};

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
    const result = spawnSync(command, args, { cwd, env: { ...ENV, ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.error, undefined, `${command} ${args.join(" ")}: ${result.error}`);
    return result;
}

function ok(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
    const result = run(command, args, cwd, env);
    assert.equal(result.status, 0, `${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`);
    return result.stdout;
}

describe("the npm package: packed, installed into an empty project, run", function () {
    this.timeout(180_000);
    let tmp: string;
    let tarball: string;
    let files: string[];

    before(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "slipway-pack-"));
        const packed = JSON.parse(ok("npm", ["pack", "--pack-destination", tmp, "--json"], REPO)) as { filename: string }[];
        tarball = path.join(tmp, packed[0]!.filename);
        // The tarball itself, not npm's report of it: every entry under package/.
        files = ok("tar", ["-tzf", tarball], tmp)
            .split("\n")
            .filter((entry) => entry !== "")
            .map((entry) => entry.replace(/^package\//, ""));
    });

    after(() => {
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it("ships the library with its declarations, the CLI, the local stage's scripts, LICENSE and CHANGELOG.md", () => {
        for (const file of [
            "package.json",
            "README.md",
            "LICENSE",
            "CHANGELOG.md",
            "dist/index.js",
            "dist/index.d.ts",
            "dist/tools/main.js",
            "scripts/local-env.sh",
            "scripts/toolchain.sh",
            "toolchain/versions.env",
            // slipway init's templates: this repository's workflows, adapted into the user's project.
            "dist/templates/github/workflows/main.yml",
            "dist/templates/github/workflows/pr.yml",
            "dist/templates/github/workflows/rollback.yml",
            "dist/templates/github/scripts/kube-context.sh",
        ]) {
            assert.ok(files.includes(file), `${file} is not in the tarball`);
        }
        const pkg = JSON.parse(ok("tar", ["-xzOf", tarball, "package/package.json"], tmp)) as Record<string, any>;
        assert.equal(pkg.private, undefined);
        for (const file of [pkg.main, pkg.types, pkg.bin.slipway])
            assert.ok(files.includes(file), `package.json names ${file}, not shipped`);
    });

    it("ships no tests, sample app, build image, program, stack files, docs or TypeScript sources, and workflows only as init's templates", () => {
        const unwanted = files.filter(
            (file) =>
                /^(test|app|build-image|stacks|policy|docs|\.github|\.ci|api|components|contracts|tools)\//.test(file) ||
                /(^|\/)Pulumi(\.[^/]*)?\.yaml$/.test(file) ||
                (/\.(ts|mts|cts)$/.test(file) && !/\.d\.ts$/.test(file)) ||
                /\.(map|tsbuildinfo)$/.test(file) ||
                (/\.(ya?ml|sh)$/.test(file) && file.startsWith("dist/") && !file.startsWith("dist/templates/github/")),
        );
        assert.deepEqual(unwanted, []);
    });

    describe("installed from the tarball into an empty project", () => {
        let project: string;

        before(() => {
            project = path.join(tmp, "project");
            mkdirSync(project);
            writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
            // The npm cache holds every dependency (the repository's `npm ci` put them there).
            ok("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline"], project);
            const installed = JSON.parse(readFileSync(path.join(project, "node_modules", "slipway", "package.json"), "utf8"));
            assert.equal(installed.version, JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).version);
        });

        it("`npx slipway --help` lists init, promote, rollback, status and preview", () => {
            const stdout = ok("npx", ["--no-install", "slipway", "--help"], project);
            for (const command of ["init", "promote", "rollback", "status", "preview"]) {
                assert.match(stdout, new RegExp(`^  ${command} `, "m"), `--help does not list ${command}:\n${stdout}`);
            }
        });

        it("`npx slipway init` writes a project for a Dockerfile whose stack files and program run on the installed package", () => {
            mkdirSync(path.join(project, "svc"));
            writeFileSync(
                path.join(project, "svc", "Dockerfile"),
                [
                    "ARG BUILD_IMAGE",
                    "ARG RUNTIME_BASE_IMAGE",
                    "FROM ${BUILD_IMAGE} AS test",
                    "RUN make test",
                    "FROM ${RUNTIME_BASE_IMAGE} AS runtime",
                    "EXPOSE 3000",
                    "USER 10001:10001",
                    'CMD ["/app"]',
                    "",
                ].join("\n"),
            );
            const stdout = ok("npx", ["--no-install", "slipway", "init", "--name", "shop"], project);
            for (const line of [
                "  app name: shop (--name)",
                "  runtime target: runtime (last stage)",
                "  test target: test (the stage named test; CI's app-tests job builds it)",
                "  port 3000 (EXPOSE 3000)",
                "  user 10001 (USER 10001:10001)",
                "  npx slipway up --stack local",
            ]) {
                assert.ok(stdout.split("\n").includes(line), `init did not print "${line}":\n${stdout}`);
            }
            // The consumer's package.json was there first: left alone, with the command that adds what the program needs.
            // It lists slipway (installed from the tarball), so the command adds only the rest.
            assert.match(stdout, /^  npm install --save-exact @pulumi\/pulumi@[0-9.]+ && npm install --save-dev --save-exact typescript@/m);
            assert.deepEqual(JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")).name, "consumer");
            // Each stack file as the program reads it, through the installed package's own parser.
            const check = [
                "const slipway = require('slipway'); const yaml = require('yaml'); const fs = require('fs');",
                "console.log(JSON.stringify(['local', 'dev', 'qa', 'prod'].map((stage) => {",
                "  const config = yaml.parse(fs.readFileSync(`Pulumi.${stage}.yaml`, 'utf8')).config;",
                "  const all = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));",
                "  const c = slipway.config.parseStackConfig(slipway.config.decodeProjectConfig(all));",
                "  return [c.stage, c.app.name, c.app.port, c.image.source, c.image.context ?? null];",
                "})));",
            ].join("\n");
            assert.deepEqual(JSON.parse(ok("node", ["-e", check], project)), [
                ["local", "shop", 3000, "build", "svc"],
                ["dev", "shop", 3000, "build", "svc"],
                ["qa", "shop", 3000, "pinned", null],
                ["prod", "shop", 3000, "pinned", null],
            ]);
            // The npm install init printed (from the npm cache), then the written program on the installed package, run
            // as Pulumi's Node.js language host runs it (ts-node with tsconfig.slipway.json, type-checked) under Pulumi
            // mocks, for every stack: it reads the stack file, composes the stage and resolves every output.
            const install = stdout.split("\n")[stdout.split("\n").indexOf("Next:") + 1]!.trim();
            ok("sh", ["-c", install], project, { npm_config_prefer_offline: "true" });
            for (const stage of ["local", "dev", "qa", "prod"]) {
                const runner = path.join(REPO, "scripts", "lib", "program-run.mts");
                const ran = JSON.parse(ok("node", [runner, "--project", project, "--stack", stage], project)) as { resources: number };
                assert.ok(ran.resources >= 10, `${stage}: ${ran.resources} resources`);
            }
            assert.match(readFileSync(path.join(project, ".github", "workflows", "slipway-main.yml"), "utf8"), /^ +context: svc$/m);
        });

        it("`npx slipway init` with two Dockerfiles and no --dockerfile exits 2, lists both and writes nothing", () => {
            const two = path.join(tmp, "two");
            for (const dir of ["a", "b"]) {
                mkdirSync(path.join(two, dir), { recursive: true });
                writeFileSync(path.join(two, dir, "Dockerfile"), "FROM scratch AS runtime\n");
            }
            const result = run("npx", ["--no-install", "slipway", "init", "--dir", two], project);
            assert.equal(result.status, 2, result.stderr);
            assert.match(result.stderr, /2 Dockerfiles.*--dockerfile <path>[^]*a\/Dockerfile\n  b\/Dockerfile/);
            assert.deepEqual(readdirSync(two, { recursive: true }).sort(), ["a", "a/Dockerfile", "b", "b/Dockerfile"]);
        });

        it("`require('slipway')` is the library: its namespaces and their components, parser and composition", () => {
            const script = [
                "const slipway = require('slipway');",
                "console.log(JSON.stringify({",
                "  namespaces: Object.keys(slipway).sort(),",
                "  kinds: ['registry.Registry', 'image.BuildImage', 'image.AppImage', 'app.AppDeployment', 'config.parseStackConfig',",
                "    'config.decodeProjectConfig', 'config.StackConfigError', 'stage.defineStage', 'contracts.isPinnedStage']",
                "    .map((name) => [name, typeof name.split('.').reduce((o, k) => o[k], slipway)]),",
                "  stages: slipway.contracts.STAGES,",
                "}));",
            ].join("\n");
            const out = JSON.parse(ok("node", ["-e", script], project));
            assert.deepEqual(out.namespaces, ["app", "config", "contracts", "image", "registry", "stage"]);
            for (const [name, kind] of out.kinds) assert.equal(kind, "function", name);
            assert.deepEqual(out.stages, ["local", "dev", "qa", "prod"]);
        });
    });
});
