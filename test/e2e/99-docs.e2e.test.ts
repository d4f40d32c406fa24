/**
 * Every command the docs show runs as written, from a fresh shell (issue 21): each shell block of README.md and
 * docs/*.md, in the order a reader meets them, in `env -i` with only HOME and the system PATH, in a fresh copy of
 * the repository, on the real engine and Slipway's node (stopped by the teardown suite before this one, so the
 * docs' own `npm run up:local` starts everything, as on a newcomer's machine). Blocks marked "not run here" are
 * counted with their reasons. Last, the host is compared with the fingerprint taken before any suite ran: the
 * docs' `npm run down:local`, from a fresh shell, must leave it as it was found.
 */
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { docBlocks, USER_DOCS, type DocBlock } from "../support/doc-blocks";
import { runBlock, runClean } from "./support/docs-runner";
import { fromEnv, ok, REPO, run, Workspace } from "./support/workspace";

const blocks: DocBlock[] = USER_DOCS.flatMap((file) => docBlocks(file, readFileSync(path.join(REPO, file), "utf8")));
const marked = blocks.filter((b) => b.notRun !== undefined);
const runnable = blocks.filter((b) => b.notRun === undefined);

/** A doc of one block, for the negative controls. */
const doc = (markdown: string) => docBlocks("negative-control.md", markdown)[0];

describe("issue 21: every shell block of the docs runs as written, from a fresh shell", function () {
    let ws: Workspace;
    const ranLog: string[] = [];

    before(() => {
        // Node_modules is linked, not installed: `npm ci` is what up:local does on a fresh clone (the cold bench).
        ws = new Workspace("docs");
    });

    after(() => {
        process.stdout.write(
            `      docs: ${ranLog.length} of ${runnable.length} runnable blocks ran, ${marked.length} marked not run here:\n` +
                marked.map((b) => `        ${b.file}:${b.line} (${b.notRun})\n`).join(""),
        );
        ws?.dispose();
    });

    describe("negative controls: the runner bites", () => {
        it("a wrong flag in a doc fails the block, naming the file, line and command", async () => {
            const result = await runBlock(doc("```sh\nnpm run rollback -- --stak local\n```\n"), ws.dir);
            assert.match(result.failure ?? "", /^negative-control\.md:1 `npm run rollback -- --stak local` exited 2/);
        });

        it("a renamed script in a doc fails the block", async () => {
            const result = await runBlock(doc("```sh\nnpm run up:locale\n```\n"), ws.dir);
            assert.match(result.failure ?? "", /exited 1/);
            assert.match(result.failure ?? "", /Missing script: "up:locale"/);
        });

        it("output the doc shows but the command does not print fails the block", async () => {
            const result = await runBlock(
                doc("```console\n$ npm run status -- --help\nUsage: slipway status [options] --no-such\n```\n"),
                ws.dir,
            );
            assert.match(result.failure ?? "", /did not show "Usage: slipway status \[options\] --no-such"/);
            const right = await runBlock(doc("```console\n$ npm run status -- --help\nUsage: slipway status [options]\n```\n"), ws.dir);
            assert.equal(right.failure, undefined);
        });

        it("a command that works only inside the suite's environment fails in the reader's", async () => {
            // The suite has the toolchain on PATH; a reader's fresh shell does not.
            ok(await run("pulumi", ["version"], { cwd: ws.dir }), "pulumi version in the suite's environment");
            const clean = await runClean("pulumi version", ws.dir);
            assert.notEqual(clean.code, 0, "pulumi must not be on a fresh shell's PATH");
            const result = await runBlock(doc("```sh\npulumi version\n```\n"), ws.dir);
            assert.match(result.failure ?? "", /exited 127/);
        });
    });

    describe("one place finds the local stage's setup (scripts/local-env.sh)", () => {
        const pairs = (text: string) =>
            Object.fromEntries(
                text
                    .split("\n")
                    .filter((l) => /^[A-Z_]+=/.test(l))
                    .map((l) => l.split(/=(.*)/s, 2)),
            );

        it("from a fresh shell: the pinned CLI, the project's file backend, the empty passphrase, up:local's kubeconfig", async () => {
            const ran = ok(await runClean("scripts/local-env.sh --env0 | tr '\\0' '\\n'", ws.dir), "local-env.sh");
            const env = pairs(ran.stdout);
            assert.equal(env.PULUMI_BACKEND_URL, `file://${ws.dir}/.pulumi`);
            assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "");
            assert.equal(env.KUBECONFIG, `${ws.dir}/.slipway/kubeconfig`);
            assert.match(env.PATH ?? "", /\/slipway\/tools\/pulumi\//);
            assert.match(
                ran.stdout,
                /^\[local stage\] pulumi .*, backend file:\/\/.*\.pulumi, the empty passphrase, kubeconfig \.slipway\/kubeconfig$/m,
            );
        });

        it("says its line once: not with SLIPWAY_LOCAL_ENV_QUIET=1 (up:local's own deploy, after up:local said it)", async () => {
            const loud = ok(await runClean("scripts/local-env.sh --env0 >/dev/null", ws.dir), "local-env.sh");
            assert.match(loud.stdout, /^\[local stage\] pulumi /m);
            const quiet = ok(await runClean("SLIPWAY_LOCAL_ENV_QUIET=1 scripts/local-env.sh --env0 >/dev/null", ws.dir), "quiet");
            assert.equal(quiet.stdout, "");
        });

        it("a backend and passphrase of the user's own win, and the line says so", async () => {
            const ran = ok(
                await runClean(
                    "PULUMI_BACKEND_URL=file:///var/tmp/elsewhere PULUMI_CONFIG_PASSPHRASE=s3cret scripts/local-env.sh --env0 | tr '\\0' '\\n'",
                    ws.dir,
                ),
                "local-env.sh with the user's own backend",
            );
            const env = pairs(ran.stdout);
            assert.equal(env.PULUMI_BACKEND_URL, "file:///var/tmp/elsewhere");
            assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "s3cret");
            assert.match(
                ran.stdout,
                /backend file:\/\/\/var\/tmp\/elsewhere \(from the environment\), the passphrase from the environment/,
            );
        });
    });

    describe("the docs, in reading order", () => {
        // A reader stops at the first command that fails; so does this (the rest would fail for the same reason).
        // Mocha's own bail() is not used: it counts every failure of the run, so one failing suite before this one
        // would stop every block here without running any.
        let firstFailure: string | undefined;
        for (const block of runnable) {
            it(`${block.file}:${block.line}: ${block.steps.map((s) => s.command.split("\n")[0]).join(" ; ")}`, async function () {
                this.timeout(1_800_000);
                assert.equal(firstFailure, undefined, `not run: the reader stopped at ${firstFailure}`);
                firstFailure = `${block.file}:${block.line}`;
                const result = await runBlock(block, ws.dir, (text) => process.env.SLIPWAY_E2E_VERBOSE && process.stderr.write(text));
                ranLog.push(`${block.file}:${block.line}`);
                assert.equal(result.failure, undefined, result.failure);
                firstFailure = undefined;
            });
        }
    });

    // Mocha runs a suite's own tests before its nested suites: these come last, as a suite of their own.
    describe("after the docs", () => {
        it("every runnable block ran", () => {
            assert.deepEqual(
                ranLog,
                runnable.map((b) => `${b.file}:${b.line}`),
            );
        });

        it("the local loop wrote no tracked file: after the docs put back what they changed by hand, git sees no change", () => {
            // up:local keeps this machine's choices (the offline base, the kubeconfig) under .slipway/, never in
            // Pulumi.local.yaml: a dirty tree would mark every later update as built from uncommitted changes.
            assert.equal(ws.git("status", "--porcelain"), "");
        });

        it("the docs' down:local, run from a fresh shell, left the host as it was found", async () => {
            const before = readFileSync(path.join(fromEnv("SLIPWAY_E2E_WORK"), "host-before"), "utf8");
            const after = ok(await run("bash", [path.join(ws.dir, "scripts", "host-fingerprint.sh")]), "fingerprint").stdout;
            assert.equal(after, before);
        });
    });
});
