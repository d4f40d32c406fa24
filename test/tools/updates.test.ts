import * as assert from "node:assert/strict";
import {
    deployments,
    findDeployment,
    formatTime,
    lastDeployment,
    numbersUpdates,
    parseUpdateAddress,
    summaryAddress,
    updateNaming,
    updateTime,
} from "../../tools/updates";
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

    it("matches a start time given with milliseconds exactly, or refuses it: never drops them", async () => {
        const history = diy(cloud());
        assert.equal(findDeployment("prod", history, startedAt(9).replace("Z", ".000Z")), history[3]);
        await refusal(
            Promise.resolve().then(() => findDeployment("prod", history, startedAt(9).replace("Z", ".500Z"))),
            new RegExp(
                `^stack prod has no deployment that started at ${startedAt(9).replace("Z", ".500Z")} to the millisecond; ` +
                    `pass the time to the second as --list prints it, e\\.g\\. ${startedAt(9)} \\(deployments: `,
            ),
        );
    });

    it("parses every form of address --to takes, and nothing else", () => {
        assert.deepEqual(parseUpdateAddress("previous"), { kind: "previous" });
        assert.deepEqual(parseUpdateAddress("build:1042"), { kind: "build", buildNumber: "1042" });
        assert.deepEqual(parseUpdateAddress("sha:0a1b2c3"), { kind: "sha", prefix: "0a1b2c3" });
        assert.deepEqual(parseUpdateAddress("41"), { kind: "version", version: 41 });
        assert.deepEqual(parseUpdateAddress("2026-11-29T22:50:01.250Z"), {
            kind: "time",
            ms: Date.UTC(2026, 10, 29, 22, 50, 1, 250),
            withMillis: true,
        });
        for (const bad of ["0", "build:local", "sha:0a1b2c", "sha:0A1B2C3", "2026-11-29 22:50:01", "2026-11-29T22:50:01+01:00", "latest"]) {
            assert.equal(parseUpdateAddress(bad), undefined, bad);
        }
    });

    it("names the update up returned: its version, or its start time where the backend reports version 0", () => {
        assert.equal(summaryAddress({ version: 13, startTime: new Date(0) }), "13");
        assert.equal(summaryAddress({ version: 0, startTime: new Date(Date.UTC(2026, 10, 29, 22, 50, 1, 400)) }), "2026-11-29T22:50:01Z");
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
        await refuse(
            cloud(),
            "yesterday",
            /names no single update by version or time: pass previous, build:<n>, sha:<7\.\.40 hex>, a version \(41\) or a start time in UTC/,
        );
    });
});
