/**
 * `scripts/toolchain.sh cni`: the CNI plugins BuildKit's build network needs, for a machine that only builds images
 * (it must not build the node), and a cache made before `firewall` was on the list is built again.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");
const CNI_VERSION = /^CNI_PLUGINS_VERSION=(.*)$/m.exec(readFileSync(path.join(REPO, "toolchain", "versions.env"), "utf8"))![1];

/** `toolchain.sh cni` without Go on PATH, over a cache holding the CNI plugins named (as empty executables). */
function cniPart(plugins: string[]) {
    const cache = mkdtempSync(path.join(tmpdir(), "slipway-toolchain-"));
    try {
        const dir = path.join(cache, "slipway", "tools", "cni-plugins", CNI_VERSION);
        mkdirSync(dir, { recursive: true });
        for (const plugin of plugins) writeFileSync(path.join(dir, plugin), "", { mode: 0o755 });
        writeFileSync(path.join(dir, ".complete"), "2026-11-29T00:00:00Z\n");
        const r = spawnSync("bash", [path.join(REPO, "scripts", "toolchain.sh"), "cni"], {
            env: { PATH: "/usr/bin:/bin", HOME: cache, XDG_CACHE_HOME: cache },
            encoding: "utf8",
        });
        return { ...r, dir };
    } finally {
        rmSync(cache, { recursive: true, force: true });
    }
}

describe("scripts/toolchain.sh cni", () => {
    it("uses a complete cache without Go and builds nothing of the node", () => {
        const r = cniPart(["bridge", "loopback", "host-local", "portmap", "firewall"]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `export SLIPWAY_CNI_BIN=${r.dir}\n`);
        assert.doesNotMatch(r.stderr, /kubernetes|etcd|containerd/);
    });

    it("builds again a cache made before BuildKit's network needed `firewall` (here: fails for want of Go)", () => {
        const r = cniPart(["bridge", "loopback", "host-local", "portmap"]);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /Go is not installed, and cni-plugins is not on PATH/);
    });
});
