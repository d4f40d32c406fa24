/**
 * Engine runs compile the program transpile-only (Pulumi.yaml → tsconfig.pulumi.json, `noCheck`), so a type error
 * no longer stops `pulumi preview`. It must still stop `npm test`: its typecheck step runs tsc over the same config.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

const REPO = path.resolve(__dirname, "..", "..");

describe("a type error in the program", function () {
    this.timeout(120_000);

    it("is skipped by engine runs (noCheck in the tsconfig Pulumi.yaml names) but fails npm test's typecheck", () => {
        const project = parseYaml(readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as { runtime: { options: { tsconfig: string } } };
        const engineConfig = readFileSync(path.join(REPO, project.runtime.options.tsconfig), "utf8");
        assert.match(engineConfig, /"noCheck": true/, "engine runs are transpile-only");

        const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
        assert.match(pkg.scripts.test, /npm run typecheck/);
        assert.equal(pkg.scripts.typecheck, "tsc --noEmit -p tsconfig.json");

        // The repo's own tsconfig, plus one file that calls the program wrongly.
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-typecheck-"));
        try {
            writeFileSync(
                path.join(dir, "tsconfig.json"),
                JSON.stringify({
                    extends: path.join(REPO, "tsconfig.json"),
                    compilerOptions: { typeRoots: [path.join(REPO, "node_modules", "@types")] },
                    include: [path.join(REPO, "stacks"), "bad.ts"],
                }),
            );
            writeFileSync(
                path.join(dir, "bad.ts"),
                `import { parseStackConfig } from ${JSON.stringify(path.join(REPO, "stacks", "config"))};\n` +
                    `export const replicas: string = parseStackConfig({}).app.replicas;\n`,
            );
            const tsc = (config: string) =>
                spawnSync(path.join(REPO, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", config], { encoding: "utf8" });
            const checked = tsc(path.join(dir, "tsconfig.json"));
            assert.equal(checked.status, 2, checked.stdout);
            assert.match(checked.stdout, /bad\.ts\(2,14\): error TS2322: Type 'number' is not assignable to type 'string'/);

            // The same file under the engine's options compiles: without `npm test` the error would reach an up.
            writeFileSync(
                path.join(dir, "tsconfig.engine.json"),
                JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { noCheck: true } }),
            );
            assert.equal(tsc(path.join(dir, "tsconfig.engine.json")).status, 0);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
