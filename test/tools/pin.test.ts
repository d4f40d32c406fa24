import * as assert from "node:assert/strict";
import { currentPinnedRef, describePin, pinCommands, pinnedImageConfig } from "../../tools/pin";
import { digest, REPO } from "./fake-stage-stack";

describe("tools/pin", () => {
    const ref = `${REPO}@${digest("a")}`;

    it("builds the pinned image object, with unknown metadata spelled out", () => {
        assert.deepEqual(pinnedImageConfig({ ref }), {
            source: "pinned",
            ref,
            buildNumber: "unknown",
            gitBranch: "unknown",
            gitSha: "unknown",
        });
    });

    it("prints shell-safe by-hand commands", () => {
        const commands = pinCommands("prod", { ref, buildNumber: "7", gitBranch: "fix/it's broken", gitSha: "abc" }, { source: "pinned" });
        assert.equal(commands[3], `pulumi config set --stack prod --path --type string slipway:image.gitBranch 'fix/it'\\''s broken'`);
        assert.equal(commands.length, 6);
    });

    it("knows a stage's current pin only when it is pinned and well-formed", () => {
        assert.equal(currentPinnedRef({ source: "pinned", ref }), ref);
        assert.equal(currentPinnedRef({ source: "pinned", ref: `${REPO}:latest` }), undefined);
        assert.equal(currentPinnedRef({ source: "build" }), undefined);
        assert.equal(describePin({ ref }), ref);
    });
});
