import * as assert from "node:assert/strict";
import { promote } from "../../tools/promote";
import { diy, digest, fakeContext, FakeStageStack, outputsFor, REPO, startedAt, update, refusal } from "./fake-stage-stack";

const buildConfig = { source: "build", context: "app" };
const qaPinned = (d: string) => ({
    source: "pinned",
    ref: `${REPO}@${d}`,
    buildNumber: "40",
    gitBranch: "main",
    gitSha: "1111111111111111111111111111111111111111",
});

function dev(outputs = outputsFor(digest("a")), result: "succeeded" | "failed" = "succeeded") {
    return new FakeStageStack("dev", {
        outputs,
        config: { "slipway:image": buildConfig },
        history: [
            update({ version: 21, stage: "dev", result, build: { gitSha: "0123456789abcdef0123456789abcdef01234567", buildNumber: "41" } }),
            update({ version: 20, stage: "dev", build: { gitSha: "2222222222222222222222222222222222222222", buildNumber: "40" } }),
        ],
    });
}

function qa() {
    return new FakeStageStack("qa", {
        config: { "slipway:stage": "qa", "slipway:image": qaPinned(digest("9")) },
        history: [update({ version: 5, stage: "qa", pin: { digest: digest("9"), buildNumber: "40" } })],
        changes: { same: 20, update: 1 },
    });
}

describe("tools/promote", () => {
    it("pins dev's digest and build metadata in qa with path config, then runs up with --yes", async () => {
        const source = dev();
        const target = qa();
        const { ctx, io } = fakeContext([source, target]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });

        assert.deepEqual(target.object("slipway:image"), {
            source: "pinned",
            ref: `${REPO}@${digest("a")}`,
            buildNumber: "41",
            gitBranch: "main",
            gitSha: "0123456789abcdef0123456789abcdef01234567",
        });
        assert.deepEqual(
            target.callsOf("setObjectConfig").map((c) => c.args[0]),
            ["slipway:image"],
            "one write of the whole object: build numbers stay strings",
        );
        assert.equal(target.callsOf("setConfig").length, 0);
        assert.equal(target.callsOf("preview").length, 0);
        assert.equal(target.callsOf("up").length, 1);
        assert.equal((target.callsOf("up")[0].args[0] as { message: string }).message, `promote dev → qa: ${REPO}@${digest("a")}`);
        assert.equal(source.mutations().length, 0, "the source stack is only read");
        assert.equal(
            io.out,
            `promoted dev → qa: ${REPO}@${digest("a")} (build 41, branch main, sha 0123456)\n` + `update 6 succeeded: +0 ~1 -0 ±0 =20\n`,
        );
        assert.match(io.err, /Updating \(prod\)/, "Pulumi's progress goes to stderr");
    });

    it("promotes into a stage whose slipway:pullRegistry is the source image's registry", async () => {
        const target = qa();
        target.config.set("slipway:pullRegistry", REPO.split("/")[0]);
        const { ctx } = fakeContext([dev(), target]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.equal((target.object("slipway:image") as { ref: string }).ref, `${REPO}@${digest("a")}`);
        assert.equal(target.callsOf("up").length, 1);
    });

    it("refuses an image from another registry than the target's slipway:pullRegistry, writing nothing", async () => {
        const target = qa();
        target.config.set("slipway:pullRegistry", "210987654321.dkr.ecr.eu-central-1.amazonaws.com");
        const { ctx } = fakeContext([dev(), target]);
        const says =
            `dev's image ${REPO}@${digest("a")} is on 123456789012.dkr.ecr.eu-west-1.amazonaws.com, but qa pulls only from ` +
            `210987654321.dkr.ecr.eu-central-1.amazonaws.com (slipway:pullRegistry in Pulumi.qa.yaml); nothing was written. ` +
            `Correct slipway:pullRegistry, or promote from the stage whose registry it names`;
        await refusal(promote(ctx, { from: "dev", to: "qa", yes: true }), new RegExp(`^${says.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
        assert.deepEqual(target.mutations(), []);
        assert.deepEqual(target.object("slipway:image"), qaPinned(digest("9")));
    });

    it("runs a preview without --yes and prints the change summary", async () => {
        const target = qa();
        const { ctx, io } = fakeContext([dev(), target]);
        await promote(ctx, { from: "dev", to: "qa", yes: false });
        assert.equal(target.callsOf("preview").length, 1);
        assert.equal(target.callsOf("up").length, 0);
        assert.match(io.out, /^preview of qa with .*: \+0 ~1 -0 ±0 =20\n/);
        assert.match(io.out, /run again with --yes to deploy it/);
    });

    it("replaces a building stage's image object, dropping its build-only keys", async () => {
        const target = new FakeStageStack("qa", { config: { "slipway:image": buildConfig } });
        const { ctx } = fakeContext([dev(), target]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.deepEqual(Object.keys(target.object("slipway:image") ?? {}), ["source", "ref", "buildNumber", "gitBranch", "gitSha"]);
        assert.equal(target.object("slipway:image")?.source, "pinned");
    });

    it("refuses to promote across a failed source update and touches nothing", async () => {
        const target = qa();
        const { ctx } = fakeContext([dev(undefined, "failed"), target]);
        await refusal(promote(ctx, { from: "dev", to: "qa", yes: true }), /stack dev's last update \(version 21\) failed/);
        assert.deepEqual(target.mutations(), []);
    });

    it("refuses a missing or malformed digest output", async () => {
        for (const [outputs, message] of [
            [outputsFor(digest("a"), { appImageDigest: undefined }), /appImageDigest is missing/],
            [outputsFor(digest("a"), { appImageDigest: "sha256:1234" }), /appImageDigest is malformed: .*"sha256:1234"/],
            [outputsFor(digest("a"), { appImageRef: `${REPO}:latest` }), /appImageRef is not pinned by digest/],
            [outputsFor(digest("a"), { appImageDigest: digest("b") }), /outputs disagree/],
        ] as const) {
            const target = qa();
            const { ctx } = fakeContext([dev(outputs), target]);
            await refusal(promote(ctx, { from: "dev", to: "qa", yes: true }), message);
            assert.deepEqual(target.mutations(), []);
        }
    });

    it("refuses a pinned source whose outputs do not match the digest its last update deployed", async () => {
        const source = new FakeStageStack("qa", {
            outputs: outputsFor(digest("a")),
            history: [update({ version: 5, stage: "qa", pin: { digest: digest("b") } })],
        });
        const target = new FakeStageStack("prod", { config: { "slipway:image": qaPinned(digest("9")) } });
        const { ctx } = fakeContext([source, target]);
        await refusal(promote(ctx, { from: "qa", to: "prod", yes: true }), /run pulumi refresh on qa first/);
        assert.deepEqual(target.mutations(), []);
    });

    it("does nothing when the target's last update succeeded with the digest and the checkout pins it", async () => {
        const target = new FakeStageStack("qa", {
            config: { "slipway:image": qaPinned(digest("a")) },
            history: [update({ version: 6, stage: "qa", pin: { digest: digest("a") } })],
        });
        const { ctx, io } = fakeContext([dev(), target]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.deepEqual(target.mutations(), []);
        assert.equal(io.out, `qa is already pinned to ${REPO}@${digest("a")} and its last update deployed it: nothing to promote\n`);
    });

    it("re-deploys when the checkout pins the digest but the target's last update failed (a promotion whose up failed)", async () => {
        const target = new FakeStageStack("qa", {
            config: { "slipway:image": qaPinned(digest("a")) },
            history: diy([
                update({ version: 6, stage: "qa", result: "failed", pin: { digest: digest("a") } }),
                update({ version: 5, stage: "qa", pin: { digest: digest("9") } }),
            ]),
        });
        const { ctx, io } = fakeContext([dev(), target]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.equal(target.callsOf("up").length, 1);
        assert.match(io.err, new RegExp(`^the last update \\(${startedAt(6)}\\) failed: re-deploying ${REPO}@sha256:a{64}$`, "m"));
        // A DIY backend names the new update by its start time, never "update 0".
        assert.match(io.out, new RegExp(`^update ${startedAt(7)} succeeded: `, "m"));
    });

    it("refuses promoting a stack to itself", async () => {
        const { ctx } = fakeContext([dev()]);
        await refusal(promote(ctx, { from: "dev", to: "dev", yes: true }), /--from and --to are both dev/);
    });
});
