/**
 * scripts/lib/stack-lock.sh: a DIY backend's lock left by a killed update is cleared (and said), a lock held by a
 * live update stops the second run with who holds it, and a lock from another host is never touched. The lock files
 * are written in the backend's own format (pkg/backend/diy/lock.go: pid, username, hostname, timestamp).
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("scripts/lib/stack-lock.sh: the local stack's lock after a killed or a concurrent update", () => {
    let backend: string;
    let lock: string;
    const writeLock = (pid: number, host = hostname()) => {
        mkdirSync(path.dirname(lock), { recursive: true });
        writeFileSync(lock, JSON.stringify({ pid, username: "root", hostname: host, timestamp: "2026-12-07T13:20:01.123456789Z" }));
    };
    const check = () =>
        spawnSync(
            "bash",
            [
                "-c",
                `set -euo pipefail; source scripts/lib/daemon.sh; source scripts/lib/stack-lock.sh; stack_lock_check "file://${backend}" local`,
            ],
            {
                cwd: ROOT,
                encoding: "utf8",
                timeout: 30_000,
            },
        );

    beforeEach(() => {
        backend = mkdtempSync(path.join(tmpdir(), "slipway-lock-"));
        lock = path.join(backend, ".pulumi", "locks", "organization", "slipway", "local", "0b6c1d2e-lock.json");
    });
    afterEach(() => rmSync(backend, { recursive: true, force: true }));

    it("clears the lock of an update whose process is gone (with the attributes file beside it), and says whose it was", () => {
        const gone = spawnSync("true").pid ?? 0;
        writeLock(gone);
        // The file backend's blob library writes one beside every file it writes, the lock included.
        writeFileSync(`${lock}.attrs`, '{"user.cache_control":"","user.content_type":"application/json"}');
        const r = check();
        assert.equal(r.status, 0, r.stderr);
        assert.equal(existsSync(lock), false);
        assert.equal(existsSync(`${lock}.attrs`), false);
        assert.match(r.stderr, new RegExp(`cleared the lock of an update that is gone \\(pid ${gone}, since 2026-12-07T13:20:01Z\\)`));
    });

    it("stops, naming the pid and the start, while the update that holds the lock still runs", async () => {
        // A live process whose command line names pulumi, as the CLI's does.
        const live = spawn("bash", ["-c", "exec -a pulumi-up sleep 30"], { stdio: "ignore" });
        try {
            await new Promise((r) => setTimeout(r, 200));
            writeLock(live.pid ?? 0);
            const r = check();
            assert.equal(r.status, 1);
            assert.match(r.stderr, new RegExp(`another update \\(pid ${live.pid}, since 2026-12-07T13:20:01Z\\) holds the local stack`));
            assert.equal(existsSync(lock), true, "a live update's lock stays");
        } finally {
            live.kill();
        }
    });

    it("never clears a lock taken on another host", () => {
        writeLock(1, "ci-runner-7");
        const r = check();
        assert.equal(r.status, 1);
        assert.match(r.stderr, /locked by an update on ci-runner-7 \(pid 1, since 2026-12-07T13:20:01Z\)/);
        assert.equal(existsSync(lock), true);
    });

    it("does nothing without a lock, or on a backend that is not a folder", () => {
        assert.equal(check().status, 0);
        const r = spawnSync(
            "bash",
            ["-c", "source scripts/lib/daemon.sh; source scripts/lib/stack-lock.sh; stack_lock_check s3://bucket local"],
            {
                cwd: ROOT,
                encoding: "utf8",
            },
        );
        assert.equal(r.status, 0, r.stderr);
    });
});
