/** The real entry point in a child process: exit codes, messages, SIGTERM. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { get } from "./helpers.ts";

// Tests run on the TypeScript sources (Node's type stripping), so this is the entry point as `node src/main.ts`
// runs it: the same code as the compiled dist/main.js (erasable syntax only; tsconfig.json).
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

function run(env: Record<string, string>) {
    // Only our variables: the test must not depend on the caller's environment.
    return spawn(process.execPath, [MAIN], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: "pipe" });
}

function exitOf(child: ReturnType<typeof run>): Promise<{ code: number | null; stderr: string }> {
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

// Concurrent: each case is its own process, and they share nothing.
describe("main", { concurrency: true }, () => {
    it("exits 1 with one clear message naming the bad variable", async () => {
        const { code, stderr } = await exitOf(run({ METRICS_PORT: "not-a-port" }));
        assert.equal(code, 1);
        assert.match(stderr, /^invalid configuration:\n {2}METRICS_PORT: .+\n$/);
        assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/, "no stack trace");
    });

    it("exits 1 naming CONFIG_FILE when the file is invalid", async () => {
        const path = join(mkdtempSync(join(tmpdir(), "slipway-main-")), "bad.yaml");
        writeFileSync(path, "nonsense: true\n");
        const { code, stderr } = await exitOf(run({ CONFIG_FILE: path, PORT: "0", METRICS_PORT: "0" }));
        assert.equal(code, 1);
        assert.match(stderr, /CONFIG_FILE/);
        assert.match(stderr, /nonsense/);
    });

    it("serves with the config file and exits 0 after SIGTERM", async () => {
        const path = join(mkdtempSync(join(tmpdir(), "slipway-main-")), "app.yaml");
        writeFileSync(path, "message: mounted\n");
        const child = run({ HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0", DRAIN_DELAY_MS: "100", CONFIG_FILE: path });
        const exited = exitOf(child);
        const lines = createInterface({ input: child.stdout });
        let port = 0;
        for await (const line of lines) {
            const entry = JSON.parse(line) as { msg: string; port?: number };
            if (entry.msg === "listening") {
                port = entry.port ?? 0;
                break;
            }
        }
        assert.ok(port > 0, "logged the bound port");
        const reply = await get(port, "/");
        assert.equal(JSON.parse(reply.body).message, "mounted");
        child.stdout.resume();
        child.kill("SIGTERM");
        const { code, stderr } = await exited;
        assert.equal(code, 0, stderr);
    });
});
