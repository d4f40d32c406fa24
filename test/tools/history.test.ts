import * as assert from "node:assert/strict";
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import {
    deployedImage,
    isRollback,
    pickRollbackTarget,
    redeployReason,
    requireLastDeploymentSucceeded,
    ROLLBACK_MESSAGE_PREFIX,
    type ImageResolver,
} from "../../tools/history";
import { formatTime, lastDeployment, updateNaming, updateTime } from "../../tools/updates";
import { ExitCode, ToolError } from "../../tools/errors";
import { diy, digest, REPO, startedAt, update } from "./fake-stage-stack";

/** Asserts a refusal (exit code 2) whose message matches. */
function refuses(fn: () => unknown, message: RegExp): void {
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof ToolError, String(err));
        assert.equal(err.exitCode, ExitCode.Refused);
        assert.match(err.message, message);
        return true;
    });
}

describe("tools/history", () => {
    describe("deployedImage", () => {
        it("reads a pinned update's digest and build metadata from its config", () => {
            const image = deployedImage(
                update({ version: 7, pin: { digest: digest("a"), buildNumber: "41", gitSha: "abcdef0123456789abcdef0123456789abcdef01" } }),
            );
            assert.deepEqual(image, {
                kind: "pinned",
                ref: `${REPO}@${digest("a")}`,
                repository: REPO,
                digest: digest("a"),
                buildNumber: "41",
                gitBranch: "main",
                gitSha: "abcdef0123456789abcdef0123456789abcdef01",
            });
        });

        it("reads the JSON text when the CLI sent no objectValue", () => {
            const u = update({ version: 3, pin: { digest: digest("b") } });
            delete (u.config["slipway:image"] as { objectValue?: unknown }).objectValue;
            const image = deployedImage(u);
            assert.equal(image.kind === "pinned" && image.digest, digest("b"));
        });

        it("names a built update's unique build tag, never its moving sha tag", () => {
            const image = deployedImage(
                update({ version: 9, stage: "dev", build: { gitSha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", buildNumber: "88" } }),
            );
            assert.deepEqual(image, {
                kind: "built",
                buildTag: "build-88",
                buildNumber: "88",
                gitSha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                gitBranch: "main",
            });
        });

        it("reports a malformed pin and a missing image config as unknown, with the reason", () => {
            const bad = update({ version: 4, pin: { digest: "sha256:short" } });
            const image = deployedImage(bad);
            assert.equal(image.kind, "unknown");
            assert.match(
                image.kind === "unknown" ? image.reason : "",
                /^update 4's slipway:image is not a valid pin \(image\.ref: expected an image pinned by digest/,
            );
            const none = update({ version: 5 });
            none.config = {};
            assert.deepEqual(deployedImage(none), { kind: "unknown", reason: "update 5 has no slipway:image config" });
        });
    });

    describe("requireLastDeploymentSucceeded", () => {
        it("passes when the newest update succeeded, ignoring refreshes after it", () => {
            const history = [
                update({ version: 12, kind: "refresh", result: "failed" }),
                update({ version: 11, pin: { digest: digest("a") } }),
            ];
            assert.equal(requireLastDeploymentSucceeded("qa", history).version, 11);
        });

        it("refuses a failed or still running last update and a stack never deployed", () => {
            refuses(
                () => requireLastDeploymentSucceeded("dev", [update({ version: 6, result: "failed" }), update({ version: 5 })]),
                /^stack dev's last update \(version 6\) failed: refusing to promote across it/,
            );
            refuses(
                () => requireLastDeploymentSucceeded("dev", [update({ version: 6, result: "in-progress" })]),
                /version 6\) is in-progress/,
            );
            refuses(() => requireLastDeploymentSucceeded("dev", []), /never been deployed/);
        });

        it("orders by version, not by the order the backend returned", () => {
            const history = [update({ version: 2 }), update({ version: 3, result: "failed" }), update({ version: 1 })];
            assert.equal(lastDeployment(history)?.version, 3);
        });
    });

    describe("pickRollbackTarget", () => {
        const prod = (): UpdateSummary[] => [
            update({ version: 10, pin: { digest: digest("c"), buildNumber: "43" } }),
            update({ version: 9, pin: { digest: digest("b"), buildNumber: "42" } }), // replicas change, same image as 8
            update({ version: 8, pin: { digest: digest("b"), buildNumber: "42" } }),
            update({ version: 7, result: "failed", pin: { digest: digest("e") } }),
            update({ version: 6, pin: { digest: digest("a"), buildNumber: "40" } }),
        ];
        const pick = (history: UpdateSummary[], to?: string, built: Record<string, string> = {}) =>
            pickRollbackTarget("prod", history, resolver(history, built), to);
        const digestOf = (t: { resolved: { digest: string } }) => t.resolved.digest;

        it("defaults to the newest earlier successful update that ran a different image", async () => {
            const target = await pick(prod());
            assert.equal(target.update.version, 9);
            assert.equal(target.current.version, 10);
            assert.equal(digestOf(target), digest("b"));
            assert.equal(await pick(prod(), "previous").then((t) => t.update.version), 9);
        });

        it("skips earlier updates that ran the image running now", async () => {
            // current = 9 (image b); 8 ran b too and 7 failed, so the rollback goes to 6.
            const target = await pick(prod().slice(1));
            assert.equal(target.current.version, 9);
            assert.equal(target.update.version, 6);
            assert.equal(digestOf(target), digest("a"));
        });

        it("goes back to the last successful update when the current one failed", async () => {
            const history = [update({ version: 11, result: "failed", pin: { digest: digest("d") } }), ...prod()];
            const target = await pick(history);
            assert.equal(target.update.version, 10);
            assert.equal(digestOf(target), digest("c"));
        });

        it("restores an explicit version and refuses failed, missing or imageless ones", async () => {
            const chosen = await pick(prod(), "6");
            assert.equal(chosen.update.version, 6);
            assert.equal(chosen.resolved.ref, `${REPO}@${digest("a")}`);
            await refusesAsync(pick(prod(), "7"), /update 7 failed: only a successful update can be restored/);
            await refusesAsync(pick(prod(), "99"), /no deployment with version 99 \(deployments: 10, 9, 8, 7, 6\)/);
            const bad = [update({ version: 2 }), update({ version: 1, pin: { digest: "sha256:nope" } })];
            await refusesAsync(pick(bad, "1"), /cannot restore update 1 of stack prod: update 1's slipway:image is not a valid pin/);
        });

        it("explains when there is nothing to roll back to", async () => {
            await refusesAsync(pick([]), /^stack prod has never been deployed: nothing to roll back to$/);
            await refusesAsync(
                pick([update({ version: 1, pin: { digest: digest("a") } })]),
                /^nothing to roll back to on stack prod: update 1 is its only successful update$/,
            );
            await refusesAsync(
                pick([update({ version: 2, result: "failed" }), update({ version: 1, result: "failed" })]),
                /no update of it ever succeeded/,
            );
            await refusesAsync(
                pick([update({ version: 2, pin: { digest: digest("a") } }), update({ version: 1, pin: { digest: digest("a") } })]),
                /every earlier successful update ran the image that runs now \(update 2\): it would only redeploy the image that runs now \(sha256:aaaaaaaaaaaa\)$/,
            );
        });

        describe("after a rollback (its message starts with 'slipway rollback:')", () => {
            const rolledBack = (version: number, d: string) =>
                update({ version, pin: { digest: d }, message: `${ROLLBACK_MESSAGE_PREFIX} prod to the image of update 2` });

            it("a second rollback goes one step further back: [rollback→A, B, A, Z] restores Z", async () => {
                const history = [
                    rolledBack(4, digest("a")),
                    update({ version: 3, pin: { digest: digest("b") } }),
                    update({ version: 2, pin: { digest: digest("a") } }),
                    update({ version: 1, pin: { digest: digest("f") } }),
                ];
                const target = await pick(history);
                assert.equal(target.update.version, 1);
                assert.equal(digestOf(target), digest("f"));
            });

            it("compares a pinned rollback with the built updates by digest, so the bad build is not redeployed", async () => {
                // dev built Z (1), A (2), B (3); a rollback pinned A's digest (4). A pin used to never equal a build.
                const build = (version: number, n: string) =>
                    update({ version, stage: "dev", build: { gitSha: n.repeat(40), buildNumber: `9${n}` } });
                const dev = [rolledBack(4, digest("a")), build(3, "3"), build(2, "2"), build(1, "1")];
                const built = { [startedAt(3)]: digest("b"), [startedAt(2)]: digest("a"), [startedAt(1)]: digest("f") };
                const target = await pick(dev, undefined, built);
                assert.equal(target.update.version, 1);
                assert.equal(digestOf(target), digest("f"));
                await refusesAsync(
                    pick(dev.slice(0, 3), undefined, built),
                    /^nothing to roll back to on stack prod: update 4 rolled back to the image of update 2, and no successful update before that one ran another image: rolling back again would only redeploy the image that runs now \(sha256:aaaaaaaaaaaa\)$/,
                );
            });

            it("without the prefix, an update is an ordinary deployment: its predecessor is the previous image", async () => {
                const history = [
                    update({ version: 4, pin: { digest: digest("a") }, message: "rollback prod to the image of update 2" }),
                    update({ version: 3, pin: { digest: digest("b") } }),
                    update({ version: 2, pin: { digest: digest("a") } }),
                ];
                assert.equal((await pick(history)).update.version, 3);
                assert.equal(isRollback(history[0]), false);
                assert.equal(isRollback(update({ version: 5, message: `${ROLLBACK_MESSAGE_PREFIX} prod` })), true);
            });
        });

        describe("on a DIY backend: every update is version 0, newest first", () => {
            it("defaults to the newest earlier successful update that ran a different image", async () => {
                for (const times of ["iso", "epoch"] as const) {
                    const target = await pick(diy(prod(), times));
                    assert.equal(target.naming.describe(target.update), `update ${startedAt(9)}`, times);
                    assert.equal(target.naming.describe(target.current), `update ${startedAt(10)}`);
                    assert.equal(digestOf(target), digest("b"));
                }
            });

            it("skips the current image and failed updates, by time order", async () => {
                const target = await pick(diy(prod().slice(1)));
                assert.equal(target.naming.address(target.update), startedAt(6));
                assert.equal(digestOf(target), digest("a"));
            });

            it("restores the update named by its start time, and refuses a version with what to pass instead", async () => {
                const chosen = await pick(diy(prod()), startedAt(6));
                assert.equal(digestOf(chosen), digest("a"));
                await refusesAsync(pick(diy(prod()), startedAt(7)), new RegExp(`update ${startedAt(7)} failed`));
                await refusesAsync(pick(diy(prod()), "6"), /does not number its updates .* e\.g\. --to 2026-11-01T19:00:00Z/);
            });

            it("says there is nothing to roll back to, naming the update by time", async () => {
                await refusesAsync(
                    pick(diy([update({ version: 1, pin: { digest: digest("a") } })])),
                    new RegExp(`^nothing to roll back to on stack prod: update ${startedAt(1)} is its only successful update$`),
                );
            });
        });

        describe("a building stage's updates", () => {
            const sha = (c: string) => c.repeat(40);
            const dev = (dirty: { buildNumber?: string }) => [
                update({ version: 32, stage: "dev", build: { gitSha: sha("3"), buildNumber: "91" } }),
                update({ version: 31, stage: "dev", build: { gitSha: sha("2"), dirty: true, ...dirty } }),
                update({ version: 30, stage: "dev", build: { gitSha: sha("1"), buildNumber: "89" } }),
            ];

            it("a build from uncommitted changes is restored by the digest its state recorded: a clean tree is no precondition", async () => {
                const target = await pick(dev({}), undefined, { [startedAt(32)]: digest("3"), [startedAt(31)]: digest("2") });
                assert.equal(target.update.version, 31);
                assert.deepEqual(target.resolved, { ref: `${REPO}@${digest("2")}`, digest: digest("2"), via: "its recorded state" });
            });

            it("without recorded state, is skipped unless its CI build number is its own; never found by its sha tag", async () => {
                const target = await pick(dev({}));
                assert.equal(target.update.version, 30);
                assert.deepEqual(target.resolved, { ref: `${REPO}@${digest("9")}`, digest: digest("9"), via: "tag build-89" });
                assert.equal((await pick(dev({ buildNumber: "90" }))).update.version, 31);
            });

            it("is skipped when its CI build number is shared (a re-run), with the reason when nothing else is left", async () => {
                const history = [
                    update({ version: 32, stage: "dev", build: { gitSha: sha("3"), buildNumber: "90" } }),
                    update({ version: 31, stage: "dev", build: { gitSha: sha("2"), buildNumber: "90", dirty: true } }),
                ];
                await refusesAsync(
                    pick(history),
                    /^nothing to roll back to on stack prod: no earlier successful update recorded a usable image; skipped update 31 built its image and the backend keeps no record of its state, and its CI build number 90 is shared with another update$/,
                );
            });

            it("--to build:<n> and sha:<hex> pick the newest successful deployment of that build or commit", async () => {
                const history = [
                    update({ version: 33, stage: "dev", result: "failed", build: { gitSha: sha("1"), buildNumber: "92" } }),
                    ...dev({}),
                ];
                assert.equal((await pick(history, "build:89")).update.version, 30);
                assert.equal((await pick(history, "sha:1111111")).update.version, 30, "33 built the same commit but failed");
                assert.equal((await pick(history, "sha:" + sha("1"))).update.version, 30);
                await refusesAsync(pick(history, "build:92"), /no deployment of CI build 92 on stack prod succeeded \(update 33 failed\)/);
                await refusesAsync(pick(history, "sha:abcdef0"), /^stack prod has no deployment of commit abcdef0$/);
                assert.equal((await pick(prod(), "build:40")).update.version, 6, "a pin's recorded build number");
            });
        });
    });

    describe("redeployReason: what was deployed decides, not the checkout", () => {
        const w = digest("a");
        it("skips only when the newest deployment succeeded with exactly the target digest", () => {
            const history = [update({ version: 5, pin: { digest: w } })];
            assert.equal(redeployReason("prod", history, w, w), undefined);
            assert.equal(redeployReason("prod", history, w, digest("b")), "the last update (5) deployed sha256:bbbbbbbbbbbb");
            assert.equal(
                redeployReason("prod", history, w, undefined),
                "the last update (5) recorded no digest, so what runs is not known",
            );
        });

        it("re-deploys after a failed or unfinished update, and on a stack never deployed", () => {
            const failed = [
                update({ version: 6, result: "failed", pin: { digest: digest("d") } }),
                update({ version: 5, pin: { digest: w } }),
            ];
            assert.equal(redeployReason("prod", failed, w, undefined), "the last update (6) failed");
            assert.equal(redeployReason("prod", diy(failed), w, undefined), `the last update (${startedAt(6)}) failed`);
            assert.equal(
                redeployReason("prod", [update({ version: 7, result: "in-progress" })], w, undefined),
                "the last update (7) is in-progress",
            );
            assert.equal(redeployReason("prod", [], w, undefined), "stack prod has never been deployed");
        });
    });
});

/** A resolver over plain data: a pin's digest from its config, a built image's from `built` (by start time). */
function resolver(history: UpdateSummary[], built: Record<string, string>): ImageResolver {
    return async (u) => {
        const image = deployedImage(u, history);
        if (image.kind === "unknown") {
            return { reason: image.reason };
        }
        if (image.kind === "pinned") {
            return { ref: image.ref, digest: image.digest, via: "its pin" };
        }
        const recorded = built[formatTime(updateTime(u.startTime) ?? 0)];
        if (recorded) {
            return { ref: `${REPO}@${recorded}`, digest: recorded, via: "its recorded state" };
        }
        const name = updateNaming(history).describe(u);
        if (!image.buildTag) {
            const why = image.buildNumber
                ? `its CI build number ${image.buildNumber} is shared with another update`
                : "it has no CI build number to find it by";
            return { reason: `${name} built its image and the backend keeps no record of its state, and ${why}` };
        }
        // The registry of these tests: build-<n> names digest <last digit of n>.
        return {
            ref: `${REPO}@${digest(image.buildTag.slice(-1))}`,
            digest: digest(image.buildTag.slice(-1)),
            via: `tag ${image.buildTag}`,
        };
    };
}

/** Asserts that `p` rejects with a refusal (exit code 2) whose message matches. */
async function refusesAsync(p: Promise<unknown>, message: RegExp): Promise<void> {
    await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof ToolError, String(err));
        assert.equal(err.exitCode, ExitCode.Refused);
        assert.match(err.message, message);
        return true;
    });
}
