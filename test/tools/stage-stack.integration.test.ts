/**
 * The adapter over the Automation API, tested against the real SDK driving a fake `pulumi` executable: what matters is
 * the command line the CLI would receive (no `--show-secrets`, ever) and that the CLI's own JSON comes back right.
 */
import * as assert from "node:assert/strict";
import { run } from "../../tools/cli";
import { ExitCode } from "../../tools/errors";
import { selectStageStack } from "../../tools/stage-stack";
import { digest, FakeRegistry, REPO, SECRET } from "./fake-stage-stack";
import { fakeCli, historyJson, type CliAnswer, type FakeCli } from "./fake-cli";

const pin = (d: string, buildNumber: string) => ({
    source: "pinned",
    ref: `${REPO}@${d}`,
    buildNumber,
    gitBranch: "main",
    gitSha: "4".repeat(40),
});
const configOf = (image: object) => ({
    "slipway:image": { value: JSON.stringify(image), objectValue: image, secret: false },
    "slipway:registryPassword": { secret: true },
});

/** prod on a DIY backend: three updates, every one version 0, newest first, as `pulumi stack history --json` prints them. */
const DIY_HISTORY = historyJson([
    { version: 0, startTime: "2026-11-29T22:50:01.000Z", config: configOf(pin(digest("c"), "43")) },
    { version: 0, startTime: "2026-11-29T21:10:44.000Z", result: "failed", config: configOf(pin(digest("d"), "42")) },
    { version: 0, startTime: "2026-11-28T09:03:17.000Z", config: configOf(pin(digest("b"), "41")) },
]);

const OUTPUTS = JSON.stringify({
    appImageRef: `${REPO}@${digest("c")}`,
    appImageDigest: digest("c"),
    buildNumber: "43",
    dbPassword: "[secret]",
});

function prodCli(extra: Record<string, CliAnswer> = {}): FakeCli {
    return fakeCli({
        "stack history": { stdout: DIY_HISTORY },
        "stack output": { stdout: OUTPUTS },
        "config get slipway:image": { stdout: JSON.stringify({ value: JSON.stringify(pin(digest("c"), "43")), secret: false }) },
        "config set-all": {},
        ...extra,
    });
}

async function stackOn(cli: FakeCli) {
    return selectStageStack("prod", cli.workDir, await cli.command());
}

/** Every command the tools ran (the SDK's own `version` probe left out). */
const commands = (cli: FakeCli) => cli.calls().filter((c) => c[0] !== "version");

describe("tools/stage-stack: the adapter, through the real Automation API and a fake pulumi CLI", () => {
    it("reads history with secrets hidden, where the SDK's own default would show them", async () => {
        const cli = prodCli();
        const stack = await stackOn(cli);
        await stack.history();
        await stack.history({ pageSize: 5 });
        const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
        const sdk = await LocalWorkspace.selectStack({ stackName: "prod", workDir: cli.workDir }, { pulumiCommand: await cli.command() });
        await sdk.history();
        const history = commands(cli).filter((c) => c[0] === "stack" && c[1] === "history");
        assert.deepEqual(history, [
            ["stack", "history", "--json", "--stack", "prod", "--non-interactive"],
            ["stack", "history", "--json", "--page-size", "5", "--page", "1", "--stack", "prod", "--non-interactive"],
            ["stack", "history", "--json", "--show-secrets", "--stack", "prod", "--non-interactive"],
        ]);
    });

    it("reads outputs masked: a secret output is marked secret and its value never fetched", async () => {
        const cli = prodCli();
        const outputs = await (await stackOn(cli)).outputs();
        assert.deepEqual(outputs.dbPassword, { value: undefined, secret: true });
        assert.deepEqual(outputs.appImageDigest, { value: digest("c"), secret: false });
        assert.deepEqual(commands(cli).slice(-1), [["stack", "output", "--json", "--stack", "prod", "--non-interactive"]]);
    });

    it("returns a DIY backend's history as the CLI printed it: version 0, newest first, with start times", async () => {
        const history = await (await stackOn(prodCli())).history();
        assert.deepEqual(
            history.map((u) => [u.version, new Date(u.startTime).toISOString(), u.result]),
            [
                [0, "2026-11-29T22:50:01.000Z", "succeeded"],
                [0, "2026-11-29T21:10:44.000Z", "failed"],
                [0, "2026-11-28T09:03:17.000Z", "succeeded"],
            ],
        );
    });

    it("writes an object in one `config set-all --json`, in the shape `pulumi config --json` prints", async () => {
        const cli = prodCli();
        await (await stackOn(cli)).setObjectConfig("slipway:image", { source: "pinned", buildNumber: "41" });
        const [setAll] = commands(cli).filter((c) => c[1] === "set-all");
        assert.deepEqual(setAll.slice(0, 5), ["config", "set-all", "--stack", "prod", "--json"]);
        assert.deepEqual(JSON.parse(setAll[5]), {
            "slipway:image": {
                value: '{"source":"pinned","buildNumber":"41"}',
                objectValue: { source: "pinned", buildNumber: "41" },
                secret: false,
            },
        });
    });

    it("maps the CLI's 'not found' to undefined and rethrows any other failure with the CLI's message", async () => {
        const missing = prodCli({
            "config get slipway:image": { code: 255, stderr: "error: configuration key 'slipway:image' not found for stack 'prod'\n" },
        });
        assert.equal(await (await stackOn(missing)).getConfig("slipway:image"), undefined);
        const locked = prodCli({
            "config get slipway:image": { code: 255, stderr: "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE\n" },
        });
        await assert.rejects((await stackOn(locked)).getConfig("slipway:image"), /passphrase must be set/);
    });

    it("status and rollback --dry-run on a DIY backend: start-time addresses, and not one command with --show-secrets", async () => {
        const cli = prodCli();
        const io = { out: "", err: "" };
        const ctx = {
            openStack: async (name: string) => selectStageStack(name, cli.workDir, await cli.command()),
            registry: new FakeRegistry(),
            out: (s: string) => (io.out += s),
            err: (s: string) => (io.err += s),
        };
        assert.equal(await run(["status", "--stack", "prod"], ctx), ExitCode.Ok);
        assert.match(io.out, /^prod +sha256:cccccccccccc +43 .* 2026-11-29T22:50:01Z succeeded$/m);
        assert.equal(await run(["rollback", "--stack", "prod", "--dry-run"], ctx), ExitCode.Ok);
        assert.match(
            io.out,
            /rollback prod to the image of update 2026-11-28T09:03:17Z \(current: update 2026-11-29T22:50:01Z, succeeded\)/,
        );
        assert.equal(await run(["rollback", "--stack", "prod", "--to", "2026-11-28T09:03:17Z", "--dry-run"], ctx), ExitCode.Ok);
        assert.ok(!io.out.includes(SECRET) && !io.err.includes(SECRET));
        const all = commands(cli);
        assert.ok(all.length >= 6, JSON.stringify(all));
        assert.deepEqual(
            all.filter((c) => c.includes("--show-secrets")),
            [],
        );
    });
});
