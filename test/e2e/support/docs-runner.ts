/**
 * Runs the docs' shell blocks as a reader would: in a fresh login-less shell (`env -i` with only HOME and the
 * system PATH, never the suite's environment), from the project's root, one block after another.
 */
import type { DocBlock, DocStep } from "../../support/doc-blocks";
import { missingOutput } from "../../support/doc-blocks";
import { run, type Ran } from "./workspace";

/** The PATH of a fresh shell on this machine: no toolchain, no node_modules/.bin. */
export const CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Runs one step's shell text in a clean environment; stderr is merged into stdout, in order, as a terminal shows. */
export function runClean(command: string, cwd: string, timeoutSeconds = 900, onOutput?: (text: string) => void): Promise<Ran> {
    const script = `exec 2>&1\nset -o pipefail\n${command}`;
    return run("env", ["-i", `HOME=${process.env.HOME ?? "/root"}`, `PATH=${CLEAN_PATH}`, "bash", "-e", "-c", script], {
        cwd,
        timeoutSeconds,
        onOutput,
    });
}

/** What went wrong with one block, or undefined when it did what the doc says. */
export async function runBlock(
    block: DocBlock,
    cwd: string,
    onOutput?: (text: string) => void,
): Promise<{ failure?: string; ran: { step: DocStep; result: Ran }[] }> {
    const ran: { step: DocStep; result: Ran }[] = [];
    for (const [i, step] of block.steps.entries()) {
        const result = await runClean(step.command, cwd, 900, onOutput);
        ran.push({ step, result });
        const want = i === block.steps.length - 1 ? block.expectExit : 0;
        const where = `${block.file}:${block.line} \`${step.command.split("\n")[0]}\``;
        if (result.code !== want) {
            return { failure: `${where} exited ${result.code}, the doc expects ${want}\n${result.stdout.slice(-3000)}`, ran };
        }
        const missing = missingOutput(step.expected, result.stdout);
        if (missing) {
            return { failure: `${where} did not show ${missing}\n--- its output\n${result.stdout.slice(-3000)}`, ran };
        }
    }
    return { ran };
}
