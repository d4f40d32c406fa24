/**
 * The docs test's reading of the Markdown (test/support/doc-blocks.ts), and the rule it enforces on every user doc:
 * each shell block either runs in the e2e docs suite (test/e2e/99-docs.e2e.test.ts) or says why it cannot run here.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { consoleSteps, docBlocks, missingOutput, USER_DOCS } from "./support/doc-blocks";
import { REPO_ROOT } from "./support/stacks";

describe("docs test: reading shell blocks from Markdown", () => {
    it("finds shell fences, in list items too, with their line, and no other fence", () => {
        const md = "# t\n\n```yaml\na: 1\n```\n\n1. step\n\n   ```bash\n   echo one\n   ```\n\n```sh\necho two\n```\n";
        const blocks = docBlocks("t.md", md);
        assert.deepEqual(
            blocks.map((b) => [b.line, b.language, b.steps[0].command]),
            [
                [9, "bash", "echo one\n"],
                [13, "sh", "echo two\n"],
            ],
        );
    });

    it("reads the markers on the line above a block: not run here (with its reason), and the expected exit", () => {
        const md = "<!-- not run here: needs AWS -->\n```sh\naws s3 ls\n```\n\n<!-- exits 2 -->\n```sh\nfalse\n```\n";
        const [aws, fails] = docBlocks("t.md", md);
        assert.equal(aws.notRun, "needs AWS");
        assert.equal(aws.expectExit, 0);
        assert.equal(fails.notRun, undefined);
        assert.equal(fails.expectExit, 2);
        assert.throws(() => docBlocks("t.md", "<!-- not run here: -->\n```sh\nx\n```\n"), /t\.md:2: "not run here" needs a reason/);
    });

    it("splits a console block into commands (continued with \\) and the output shown under each", () => {
        assert.deepEqual(consoleSteps("$ npm run status \\\n  -- --stack local\nSTAGE  DIGEST\n\n$ curl -s x\n{…}\n"), [
            { command: "npm run status \\\n  -- --stack local", expected: ["STAGE  DIGEST"] },
            { command: "curl -s x", expected: ["{…}"] },
        ]);
        assert.throws(() => consoleSteps("output first\n$ ls\n"), /output before any "\$ " command/);
    });

    it("matches shown output in order, with … for any text and any run of spaces for spaces", () => {
        const output =
            "[local stage] pulumi …\nSTAGE    DIGEST\nlocal    sha256:ab12  local  main  0a1b2c3  2026-12-07T10:00:00Z succeeded\n";
        assert.equal(missingOutput(["STAGE DIGEST", "local sha256:… local … succeeded"], output), undefined);
        assert.match(missingOutput(["local sha256:… local … failed"], output) ?? "", /"local sha256:… local … failed"/);
        // Order counts: a line found before the previous expected line does not match.
        assert.match(missingOutput(["local sha256:…", "STAGE DIGEST"], output) ?? "", /"STAGE DIGEST" \(looked from output line 4/);
        // Regex characters in the doc are literal.
        assert.match(missingOutput(["(a+b)"], "aab") ?? "", /\(a\+b\)/);
    });
});

describe("docs test: every shell block of the user docs runs, or says why it cannot", () => {
    it("lists every file of docs/ in reading order", () => {
        const docs = readdirSync(path.join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md"));
        assert.deepEqual(
            [...docs].sort(),
            USER_DOCS.filter((f) => f.startsWith("docs/"))
                .map((f) => f.slice(5))
                .sort(),
        );
    });

    it("has runnable blocks in the README and docs/operations.md, and a reason on every block it does not run", () => {
        const blocks = USER_DOCS.flatMap((file) => docBlocks(file, readFileSync(path.join(REPO_ROOT, file), "utf8")));
        const runnable = blocks.filter((b) => b.notRun === undefined);
        for (const file of ["README.md", "docs/operations.md"]) {
            assert.ok(
                runnable.some((b) => b.file === file),
                `${file} has blocks the docs test runs`,
            );
        }
        for (const block of blocks.filter((b) => b.notRun !== undefined)) {
            assert.match(block.notRun ?? "", /\S{3,}/, `${block.file}:${block.line} says why it is not run`);
        }
        // The README's main job is run as written, and shows the URL it ends with.
        const up = runnable.find((b) => b.file === "README.md" && b.steps.some((s) => s.command === "npm run up:local"));
        assert.ok(up, "README runs npm run up:local");
        assert.ok(
            up.steps[0].expected.some((l) => /^http:\/\/127\.0\.0\.1:\d+$/.test(l)),
            "and shows the URL",
        );
    });
});
