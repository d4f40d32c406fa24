import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

/** The tools' real entry point in a child process: commander (ESM from CommonJS), the Automation API, main's wiring. */
describe("tools entry point", () => {
    describe("the real entry point (npm scripts run it under the repo's Node 24)", function () {
        // One child process that loads commander (ESM, required from CommonJS), the Automation API and main's wiring.
        this.timeout(20_000);
        const root = path.resolve(__dirname, "../..");
        const node = path.join(root, "node_modules/.bin/node");
        const tsNode = path.join(root, "node_modules/ts-node/dist/bin.js");
        // PATH without a Pulumi CLI: the tools must report that plainly, not crash.
        const env = { ...process.env, PATH: path.dirname(node) };
        const main = (...args: string[]) =>
            spawnSync(node, [tsNode, "--transpile-only", "tools/main.ts", ...args], { cwd: root, env, encoding: "utf8" });

        it("runs, and reports a missing Pulumi CLI as an operation failure (exit 1)", () => {
            const r = main("rollback", "--stack", "prod", "--dry-run");
            assert.equal(r.status, 1);
            assert.equal(r.stderr, "error: the pulumi CLI could not be run (spawn pulumi ENOENT)\n");
        });
    });
});
