import * as assert from "node:assert/strict";
import { run } from "../../tools/cli";
import { ExitCode } from "../../tools/errors";
import { deploymentRow, formatDeploymentList } from "../../tools/list";
import { diy, digest, fakeContext, FakeRegistry, FakeStageStack, outputsFor, REPO, startedAt, update } from "./fake-stage-stack";

/** local on a DIY backend: 3 is a rollback to 1's digest, 2 built the bad image, 1 has its state on record. */
function local() {
    return new FakeStageStack("local", {
        config: {
            "slipway:image": {
                source: "pinned",
                ref: `${REPO}@${digest("1")}`,
                buildNumber: "local",
                gitBranch: "main",
                gitSha: "1".repeat(40),
            },
        },
        outputs: outputsFor(digest("1")),
        history: diy([
            update({
                version: 3,
                pin: { digest: digest("1"), buildNumber: "local" },
                message: "slipway rollback: local to the image of update …",
            }),
            update({ version: 2, stage: "local", result: "failed", build: { gitSha: "2".repeat(40), dirty: true } }),
            update({ version: 1, stage: "local", build: { gitSha: "1".repeat(40) }, message: "first\nsecond line" }),
        ]),
        stateOutputs: { [startedAt(1)]: outputsFor(digest("1")) },
    });
}

describe("tools/list: rollback --list", () => {
    it("makes one row per deployment with the id --to takes, the result, the image, build, sha and message", () => {
        const history = diy([update({ version: 7, pin: { digest: digest("a"), buildNumber: "41", gitSha: "abcdef0".padEnd(40, "0") } })]);
        assert.deepEqual(deploymentRow(history[0], history, { ref: `${REPO}@${digest("a")}`, digest: digest("a"), via: "its pin" }), {
            id: startedAt(7),
            result: "succeeded",
            image: "sha256:aaaaaaaaaaaa",
            buildNumber: "41",
            gitSha: "abcdef0",
            message: "deploy 7",
        });
        assert.equal(deploymentRow(history[0], history, { reason: "gone" }).image, "unknown: gone");
    });

    it("prints the deployments newest first, aligned, never as update 0", async () => {
        const stack = local();
        const { ctx, io } = fakeContext([stack], new FakeRegistry());
        assert.equal(await run(["rollback", "--stack", "local", "--list"], ctx), ExitCode.Ok);
        assert.equal(
            io.out,
            [
                "ID                    RESULT     IMAGE                BUILD  SHA      MESSAGE",
                `${startedAt(3)}  succeeded  sha256:111111111111  local  0123456  slipway rollback: local to the image of update …`,
                `${startedAt(2)}  failed     unknown: update ${startedAt(2)} built its image and the backend keeps no record of its state, ` +
                    "and it has no CI build number to find it by  -      2222222  deploy 2",
                `${startedAt(1)}  succeeded  sha256:111111111111  -      1111111  first`,
                "",
            ].join("\n"),
        );
        assert.deepEqual(stack.mutations(), []);
        assert.doesNotMatch(io.out, /update 0\b/);
    });

    it("is a listing only: it excludes --to and --digest", async () => {
        const { ctx, io } = fakeContext([local()]);
        assert.equal(await run(["rollback", "--stack", "local", "--list", "--to", "previous"], ctx), ExitCode.Refused);
        assert.match(io.err, /error: --list and --to exclude each other/);
    });

    it("formats an empty image reason column and long reasons without widening other rows", () => {
        const text = formatDeploymentList([
            { id: "12", result: "succeeded", image: "sha256:cccccccccccc", message: "m" },
            { id: "11", result: "failed", image: "unknown: x", buildNumber: "42", gitSha: "1234567", message: "" },
        ]);
        assert.equal(
            text,
            [
                "ID  RESULT     IMAGE                BUILD  SHA      MESSAGE",
                "12  succeeded  sha256:cccccccccccc  -      -        m",
                "11  failed     unknown: x           42     1234567",
                "",
            ].join("\n"),
        );
    });
});
