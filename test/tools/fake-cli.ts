/**
 * A fake `pulumi` executable for driving the real Automation API: the SDK finds it with `PulumiCommand.get({ root })`,
 * runs it as a child process exactly as it runs the real CLI, and parses its answers. It records every argv and answers
 * each command from a table, keyed by the command's leading words (`stack history`, `config get slipway:image`).
 */
import type { PulumiCommand } from "@pulumi/pulumi/automation";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** What the fake prints and exits with for one command. */
export interface CliAnswer {
    stdout?: string;
    stderr?: string;
    code?: number;
}

/** A fake CLI and what it was asked. */
export interface FakeCli {
    /** A working directory for the workspace (an empty folder). */
    workDir: string;
    /** The SDK's handle on the fake, as `PulumiCommand.get` builds it. */
    command(): Promise<PulumiCommand>;
    /** Every argv the fake received, in order (`version` included). */
    calls(): string[][];
}

/** Writes a fake CLI answering `answers` (the longest matching key wins; unknown commands exit 1). */
export function fakeCli(answers: Record<string, CliAnswer>): FakeCli {
    const root = mkdtempSync(path.join(tmpdir(), "slipway-fake-pulumi-"));
    const log = path.join(root, "calls.jsonl");
    const table = path.join(root, "answers.json");
    const workDir = path.join(root, "project");
    mkdirSync(path.join(root, "bin"));
    mkdirSync(workDir);
    writeFileSync(log, "");
    writeFileSync(table, JSON.stringify({ version: { stdout: "v3.276.0\n" }, "stack select": {}, ...answers }));
    const script = `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + "\\n");
const answers = JSON.parse(fs.readFileSync(${JSON.stringify(table)}, "utf8"));
const words = [];
for (const a of args) { if (a.startsWith("-")) break; words.push(a); }
let answer;
for (let n = words.length; n > 0 && answer === undefined; n--) answer = answers[words.slice(0, n).join(" ")];
if (answer === undefined) { process.stderr.write("fake pulumi: no answer for " + args.join(" ") + "\\n"); process.exit(1); }
process.stdout.write(answer.stdout || "");
process.stderr.write(answer.stderr || "");
process.exit(answer.code || 0);
`;
    const bin = path.join(root, "bin", "pulumi");
    writeFileSync(bin, script);
    chmodSync(bin, 0o755);
    return {
        workDir,
        command: () => {
            const { PulumiCommand } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
            return PulumiCommand.get({ root, skipVersionCheck: true });
        },
        calls: () =>
            readFileSync(log, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((line) => JSON.parse(line) as string[]),
    };
}

/** `pulumi stack history --json` as the CLI prints it: RFC 5424 times with milliseconds (`2026-11-29T22:50:01.000Z`). */
export function historyJson(
    entries: { version: number; startTime: string; kind?: string; result?: string; config?: object; environment?: object }[],
): string {
    return JSON.stringify(
        entries.map((e) => ({
            version: e.version,
            kind: e.kind ?? "update",
            startTime: e.startTime,
            message: "",
            environment: e.environment ?? {},
            config: e.config ?? {},
            result: e.result ?? "succeeded",
            endTime: new Date(Date.parse(e.startTime) + 95_000).toISOString(),
            resourceChanges: { same: 14 },
        })),
    );
}
