import * as assert from "node:assert/strict";
import { formatStatusTable, stageStatus, status } from "../../tools/status";
import { ExitCode } from "../../tools/errors";
import { UPDATE_ADDRESS } from "../../tools/updates";
import { diy, digest, fakeContext, FakeStageStack, outputsFor, startedAt, update } from "./fake-stage-stack";

describe("tools/status", () => {
    it("builds a row from outputs and the newest deployment, hiding secret outputs", () => {
        const outputs = outputsFor(digest("a"), { buildNumber: "41" });
        outputs.gitBranch = { value: "feature/secret-branch", secret: true };
        const [row, ...more] = stageStatus("qa", outputs, [
            update({ version: 8, kind: "refresh" }),
            update({ version: 7, result: "failed", pin: { digest: digest("b") } }),
            update({ version: 6, pin: { digest: digest("a") } }),
        ]);
        assert.deepEqual(more, []);
        assert.deepEqual(row, {
            stack: "qa",
            digest: digest("a"),
            imageRef: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-app@${digest("a")}`,
            buildNumber: "41",
            gitBranch: "[secret]",
            gitSha: "0123456789abcdef0123456789abcdef01234567",
            lastUpdate: "7",
            lastVersion: 7,
            lastResult: "failed",
            lastEnd: "2026-11-01T16:01:35Z",
        });
    });

    it("on a DIY backend (every update version 0), names the last update by its start time, never #0", () => {
        for (const times of ["iso", "epoch"] as const) {
            const history = diy(
                [
                    update({ version: 8, kind: "refresh" }),
                    update({ version: 7, result: "failed", pin: { digest: digest("b") } }),
                    update({ version: 6 }),
                ],
                times,
            );
            const [row] = stageStatus("qa", outputsFor(digest("a")), history);
            assert.equal(row.lastUpdate, startedAt(7), times);
            assert.equal(row.lastVersion, undefined);
            assert.equal(row.lastResult, "failed");
            assert.equal(row.lastEnd, "2026-11-01T16:01:35Z");
            const table = formatStatusTable([row]);
            assert.match(table, new RegExp(`^qa .* ${startedAt(7)} failed$`, "m"));
            assert.doesNotMatch(table, /#0/);
        }
    });

    it("prints each stage's last update as the id rollback --to takes", async () => {
        const numbered = [update({ version: 7, result: "failed", pin: { digest: digest("b") } }), update({ version: 6 })];
        for (const [history, id] of [
            [numbered, "7"],
            [diy(numbered), startedAt(7)],
        ] as const) {
            const table = formatStatusTable(stageStatus("qa", outputsFor(digest("a")), [...history]));
            const cell =
                table
                    .split("\n")[1]
                    .split(/\s{2,}/)
                    .pop() ?? "";
            assert.equal(cell.split(" ")[0], id);
            assert.equal(UPDATE_ADDRESS.test(cell.split(" ")[0]), true);
        }
    });

    it("shows a row per app where the apps output holds several, with an APP column; one-app stages keep their one row", () => {
        const go = "127.0.0.1:5001/hello-go";
        const outputs = outputsFor(digest("a"), { buildNumber: "41" });
        outputs.apps = {
            value: {
                hello: {
                    imageRef: `127.0.0.1:5001/hello@${digest("a")}`,
                    imageDigest: digest("a"),
                    buildNumber: "41",
                    gitBranch: "main",
                    gitSha: "0123456789",
                },
                "hello-go": {
                    imageRef: `${go}@${digest("c")}`,
                    imageDigest: digest("c"),
                    buildNumber: "40",
                    gitBranch: "main",
                    gitSha: "abcdef0123",
                },
            },
            secret: false,
        };
        const rows = stageStatus("local", outputs, [update({ version: 3 })]);
        assert.deepEqual(
            rows.map((r) => [r.stack, r.app, r.digest, r.imageRef, r.buildNumber, r.gitSha, r.lastUpdate]),
            [
                ["local", "hello", digest("a"), `127.0.0.1:5001/hello@${digest("a")}`, "41", "0123456789", "3"],
                ["local", "hello-go", digest("c"), `${go}@${digest("c")}`, "40", "abcdef0123", "3"],
            ],
        );
        const one = stageStatus("qa", outputsFor(digest("b")), [update({ version: 6 })]);
        const table = formatStatusTable([...rows, ...one]).split("\n");
        assert.match(table[0], /^STAGE +APP +DIGEST +BUILD/);
        assert.match(table[2], /^local +hello-go +sha256:cccccccccccc +40 /);
        assert.match(table[3], /^qa +- +sha256:bbbbbbbbbbbb /);
        assert.doesNotMatch(formatStatusTable(one), /APP/);
    });

    it("formats an aligned table with a row per stage", () => {
        const table = formatStatusTable([
            {
                stack: "dev",
                digest: digest("a"),
                buildNumber: "41",
                gitBranch: "main",
                gitSha: "0123456789",
                lastUpdate: "31",
                lastVersion: 31,
                lastResult: "succeeded",
                lastEnd: "2026-11-02T10:00:00Z",
            },
            { stack: "prod" },
            { stack: "qa", error: "unreadable (see stderr)" },
        ]);
        assert.equal(
            table,
            [
                "STAGE  DIGEST               BUILD  BRANCH  SHA      LAST UPDATE",
                "dev    sha256:aaaaaaaaaaaa  41     main    0123456  31 succeeded 2026-11-02T10:00:00Z",
                "prod   -                    -      -       -        never deployed",
                "qa     error: unreadable (see stderr)",
                "",
            ].join("\n"),
        );
    });

    it("shows every default stage and exits 1 when one cannot be read", async () => {
        const dev = new FakeStageStack("dev", { outputs: outputsFor(digest("a")), history: [update({ version: 3 })] });
        const qa = new FakeStageStack("qa", { outputs: outputsFor(digest("a")), history: [update({ version: 2 })] });
        const { ctx, io } = fakeContext([dev, qa]);
        const code = await status(ctx, { stacks: ["dev", "qa", "prod"], json: false });
        assert.equal(code, ExitCode.Failed);
        assert.deepEqual(
            io.out.split("\n").map((l) => l.split(/\s+/)[0]),
            ["STAGE", "dev", "qa", "prod", ""],
        );
        assert.equal(io.err, "error: cannot read stack prod: error: no stack named 'prod' found\n");
        assert.deepEqual(
            dev.callsOf("history").map((c) => c.args[0]),
            [undefined],
            "secrets hidden by the default",
        );
    });

    it("prints JSON with --json", async () => {
        const dev = new FakeStageStack("dev", { outputs: outputsFor(digest("a")), history: [update({ version: 3 })] });
        const { ctx, io } = fakeContext([dev]);
        assert.equal(await status(ctx, { stacks: ["dev"], json: true }), ExitCode.Ok);
        const rows = JSON.parse(io.out) as Array<{ stack: string; digest: string; lastVersion: number }>;
        assert.deepEqual(
            rows.map((r) => [r.stack, r.digest, r.lastVersion]),
            [["dev", digest("a"), 3]],
        );
    });
});
