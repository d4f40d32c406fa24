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

    it("a daemon does not inherit the lock up:local holds, so the lock ends with the run that took it", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-daemon-"));
        try {
            const script = `
                source "${DAEMON_SH}"
                exec 9>>"${dir}/up.lock"
                flock -n 9 || { echo "could not lock"; exit 1; }
                daemon_start "${dir}" held /bin/sleep 30
                exec 9>&-
                # The run is over: its lock must be free although its daemon still runs.
                if flock -n "${dir}/up.lock" true; then echo "lock free"; else echo "lock held by the daemon"; fi
                daemon_stop "${dir}" held 2>/dev/null
                true`;
            writeFileSync(path.join(dir, "run.sh"), script);
            const r = spawnSync("bash", [path.join(dir, "run.sh")], { encoding: "utf8", timeout: 30_000 });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout.trim(), "lock free");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("puts root's sbin folders on a PATH made for users, once", () => {
        const r = spawnSync("bash", ["-c", `source "${DAEMON_SH}"; source "${DAEMON_SH}"; echo "$PATH"; command -v sysctl`], {
            encoding: "utf8",
            env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: tmpdir() },
        });
        assert.equal(r.status, 0, r.stderr);
        const [pathLine, sysctl] = r.stdout.trim().split("\n");
        assert.equal(pathLine, "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin");
        assert.match(sysctl, /\/s?bin\/sysctl$/);
    });
});
