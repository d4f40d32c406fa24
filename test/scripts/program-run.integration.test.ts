import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");
const RUNNER = path.join(REPO, "scripts", "lib", "program-run.mts");
const NODE = path.join(REPO, "node_modules", ".bin", "node");

/** One run of the program for a shipped stack file in a fresh process (scripts/lib/program-run.mts, as bench:program runs it). */
function runProgram(stack: string): { resources: number; loaded: string[]; outputs: number } {
    const r = spawnSync(NODE, [RUNNER, "--project", REPO, "--stack", stack], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim());
}

// A process of its own per stack: in the test process, other suites have loaded every SDK already.
describe("the Pulumi program loads a provider SDK only for a stack that uses it (components/lib/optional-sdks.ts)", () => {
    it("local (an external registry) runs to its outputs without loading @pulumi/aws or @pulumi/docker", () => {
        const run = runProgram("local");
        assert.ok(run.resources > 0 && run.outputs > 0, JSON.stringify(run));
        assert.deepEqual(run.loaded, []);
    });

    it("dev (an ECR registry) loads @pulumi/aws and not @pulumi/docker", () => {
        assert.deepEqual(runProgram("dev").loaded, ["@pulumi/aws"]);
    });
});
