/**
 * The tools' adapter over the Automation API (tools/stage-stack.ts) against the real CLI and a real DIY (file)
 * backend: secrets stay hidden where the SDK's own defaults would decrypt them, structured config keeps its strings,
 * and `status` / `rollback` address updates by start time, because a DIY backend numbers none of them.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../../stacks/config";
import { selectStageStack } from "../../tools/stage-stack";
import { stackHistory, workspace } from "./support/shared";
import { ok } from "./support/workspace";

const ws = workspace();
const QA = "e2e-qa";

/** Runs `body` with this process's environment set to the workspace's (the Automation API reads process.env). */
async function inWorkspaceEnv<T>(body: () => Promise<T>, extra: NodeJS.ProcessEnv = {}): Promise<T> {
    const saved = { ...process.env };
    Object.assign(process.env, ws.env, extra);
    try {
        return await body();
    } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
    }
}

describe("the tools on the real CLI and a DIY backend", function () {
    const secret = `tools-s3cr3t-${process.pid}`;

    before(async () => {
        ok(await ws.pulumi(["config", "set", "--stack", QA, "--secret", "--path", "secretEnv.TOOLS_TOKEN", secret]), "secret config");
        ok(await ws.pulumi(["up", "--stack", QA, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `up ${QA} with a secret`);
    });

    it("reads history with secret config hidden, where the SDK's own history() decrypts it", async () => {
        const adapter = await inWorkspaceEnv(async () => (await selectStageStack(QA, ws.dir)).history());
        assert.ok(adapter.length >= 2);
        assert.ok(!JSON.stringify(adapter).includes(secret), "the adapter's history holds the plaintext secret");
        const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
        const sdk = await inWorkspaceEnv(async () => (await LocalWorkspace.selectStack({ stackName: QA, workDir: ws.dir })).history());
        assert.ok(JSON.stringify(sdk).includes(secret), "the SDK's default really decrypts: the adapter's choice matters");
    });

    it("reads outputs without the passphrase: nothing is decrypted", async () => {
        const outputs = await inWorkspaceEnv(async () => (await selectStageStack(QA, ws.dir)).outputs(), {
            PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase",
        });
        assert.match(String(outputs.appImageRef.value), /@sha256:[0-9a-f]{64}$/);
        assert.equal(outputs.appImageRef.secret, false);
    });

    it("writes a pin as one object whose digit-only values stay strings, which the config schema accepts", async () => {
        const history = await stackHistory(ws, QA);
        const current = JSON.parse(history[0].config!["slipway:image"].value!) as Record<string, string>;
        const pin = { ...current, buildNumber: "41", gitSha: "0123456" };
        await inWorkspaceEnv(async () => (await selectStageStack(QA, ws.dir)).setObjectConfig("slipway:image", pin));
        const text = readFileSync(path.join(ws.dir, `Pulumi.${QA}.yaml`), "utf8");
        assert.match(text, /buildNumber: "41"/);
        assert.match(text, /gitSha: "0123456"/);
        const config = (parseYaml(text) as { config: Record<string, unknown> }).config;
        const raw = Object.fromEntries(
            Object.entries(config)
                .filter(([k]) => k.startsWith("slipway:") && k !== "slipway:secretEnv")
                .map(([k, v]) => [k.slice("slipway:".length), v]),
        );
        assert.equal(parseStackConfig(raw).image.source, "pinned");
        ws.git("checkout", "--", `Pulumi.${QA}.yaml`);
        assert.equal(await inWorkspaceEnv(async () => (await selectStageStack(QA, ws.dir)).getConfig("slipway:noSuchKey")), undefined);
    });

    it("status shows each update's start time, and rollback --dry-run --to takes that address", async () => {
        const history = await stackHistory(ws, QA);
        assert.ok(
            history.every((u) => u.version === 0),
            "a file backend numbers no update",
        );
        const status = ok(await ws.npm("status", ["--stack", QA]), "npm run status");
        const newest = new Date(history[0].startTime).toISOString().replace(/\.\d{3}Z$/, "Z");
        assert.match(status.stdout, new RegExp(`${QA} .* ${newest}`));
        assert.ok(!status.stdout.includes("#0"));
        const refOf = (u: (typeof history)[number]) => JSON.parse(u.config!["slipway:image"].value!).ref as string;
        // An earlier successful update that ran another image (the promoted one, before the rollback).
        const older = history.find((u) => u.result === "succeeded" && u.kind === "update" && refOf(u) !== refOf(history[0]))!;
        assert.ok(older, "the history holds an update with another image");
        const address = new Date(older.startTime).toISOString().replace(/\.\d{3}Z$/, "Z");
        const dry = ok(await ws.npm("rollback", ["--stack", QA, "--to", address, "--dry-run"]), "rollback --dry-run");
        assert.match(dry.stdout, new RegExp(`update ${address}`));
        assert.ok(!dry.stdout.includes(secret) && !dry.stderr.includes(secret));
    });

    it("reads each earlier update's outputs from the file backend's checkpoint backups (outputsOf)", async () => {
        const history = await inWorkspaceEnv(async () => (await selectStageStack(QA, ws.dir)).history());
        const succeeded = history.filter((u) => u.kind === "update" && u.result === "succeeded");
        assert.ok(succeeded.length >= 2, "more than one update to tell apart");
        const recorded = await inWorkspaceEnv(async () => {
            const stack = await selectStageStack(QA, ws.dir);
            return Promise.all(succeeded.map((u) => stack.outputsOf(u)));
        });
        // A pinned stage: each update's state must hold the digest its own config pinned, not the latest one.
        for (const [i, u] of succeeded.entries()) {
            const pinned = JSON.parse(u.config["slipway:image"].value!) as { ref: string };
            assert.equal(recorded[i]?.appImageRef?.value, pinned.ref, `update started ${String(u.startTime)}`);
        }
    });
});
