/**
 * scripts/local-up.sh: a second `npm run up:local` in the same project stops at once and says which run holds it,
 * instead of reaching Pulumi's stack lock (whose advice, `pulumi cancel`, would break the update still running).
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("scripts/local-up.sh: one up:local at a time per project", () => {
    let project: string;
    const upLocal = () =>
        spawnSync("bash", [path.join(project, "scripts", "local-up.sh")], { cwd: project, encoding: "utf8", timeout: 60_000 });

    beforeEach(() => {
        // The script and what it sources, nothing else: it must stop before it needs anything more.
        project = mkdtempSync(path.join(tmpdir(), "slipway-up-lock-"));
        mkdirSync(path.join(project, "scripts", "lib"), { recursive: true });
        cpSync(path.join(ROOT, "scripts", "local-up.sh"), path.join(project, "scripts", "local-up.sh"));
        for (const lib of ["daemon.sh", "stack-lock.sh"]) {
            cpSync(path.join(ROOT, "scripts", "lib", lib), path.join(project, "scripts", "lib", lib));
        }
        mkdirSync(path.join(project, ".slipway"));
    });
    afterEach(() => rmSync(project, { recursive: true, force: true }));

    it("stops while another up:local holds the project, naming its pid and start", async () => {
        writeFileSync(path.join(project, ".slipway", "up.owner"), "pid 4242, since 2026-12-07T13:50:00Z\n");
        const holder = spawn("flock", [path.join(project, ".slipway", "up.lock"), "sleep", "30"], { stdio: "ignore" });
        try {
            await new Promise((r) => setTimeout(r, 300));
            const r = upLocal();
            assert.equal(r.status, 1);
            assert.match(
                r.stderr,
                /another npm run up:local runs in this project \(pid 4242, since 2026-12-07T13:50:00Z\): wait for it to finish/,
            );
        } finally {
            holder.kill();
        }
    });

    it("goes on when no other up:local runs (here to the next step, which fails for lack of a project)", () => {
        const r = upLocal();
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.stderr, /another npm run up:local/);
        assert.match(r.stdout + r.stderr, /npm (error|ERR!)/);
    });
});
