import * as assert from "node:assert/strict";
import { deployments, findDeployment, formatTime, lastDeployment, numbersUpdates, updateNaming, updateTime } from "../../tools/updates";
import { refusal } from "./fake-stage-stack";
import { diy, digest, startedAt, update } from "./fake-stage-stack";

/** Pulumi Cloud numbers updates; the same history from a DIY backend has version 0 everywhere, newest first. */
const cloud = () => [
    update({ version: 12, pin: { digest: digest("c") } }),
    update({ version: 11, kind: "refresh" }),
    update({ version: 10, result: "failed", pin: { digest: digest("b") } }),
    update({ version: 9, pin: { digest: digest("a") } }),
];

describe("tools/updates: ordering and naming updates on every backend", () => {
    it("reads update times given as Date, ISO text, epoch seconds or epoch milliseconds", () => {
        const ms = Date.UTC(2026, 10, 29, 22, 50, 1);
        for (const value of [new Date(ms), "2026-11-29T22:50:01.000Z", "2026-11-29T22:50:01Z", ms / 1000, ms, String(ms / 1000)]) {
            assert.equal(updateTime(value), ms, String(value));
        }
        for (const value of [undefined, null, "", "yesterday", new Date(Number.NaN), 0]) {
            assert.equal(updateTime(value), undefined, String(value));
        }
        assert.equal(formatTime(ms + 999), "2026-11-29T22:50:01Z");
    });

    it("tells a backend that numbers updates from one that does not (all 0, or versions repeated)", () => {
        assert.equal(numbersUpdates(cloud()), true);
        assert.equal(numbersUpdates(diy(cloud())), false);
        assert.equal(numbersUpdates([update({ version: 3 }), update({ version: 3 })]), false);
    });

    it("orders deployments by version where updates are numbered, by start time where they are not", () => {
        assert.deepEqual(
            deployments([cloud()[3], cloud()[0], cloud()[2]]).map((u) => u.version),
            [12, 10, 9],
        );
        for (const times of ["iso", "epoch"] as const) {
            const history = diy(cloud(), times);
            // Whatever order the backend used, the newest start time comes first.
            const shuffled = [history[3], history[0], history[2], history[1]];
            assert.deepEqual(
                deployments(shuffled).map((u) => updateNaming(shuffled).address(u)),
                [startedAt(12), startedAt(10), startedAt(9)],
                times,
            );
            assert.equal(updateNaming(history).address(lastDeployment(history)!), startedAt(12));
        }
    });

    it("addresses updates by version where numbered, by start time (UTC, to the second) otherwise", () => {
        const numbered = updateNaming(cloud());
        assert.deepEqual([numbered.address(cloud()[0]), numbered.describe(cloud()[0])], ["12", "update 12"]);
        const history = diy(cloud());
        const naming = updateNaming(history);
        assert.deepEqual([naming.address(history[0]), naming.describe(history[0])], [startedAt(12), `update ${startedAt(12)}`]);
    });

    it("finds a deployment by version (numbered backends) or by start time (every backend)", () => {
        assert.equal(findDeployment("prod", cloud(), "9").version, 9);
        assert.equal(findDeployment("prod", cloud(), startedAt(9)).version, 9);
        const history = diy(cloud());
        assert.equal(findDeployment("prod", history, startedAt(9)), history[3]);
        assert.equal(findDeployment("prod", history, startedAt(9).replace("Z", ".000Z")), history[3]);
    });

    it("refuses a version on a DIY backend, saying what to pass instead", async () => {
        await refusal(
            Promise.resolve().then(() => findDeployment("prod", diy(cloud()), "9")),
            new RegExp(
                `^stack prod's backend does not number its updates \\(a DIY backend records every update as version 0\\), ` +
                    `so update 9 cannot be found: name the update by its start time as status prints it, e\\.g\\. --to ${startedAt(12)} ` +
                    `\\(deployments: ${startedAt(12)}, ${startedAt(10)}, ${startedAt(9)}\\)$`,
            ),
        );
    });

    it("refuses unknown, ambiguous and malformed addresses", async () => {
        const refuse = (history: ReturnType<typeof cloud>, address: string, message: RegExp) =>
            refusal(
                Promise.resolve().then(() => findDeployment("prod", history, address)),
                message,
            );
        await refuse(cloud(), "99", /has no deployment with version 99 \(deployments: 12, 10, 9\)/);
        await refuse(diy(cloud()), "2026-01-01T00:00:00Z", /has no deployment that started at 2026-01-01T00:00:00Z/);
        const twins = diy([update({ version: 3 }), update({ version: 3 })]);
        await refuse(twins, startedAt(3), /has 2 deployments that started at .*: roll back with --digest instead/);
        await refuse(cloud(), "yesterday", /names no update: pass a version \(41\) or a start time in UTC/);
    });
});
