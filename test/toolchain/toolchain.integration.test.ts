import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");

describe("scripts/toolchain.sh", () => {
    it("without Go and with nothing cached, fails and says how to install the Pulumi CLI the usual way", () => {
        const cache = mkdtempSync(path.join(tmpdir(), "slipway-toolchain-"));
        try {
            // PATH with bash and coreutils but neither Go nor any Pulumi CLI, and an empty binary cache.
            const r = spawnSync("bash", [path.join(REPO, "scripts", "toolchain.sh"), "engine"], {
                env: { PATH: "/usr/bin:/bin", HOME: cache, XDG_CACHE_HOME: cache },
                encoding: "utf8",
            });
            assert.equal(r.status, 1);
            assert.equal(r.stdout, "", "no export lines for a toolchain that is not there");
            assert.match(r.stderr, /Go is not installed, and pulumi is not on PATH or in .*\/slipway\/tools/);
            assert.match(r.stderr, /curl -fsSL https:\/\/get\.pulumi\.com \| sh/);
        } finally {
            rmSync(cache, { recursive: true, force: true });
        }
    });
});
