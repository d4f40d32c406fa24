/**
 * The package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball's file list, an install of the
 * tarball into an empty project (dependencies from the npm cache), then the installed `slipway` command and library.
 * Everything happens in one temp folder, removed at the end.
 */
import { strict as assert } from "node:assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
    const result = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.error, undefined, `${command} ${args.join(" ")}: ${result.error}`);
    return result;
}

function ok(command: string, args: string[], cwd: string): string {
    const result = run(command, args, cwd);
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
        ]) {
            assert.ok(files.includes(file), `${file} is not in the tarball`);
        }
        const pkg = JSON.parse(ok("tar", ["-xzOf", tarball, "package/package.json"], tmp)) as Record<string, any>;
        assert.equal(pkg.private, undefined);
        for (const file of [pkg.main, pkg.types, pkg.bin.slipway])
            assert.ok(files.includes(file), `package.json names ${file}, not shipped`);
    });

    it("ships no tests, sample app, build image, program, stack files, workflows, docs or TypeScript sources", () => {
        const unwanted = files.filter(
            (file) =>
                /^(test|app|build-image|stacks|policy|docs|\.github|\.ci|api|components|contracts|tools)\//.test(file) ||
                /(^|\/)Pulumi(\.[^/]*)?\.yaml$/.test(file) ||
                (/\.(ts|mts|cts)$/.test(file) && !/\.d\.ts$/.test(file)) ||
                /\.(map|tsbuildinfo)$/.test(file),
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

        it("`npx slipway --help` lists promote, rollback, status and preview", () => {
            const stdout = ok("npx", ["--no-install", "slipway", "--help"], project);
            for (const command of ["promote", "rollback", "status", "preview"]) {
                assert.match(stdout, new RegExp(`^  ${command} `, "m"), `--help does not list ${command}:\n${stdout}`);
            }
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
