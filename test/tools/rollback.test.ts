import * as assert from "node:assert/strict";
import type { OutputMap } from "@pulumi/pulumi/automation";
import { rollback, type RollbackOptions } from "../../tools/rollback";
import { diy, digest, fakeContext, FakeRegistry, FakeStageStack, outputsFor, REPO, refusal, startedAt, update } from "./fake-stage-stack";

const pinned = (d: string, buildNumber = "43") => ({
    source: "pinned",
    ref: `${REPO}@${d}`,
    buildNumber,
    gitBranch: "main",
    gitSha: "4444444444444444444444444444444444444444",
});

/** prod's history: 12 runs c (current), 11 failed, 10 ran b, 9 ran a. */
const prodHistory = () => [
    update({ version: 12, pin: { digest: digest("c"), buildNumber: "43" } }),
    update({ version: 11, result: "failed", pin: { digest: digest("d"), buildNumber: "42" } }),
    update({ version: 10, pin: { digest: digest("b"), buildNumber: "41", gitSha: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" } }),
    update({ version: 9, pin: { digest: digest("a"), buildNumber: "40" } }),
];

/** prod on Pulumi Cloud, or (`diy`) the same history as a DIY backend records it. */
function prod(backend: "cloud" | "diy" = "cloud") {
    return new FakeStageStack("prod", {
        config: { "slipway:stage": "prod", "slipway:image": pinned(digest("c")) },
        outputs: outputsFor(digest("c")),
        history: backend === "cloud" ? prodHistory() : diy(prodHistory()),
    });
}

const opts = (o: Partial<RollbackOptions> = {}): RollbackOptions => ({
    stack: "prod",
    dryRun: false,
    registryCheck: true,
    ...o,
});

describe("tools/rollback", () => {
    it("by default restores the successful update before the current one and runs up", async () => {
        const stack = prod();
        const { ctx, io } = fakeContext([stack]);
        await rollback(ctx, opts());
        assert.deepEqual(stack.object("slipway:image"), {
            source: "pinned",
            ref: `${REPO}@${digest("b")}`,
            buildNumber: "41",
            gitBranch: "main",
            gitSha: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        });
        assert.equal(stack.callsOf("up").length, 1);
        assert.match(
            (stack.callsOf("up")[0].args[0] as { message: string }).message,
            /^slipway rollback: prod to the image of update 10 \(current: update 12, succeeded\)$/,
        );
        assert.match(io.out, /^rollback prod to the image of update 10 .*sha256:b{64} \(build 41, branch main, sha bbbbbbb\)\n/);
        assert.match(io.out, /update 13 succeeded: \+0 ~2 -0 ±0 =14\n/);
        assert.match(io.out, /commit Pulumi\.prod\.yaml/);
    });

    it("restores an explicit --to-version", async () => {
        const stack = prod();
        const { ctx } = fakeContext([stack]);
        await rollback(ctx, opts({ toVersion: 9 }));
        assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("a")}`);
        assert.equal(stack.object("slipway:image")?.buildNumber, "40");
    });

    it("refuses a failed --to-version and changes nothing", async () => {
        const stack = prod();
        const { ctx } = fakeContext([stack]);
        await refusal(rollback(ctx, opts({ toVersion: 11 })), /update 11 failed/);
        assert.deepEqual(stack.mutations(), []);
    });

    it("--dry-run works everything out, prints the manual commands and changes nothing", async () => {
        const stack = prod();
        const { ctx, io } = fakeContext([stack]);
        await rollback(ctx, opts({ dryRun: true }));
        assert.deepEqual(stack.mutations(), [], "no setConfig, setObjectConfig or up");
        assert.equal(stack.callsOf("preview").length, 0);
        assert.equal(
            io.out,
            [
                `rollback prod to the image of update 10 (current: update 12, succeeded): ${REPO}@${digest("b")} (build 41, branch main, sha bbbbbbb)`,
                "dry run: nothing changed. These commands would do it by hand:",
                "  pulumi config set --stack prod --path --type string slipway:image.source pinned",
                `  pulumi config set --stack prod --path --type string slipway:image.ref ${REPO}@${digest("b")}`,
                "  pulumi config set --stack prod --path --type string slipway:image.buildNumber 41",
                "  pulumi config set --stack prod --path --type string slipway:image.gitBranch main",
                "  pulumi config set --stack prod --path --type string slipway:image.gitSha bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "  pulumi up --stack prod --diff",
                "",
            ].join("\n"),
        );
    });

    it("--digest pins a digest of the stack's repository after checking the registry has it", async () => {
        const stack = prod();
        const registry = new FakeRegistry({ [`${REPO}:${digest("a")}`]: digest("a") });
        const { ctx } = fakeContext([stack], registry);
        await rollback(ctx, opts({ digest: digest("a") }));
        assert.deepEqual(registry.lookups, [`${REPO}:${digest("a")}`]);
        assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("a")}`);
        assert.equal(stack.object("slipway:image")?.buildNumber, "40", "metadata recovered from the update that ran it");
    });

    it("--digest refuses malformed digests and digests the registry does not have", async () => {
        for (const [d, message] of [
            ["sha256:abc", /--digest is malformed/],
            [`${REPO}@${digest("a")}`, /--digest is malformed/],
            [digest("7"), /sha256:7{64} does not exist in the registry/],
        ] as const) {
            const stack = prod();
            const { ctx } = fakeContext([stack]);
            await refusal(rollback(ctx, opts({ digest: d })), message);
            assert.deepEqual(stack.mutations(), []);
        }
    });

    it("refuses --to-version together with --digest, and --to together with --to-version", async () => {
        const { ctx } = fakeContext([prod()]);
        await refusal(rollback(ctx, opts({ toVersion: 9, digest: digest("a") })), /^--to-version and --digest exclude each other$/);
        await refusal(rollback(ctx, opts({ to: "9", toVersion: 9 })), /^--to and --to-version exclude each other$/);
    });

    it("restores --to <version> on a backend that numbers updates, like --to-version", async () => {
        const stack = prod();
        await rollback(fakeContext([stack]).ctx, opts({ to: "9" }));
        assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("a")}`);
    });

    describe("on a DIY backend (every update version 0, newest first)", () => {
        it("by default restores the update before the current one, named by start time", async () => {
            const stack = prod("diy");
            const { ctx, io } = fakeContext([stack]);
            await rollback(ctx, opts());
            assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("b")}`);
            assert.equal(
                (stack.callsOf("up")[0].args[0] as { message: string }).message,
                `slipway rollback: prod to the image of update ${startedAt(10)} (current: update ${startedAt(12)}, succeeded)`,
            );
            // The new update is named by its start time, as --to takes it: a DIY backend reports version 0.
            assert.match(io.out, new RegExp(`^update ${startedAt(13)} succeeded: `, "m"));
            assert.doesNotMatch(io.out, /update 0\b/);
        });

        it("restores --to <start time as status prints it>", async () => {
            const stack = prod("diy");
            await rollback(fakeContext([stack]).ctx, opts({ to: startedAt(9) }));
            assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("a")}`);
            assert.equal(stack.object("slipway:image")?.buildNumber, "40");
        });

        it("refuses --to-version with what to pass instead, and changes nothing", async () => {
            const stack = prod("diy");
            await refusal(
                rollback(fakeContext([stack]).ctx, opts({ toVersion: 9 })),
                new RegExp(
                    `does not number its updates .* name the update by its start time as status prints it, e\\.g\\. --to ${startedAt(12)}`,
                ),
            );
            assert.deepEqual(stack.mutations(), []);
        });
    });

    it("explains when there is nothing to roll back to", async () => {
        const stack = new FakeStageStack("prod", {
            config: { "slipway:image": pinned(digest("c")) },
            history: [update({ version: 1, pin: { digest: digest("c") } })],
        });
        const { ctx } = fakeContext([stack]);
        await refusal(rollback(ctx, opts()), /^nothing to roll back to on stack prod: update 1 is its only successful update$/);
        assert.deepEqual(stack.mutations(), []);
    });

    describe("decides from what was deployed, not from the checked-out Pulumi.<stack>.yaml", () => {
        /** A failed promotion: CI pinned d in its workspace, up failed (stuck rollout); the checkout still says c. */
        const afterFailedPromotion = () =>
            new FakeStageStack("prod", {
                config: { "slipway:image": pinned(digest("c")) },
                history: [update({ version: 13, result: "failed", pin: { digest: digest("d"), buildNumber: "44" } }), ...prodHistory()],
            });

        it("after a failed promotion, re-deploys the last good image although the checkout already pins it", async () => {
            const stack = afterFailedPromotion();
            const { ctx, io } = fakeContext([stack]);
            await rollback(ctx, opts());
            assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("c")}`);
            assert.equal(stack.callsOf("up").length, 1, "the stuck rollout is replaced");
            assert.match(io.out, new RegExp(`^the last update \\(13\\) failed: re-deploying ${REPO}@sha256:c{64}\n`));
        });

        it("names the failed update by its start time on a DIY backend", async () => {
            const stack = new FakeStageStack("prod", {
                config: { "slipway:image": pinned(digest("c")) },
                history: diy([update({ version: 13, result: "failed", pin: { digest: digest("d") } }), ...prodHistory()]),
            });
            const { ctx, io } = fakeContext([stack]);
            await rollback(ctx, opts());
            assert.equal(stack.callsOf("up").length, 1);
            assert.match(io.out, new RegExp(`^the last update \\(${startedAt(13)}\\) failed: re-deploying `));
        });

        it("skips the up only when the last update succeeded with exactly that digest and the checkout pins it", async () => {
            const stack = prod();
            const { ctx, io } = fakeContext([stack]);
            await rollback(ctx, opts({ to: "12" }));
            assert.deepEqual(stack.mutations(), []);
            assert.equal(
                io.out,
                `prod is already pinned to ${REPO}@${digest("c")} and its last update deployed it: nothing to roll back\n`,
            );
        });
    });

    describe("a second rollback in a row", () => {
        it("goes one step further back instead of redeploying the bad build", async () => {
            // dev built Z (1), A (2), then the bad B (3); rollback pinned A (4). The next rollback must go to Z.
            const build = (version: number, n: string) =>
                update({ version, stage: "dev", build: { gitSha: n.repeat(40), buildNumber: `9${n}` } });
            const dev = new FakeStageStack("dev", {
                config: { "slipway:image": pinned(digest("a"), "92") },
                history: [
                    update({
                        version: 4,
                        stage: "dev",
                        pin: { digest: digest("a") },
                        message: "slipway rollback: dev to the image of update 2",
                    }),
                    build(3, "3"),
                    build(2, "2"),
                    build(1, "1"),
                ],
                stateOutputs: {
                    [startedAt(3)]: outputsFor(digest("b")),
                    [startedAt(2)]: outputsFor(digest("a")),
                    [startedAt(1)]: outputsFor(digest("f")),
                },
            });
            const registry = new FakeRegistry();
            const { ctx } = fakeContext([dev], registry);
            await rollback(ctx, opts({ stack: "dev" }));
            assert.equal(dev.object("slipway:image")?.ref, `${REPO}@${digest("f")}`);
            assert.match((dev.callsOf("up")[0].args[0] as { message: string }).message, /^slipway rollback: dev to the image of update 1 /);
            assert.deepEqual(registry.lookups, [`labels ${REPO}@${digest("f")}`], "no tag is looked up: every digest was on record");
        });
    });

    describe("a building stage (dev)", () => {
        const devConfig = { source: "build", runtimeBaseImage: `node@${digest("6")}`, context: "app" };
        const dev = (stateOutputs: Record<string, OutputMap> = {}) =>
            new FakeStageStack("dev", {
                config: { "slipway:image": devConfig },
                outputs: outputsFor(digest("e"), { stageName: "dev" }),
                stateOutputs,
                history: [
                    update({ version: 31, stage: "dev", build: { gitSha: "3333333333333333333333333333333333333333", buildNumber: "90" } }),
                    update({ version: 30, stage: "dev", build: { gitSha: "2222222222222222222222222222222222222222", buildNumber: "89" } }),
                ],
            });

        it("restores the digest the earlier update recorded in its own state, never looking up a tag", async () => {
            const stack = dev({ [startedAt(30)]: outputsFor(digest("2")) });
            const registry = new FakeRegistry({ [`${REPO}:sha-2222222`]: digest("7"), [`${REPO}:build-89`]: digest("7") });
            const { ctx, io } = fakeContext([stack], registry);
            await rollback(ctx, opts({ stack: "dev" }));
            assert.deepEqual(registry.lookups, [`labels ${REPO}@${digest("2")}`]);
            assert.deepEqual(stack.object("slipway:image"), {
                source: "pinned",
                ref: `${REPO}@${digest("2")}`,
                buildNumber: "89",
                gitBranch: "main",
                gitSha: "2222222222222222222222222222222222222222",
            });
            assert.match(io.err, /resolved the image of update 30 → sha256:2{64} \(from its recorded state\)/);
        });

        it("restores a build from uncommitted changes by its recorded digest: a clean tree is no precondition", async () => {
            const stack = new FakeStageStack("dev", {
                config: { "slipway:image": devConfig },
                outputs: outputsFor(digest("e")),
                history: [
                    update({ version: 31, stage: "dev", build: { gitSha: "3".repeat(40), buildNumber: "90" } }),
                    update({ version: 30, stage: "dev", build: { gitSha: "2".repeat(40), dirty: true } }),
                ],
                stateOutputs: { [startedAt(30)]: outputsFor(digest("2")) },
            });
            const { ctx } = fakeContext([stack]);
            await rollback(ctx, opts({ stack: "dev" }));
            assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("2")}`);
        });

        it("pins the metadata the image was built with, from its labels, over what history recorded", async () => {
            // A local build: history has the commit, but the build number ("local") only the image itself records.
            const stack = dev();
            const registry = new FakeRegistry(
                { [`${REPO}:build-89`]: digest("2") },
                {
                    [`${REPO}@${digest("2")}`]: {
                        "dev.slipway.build-number": "local",
                        "dev.slipway.git-branch": "feature/x",
                        "org.opencontainers.image.revision": "2222222222222222222222222222222222222222",
                        "org.opencontainers.image.title": "app-image",
                    },
                },
            );
            const { ctx } = fakeContext([stack], registry);
            await rollback(ctx, opts({ stack: "dev" }));
            assert.deepEqual(stack.object("slipway:image"), {
                source: "pinned",
                ref: `${REPO}@${digest("2")}`,
                buildNumber: "local",
                gitBranch: "feature/x",
                gitSha: "2222222222222222222222222222222222222222",
            });
        });

        it("--dry-run prints the by-hand commands, removing the build-only object first", async () => {
            const stack = dev();
            const { ctx, io } = fakeContext([stack], new FakeRegistry({ [`${REPO}:build-89`]: digest("2") }));
            await rollback(ctx, opts({ stack: "dev", dryRun: true }));
            assert.deepEqual(stack.mutations(), []);
            const commands = io.out.split("\n").filter((l) => l.startsWith("  pulumi"));
            assert.equal(commands[0], "  pulumi config rm --stack dev slipway:image");
            assert.equal(commands.length, 7);
        });

        it("without a recorded digest, finds the image by its unique build tag, never by its moving sha tag", async () => {
            const stack = dev();
            const registry = new FakeRegistry({ [`${REPO}:sha-2222222`]: digest("7"), [`${REPO}:build-89`]: digest("8") });
            const { ctx } = fakeContext([stack], registry);
            await rollback(ctx, opts({ stack: "dev" }));
            assert.deepEqual(registry.lookups, [`${REPO}:build-89`, `labels ${REPO}@${digest("8")}`]);
            assert.equal(stack.object("slipway:image")?.ref, `${REPO}@${digest("8")}`);
        });

        it("says so when it passes over a newer update whose image cannot be found, before going further back", async () => {
            const stack = new FakeStageStack("dev", {
                config: { "slipway:image": devConfig },
                outputs: outputsFor(digest("e"), { stageName: "dev" }),
                // Update 30's state is gone and its tag expired; update 29 recorded its digest.
                stateOutputs: { [startedAt(29)]: outputsFor(digest("1")) },
                history: [
                    update({ version: 31, stage: "dev", build: { gitSha: "3333333333333333333333333333333333333333", buildNumber: "90" } }),
                    update({ version: 30, stage: "dev", build: { gitSha: "2222222222222222222222222222222222222222", buildNumber: "89" } }),
                    update({ version: 29, stage: "dev", build: { gitSha: "1111111111111111111111111111111111111111", buildNumber: "88" } }),
                ],
            });
            const { ctx, io } = fakeContext([stack]);
            await rollback(ctx, opts({ stack: "dev", dryRun: true }));
            const lines = io.out.split("\n");
            const passed = lines.findIndex((l) => l.startsWith("passed over a newer update whose image cannot be found: update 30 "));
            const target = lines.findIndex((l) => l.startsWith("rollback dev to the image of update 29 "));
            assert.ok(passed >= 0 && target > passed, io.out);
        });

        it("explains when the registry no longer has the image", async () => {
            const stack = dev();
            const { ctx } = fakeContext([stack]);
            await refusal(
                rollback(ctx, opts({ stack: "dev" })),
                /^nothing to roll back to on stack dev: .*skipped update 30 built its image and the backend keeps no record of its state, and its tag build-89 is not in .*slipway-app \(that update did not rebuild the image, whose build inputs had not changed, or the lifecycle policy expired it\)$/,
            );
            assert.deepEqual(stack.mutations(), []);
        });
    });
});
