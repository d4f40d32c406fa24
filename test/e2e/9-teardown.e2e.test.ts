/**
 * The end of the local loop (issue 9): `npm run down:local` destroys the local stack and stops what up:local
 * started, and the host is left exactly as `cluster.sh up` found it (scripts/host-fingerprint.sh).
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { disposeWorkspace, workspace } from "./support/shared";
import { fromEnv, ok, run } from "./support/workspace";

describe("issue 9: down:local leaves the host as it was found", function () {
    it("destroys the local stack, stops the node, and leaves no process, mount, chain, link or setting behind", async () => {
        const ws = workspace();
        const down = ok(await ws.npm("down:local", [], { timeoutSeconds: 600 }), "npm run down:local");
        assert.match(down.stdout + down.stderr, /Resources:[\s\S]*deleted/);
        const before = readFileSync(path.join(fromEnv("SLIPWAY_E2E_WORK"), "host-before"), "utf8");
        const after = ok(await run("bash", [path.join(ws.dir, "scripts", "host-fingerprint.sh")]), "fingerprint").stdout;
        assert.equal(after, before);
        disposeWorkspace();
    });
});
