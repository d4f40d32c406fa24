import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const DAEMON_SH = path.resolve(__dirname, "..", "..", "scripts", "lib", "daemon.sh");

describe("scripts/lib/daemon.sh", () => {
    it("a daemon whose exec is slow counts as running as soon as daemon_start returns", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-daemon-"));
        try {
            // The log is a FIFO that nobody reads for 1 s, so the forked shell blocks opening it, before its exec:
            // the window in which the node's etcd was once taken for dead ("etcd exited while waiting").
            const script = `
                source "${DAEMON_SH}"
                mkfifo "${dir}/slow.log"
                (sleep 1; cat "${dir}/slow.log" >/dev/null) &
                daemon_start "${dir}" slow /bin/sleep 30
                if pid="$(daemon_pid "${dir}" slow)"; then echo "running $pid"; else echo "not running"; fi
                daemon_stop "${dir}" slow 2>/dev/null
                [[ -f "${dir}/slow.pid" ]] && echo "pid file left"
                true`;
            // From a file, not `bash -c`: the forked shell's command line must not contain the daemon's own.
            writeFileSync(path.join(dir, "run.sh"), script);
            const r = spawnSync("bash", [path.join(dir, "run.sh")], { encoding: "utf8", timeout: 30_000 });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout.trim(), /^running \d+$/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
