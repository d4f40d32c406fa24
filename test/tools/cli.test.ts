import * as assert from "node:assert/strict";
import { run } from "../../tools/cli";
import { ExitCode } from "../../tools/errors";
import { digest, fakeContext, FakeRegistry, FakeStageStack, outputsFor, REPO, SECRET, startedAt, update } from "./fake-stage-stack";

const pinned = (d: string) => ({ source: "pinned", ref: `${REPO}@${d}`, buildNumber: "40", gitBranch: "main", gitSha: "1".repeat(40) });

/** dev built digest a (update 21 ok); qa runs 9; prod: 12 runs c, 10 ran b. Secrets everywhere they can be. */
function world(opts: { devResult?: "succeeded" | "failed"; upError?: Error } = {}) {
    const secretOutput = { value: SECRET, secret: true };
    const dev = new FakeStageStack("dev", {
        outputs: { ...outputsFor(digest("a")), dbPassword: secretOutput },
        config: { "slipway:image": { source: "build", context: "app" }, "slipway:secretEnv": SECRET },
        history: [
            update({
                version: 21,
                stage: "dev",
                result: opts.devResult,
                build: { gitSha: "0123456789abcdef0123456789abcdef01234567", buildNumber: "41" },
            }),
        ],
    });
    const qa = new FakeStageStack("qa", {
        outputs: { ...outputsFor(digest("9")), dbPassword: secretOutput },
        config: { "slipway:image": pinned(digest("9")) },
        history: [update({ version: 5, stage: "qa", pin: { digest: digest("9") } })],
        upError: opts.upError,
    });
    const prod = new FakeStageStack("prod", {
        outputs: { ...outputsFor(digest("c")), dbPassword: secretOutput },
        config: { "slipway:image": pinned(digest("c")) },
        history: [
            update({ version: 12, pin: { digest: digest("c") } }),
            update({ version: 11, result: "failed", pin: { digest: digest("d") } }),
            update({ version: 10, pin: { digest: digest("b") } }),
        ],
    });
    return { dev, qa, prod, ...fakeContext([dev, qa, prod], new FakeRegistry({ [`${REPO}:${digest("b")}`]: digest("b") })) };
}

describe("tools/cli", () => {
    it("--help lists the commands and the exit codes, on stdout, exit 0", async () => {
        const { ctx, io } = world();
        assert.equal(await run(["--help"], ctx), ExitCode.Ok);
        for (const text of ["promote", "rollback", "status", "preview", "Exit codes:", "2  usage error or refused"]) {
            assert.ok(io.out.includes(text), `help shows ${text}`);
        }
        assert.equal(io.err, "");
    });

    it("preview --stack runs a preview of that stack only, writes nothing, and prints the change summary", async () => {
        const { ctx, io, qa, prod } = world();
        assert.equal(await run(["preview", "--stack", "qa"], ctx), ExitCode.Ok);
        assert.deepEqual(
            qa.calls.map((c) => c.method),
            ["preview"],
        );
        assert.deepEqual(prod.calls, []);
        assert.equal(io.out, "preview of qa: +0 ~2 -0 ±0 =14\n");
        assert.equal(await run(["preview"], ctx), ExitCode.Refused, "--stack is required");
    });

    it("rollback --help documents its options", async () => {
        const { ctx, io } = world();
        assert.equal(await run(["rollback", "--help"], ctx), ExitCode.Ok);
        for (const flag of [
            "--stack <stack>",
            "--to <update>",
            "--to-version <n>",
            "--digest <sha256:…>",
            "--dry-run",
            "--no-registry-check",
        ]) {
            assert.ok(io.out.includes(flag), flag);
        }
    });

    it("usage errors go to stderr with exit 2", async () => {
        const cases: Array<[string[], RegExp]> = [
            [["deploy"], /error: unknown command 'deploy'/],
            [["promote", "--from", "dev"], /error: required option '--to <stack>' not specified/],
            [["rollback", "--stack", "prod", "--to-version", "0"], /argument '0' is invalid\. expected an update version/],
            [
                ["rollback", "--stack", "prod", "--to", "yesterday"],
                /argument 'yesterday' is invalid\. expected previous, build:<n>, sha:<7\.\.40 hex>, an update version \(41\) or its start time in UTC \(2026-11-29T22:50:01Z\)/,
            ],
            [
                ["rollback", "--stack", "prod", "--to-version", "9", "--digest", digest("b")],
                /error: --to-version and --digest exclude each other/,
            ],
            [["rollback", "--stack", "prod", "--digest", "latest"], /error: --digest is malformed/],
        ];
        for (const [argv, message] of cases) {
            const { ctx, io, prod } = world();
            assert.equal(await run(argv, ctx), ExitCode.Refused, argv.join(" "));
            assert.match(io.err, message);
            assert.equal(io.out.includes("error"), false);
            assert.deepEqual(prod.mutations(), []);
        }
    });

    it("a refusal prints one error line on stderr, nothing on stdout, exit 2", async () => {
        const { ctx, io, qa } = world({ devResult: "failed" });
        assert.equal(await run(["promote", "--from", "dev", "--to", "qa", "--yes"], ctx), ExitCode.Refused);
        assert.equal(io.out, "");
        assert.equal(
            io.err,
            "error: stack dev's last update (version 21) failed: refusing to promote across it; fix or roll back dev first\n",
        );
        assert.deepEqual(qa.mutations(), []);
    });

    it("a failed Pulumi operation exits 1 with the CLI's stderr", async () => {
        const upError = new Error(
            "code: 255\n stdout: Updating (qa)\n stderr: error: update failed: kubernetes:apps/v1:Deployment app: timed out\n err?: Error: exit 255\n",
        );
        const { ctx, io } = world({ upError });
        assert.equal(await run(["promote", "--from", "dev", "--to", "qa", "--yes"], ctx), ExitCode.Failed);
        assert.match(io.err, /error: error: update failed: kubernetes:apps\/v1:Deployment app: timed out\n$/);
    });

    it("rollback --to takes a start time in UTC, as status prints it", async () => {
        const { ctx, io, prod } = world();
        assert.equal(await run(["rollback", "--stack", "prod", "--to", startedAt(10), "--dry-run"], ctx), ExitCode.Ok);
        assert.match(io.out, /rollback prod to the image of update 10 /);
        assert.deepEqual(prod.mutations(), []);
    });

    it("rollback --dry-run exits 0 and changes nothing", async () => {
        const { ctx, io, prod } = world();
        assert.equal(await run(["rollback", "--stack", "prod", "--dry-run"], ctx), ExitCode.Ok);
        assert.deepEqual(prod.mutations(), []);
        assert.match(io.out, /rollback prod to the image of update 10/);
    });

    it("never prints a secret, even where the backend returned one in history or outputs", async () => {
        const { ctx, io } = world();
        const runs: string[][] = [
            ["status"],
            ["status", "--json"],
            ["promote", "--from", "dev", "--to", "qa"],
            ["promote", "--from", "dev", "--to", "qa", "--yes"],
            ["rollback", "--stack", "prod", "--dry-run"],
            ["rollback", "--stack", "prod", "--to-version", "11"],
            ["rollback", "--stack", "prod", "--digest", digest("b")],
            ["rollback", "--stack", "prod"],
        ];
        const codes = [];
        for (const argv of runs) {
            codes.push(await run(argv, ctx));
        }
        assert.deepEqual(codes, [0, 0, 0, 0, 0, 2, 0, 0]);
        assert.ok(io.out.length > 500 && io.err.length > 0, "the runs printed plenty");
        assert.equal(io.out.includes(SECRET), false, "stdout has no secret");
        assert.equal(io.err.includes(SECRET), false, "stderr has no secret");
        // That no command asks the backend for secrets is tested through the real Automation API, on the command
        // lines the CLI receives: test/tools/stage-stack.integration.test.ts.
    });
});
