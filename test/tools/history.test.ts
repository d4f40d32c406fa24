import * as assert from "node:assert/strict";
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { deployedImage, pickRollbackTarget, requireLastDeploymentSucceeded } from "../../tools/history";
import { lastDeployment } from "../../tools/updates";
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

        it("finds a built update's image through the git sha and build number tags", () => {
            const image = deployedImage(
                update({ version: 9, stage: "dev", build: { gitSha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", buildNumber: "88" } }),
            );
            assert.deepEqual(image, {
                kind: "built",
                tags: ["sha-0a1b2c3", "build-88"],
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

        it("defaults to the newest earlier successful update that ran a different image", () => {
            const target = pickRollbackTarget("prod", prod());
            assert.equal(target.update.version, 9);
            assert.equal(target.current.version, 10);
            assert.equal(target.image.kind === "pinned" && target.image.digest, digest("b"));
        });

        it("skips earlier updates that ran the image running now", () => {
            // current = 9 (image b); 8 ran b too and 7 failed, so the rollback goes to 6.
            const target = pickRollbackTarget("prod", prod().slice(1));
            assert.equal(target.current.version, 9);
            assert.equal(target.update.version, 6);
            assert.equal(target.image.kind === "pinned" && target.image.digest, digest("a"));
        });

        it("goes back to the last successful update when the current one failed", () => {
            const history = [update({ version: 11, result: "failed", pin: { digest: digest("d") } }), ...prod()];
            const target = pickRollbackTarget("prod", history);
            assert.equal(target.update.version, 10);
            assert.equal(target.image.kind === "pinned" && target.image.digest, digest("c"));
        });

        it("restores an explicit version and refuses failed, missing or imageless ones", () => {
            const chosen = pickRollbackTarget("prod", prod(), "6");
            assert.equal(chosen.update.version, 6);
            assert.equal(chosen.image.kind === "pinned" && chosen.image.ref, `${REPO}@${digest("a")}`);
            refuses(() => pickRollbackTarget("prod", prod(), "7"), /update 7 failed: only a successful update can be restored/);
            refuses(() => pickRollbackTarget("prod", prod(), "99"), /no deployment with version 99 \(deployments: 10, 9, 8, 7, 6\)/);
            const bad = [update({ version: 2 }), update({ version: 1, pin: { digest: "sha256:nope" } })];
            refuses(
                () => pickRollbackTarget("prod", bad, "1"),
                /cannot restore update 1 of stack prod: update 1's slipway:image is not a valid pin/,
            );
        });

        it("explains when there is nothing to roll back to", () => {
            refuses(() => pickRollbackTarget("prod", []), /^stack prod has never been deployed: nothing to roll back to$/);
            refuses(
                () => pickRollbackTarget("prod", [update({ version: 1, pin: { digest: digest("a") } })]),
                /^nothing to roll back to on stack prod: update 1 is its only successful update$/,
            );
            refuses(
                () => pickRollbackTarget("prod", [update({ version: 2, result: "failed" }), update({ version: 1, result: "failed" })]),
                /no update of it ever succeeded/,
            );
            refuses(
                () =>
                    pickRollbackTarget("prod", [
                        update({ version: 2, pin: { digest: digest("a") } }),
                        update({ version: 1, pin: { digest: digest("a") } }),
                    ]),
                /every earlier successful update ran the image that runs now \(update 2\)/,
            );
        });

        describe("on a DIY backend: every update is version 0, newest first", () => {
            it("defaults to the newest earlier successful update that ran a different image", () => {
                for (const times of ["iso", "epoch"] as const) {
                    const target = pickRollbackTarget("prod", diy(prod(), times));
                    assert.equal(target.naming.describe(target.update), `update ${startedAt(9)}`, times);
                    assert.equal(target.naming.describe(target.current), `update ${startedAt(10)}`);
                    assert.equal(target.image.kind === "pinned" && target.image.digest, digest("b"));
                }
            });

            it("skips the current image and failed updates, by time order", () => {
                const target = pickRollbackTarget("prod", diy(prod().slice(1)));
                assert.equal(target.naming.address(target.update), startedAt(6));
                assert.equal(target.image.kind === "pinned" && target.image.digest, digest("a"));
            });

            it("restores the update named by its start time, and refuses a version with what to pass instead", () => {
                const chosen = pickRollbackTarget("prod", diy(prod()), startedAt(6));
                assert.equal(chosen.image.kind === "pinned" && chosen.image.digest, digest("a"));
                refuses(() => pickRollbackTarget("prod", diy(prod()), startedAt(7)), new RegExp(`update ${startedAt(7)} failed`));
                refuses(
                    () => pickRollbackTarget("prod", diy(prod()), "6"),
                    /does not number its updates .* e\.g\. --to 2026-11-01T19:00:00Z/,
                );
            });

            it("says there is nothing to roll back to, naming the update by time", () => {
                refuses(
                    () => pickRollbackTarget("prod", diy([update({ version: 1, pin: { digest: digest("a") } })])),
                    new RegExp(`^nothing to roll back to on stack prod: update ${startedAt(1)} is its only successful update$`),
                );
            });
        });

        describe("a building stage's update built from uncommitted changes (git.dirty)", () => {
            const sha = (c: string) => c.repeat(40);
            const dev = (dirty: { buildNumber?: string }) => [
                update({ version: 32, stage: "dev", build: { gitSha: sha("3"), buildNumber: "91" } }),
                update({ version: 31, stage: "dev", build: { gitSha: sha("2"), dirty: true, ...dirty } }),
                update({ version: 30, stage: "dev", build: { gitSha: sha("1"), buildNumber: "89" } }),
            ];

            it("is skipped: its sha tag may name a later image", () => {
                const target = pickRollbackTarget("dev", dev({}));
                assert.equal(target.update.version, 30);
                assert.deepEqual(target.image.kind === "built" && target.image.tags, ["sha-1111111", "build-89"]);
            });

            it("is found by its CI build number alone when that number is unique", () => {
                const target = pickRollbackTarget("dev", dev({ buildNumber: "90" }));
                assert.equal(target.update.version, 31);
                assert.deepEqual(target.image.kind === "built" && target.image.tags, ["build-90"]);
            });

            it("is skipped when its CI build number is shared (a re-run), with the reason when nothing else is left", () => {
                const history = [
                    update({ version: 32, stage: "dev", build: { gitSha: sha("3"), buildNumber: "90" } }),
                    update({ version: 31, stage: "dev", build: { gitSha: sha("2"), buildNumber: "90", dirty: true } }),
                ];
                refuses(
                    () => pickRollbackTarget("dev", history),
                    /^nothing to roll back to on stack dev: no earlier successful update recorded a usable image; skipped update 31 was built from uncommitted changes \(git\.dirty\), so its sha tag may name a later image, and it has no unique ci\.build\.number$/,
                );
                refuses(
                    () => pickRollbackTarget("dev", history, "31"),
                    /cannot restore update 31 of stack dev: update 31 was built from uncommitted changes/,
                );
            });
        });

        it("picks a building stage's earlier commit", () => {
            const dev = [
                update({ version: 31, stage: "dev", build: { gitSha: "3333333333333333333333333333333333333333", buildNumber: "90" } }),
                update({ version: 30, stage: "dev", build: { gitSha: "2222222222222222222222222222222222222222", buildNumber: "89" } }),
            ];
            const target = pickRollbackTarget("dev", dev);
            assert.equal(target.update.version, 30);
            assert.deepEqual(target.image.kind === "built" && target.image.tags, ["sha-2222222", "build-89"]);
        });
    });
});
