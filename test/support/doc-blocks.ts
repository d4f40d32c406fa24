/**
 * The shell blocks of the user docs, as a reader meets them: which run, which cannot run here (and why), and what
 * output they show. Markdown is parsed with markdown-it (CommonMark: fences inside list items, indented fences and
 * longer fences are found as a renderer finds them, which a line regex gets wrong).
 *
 * Conventions, in the Markdown itself:
 * - a fence whose info string is `sh`, `bash`, `shell` or `console` is a shell block; every other fence is not;
 * - `<!-- not run here: <reason> -->` on the line right above a shell block marks it as one the docs test cannot run
 *   (AWS, prod, another user's cluster), with the reason;
 * - `<!-- exits <n> -->` on the line right above says the block's last command is expected to exit `n`, not 0;
 * - in a `console` block, `$ ` starts a command (a line ending in `\` continues it) and the lines after it are
 *   output that the command's output must show, in order; `…` in an output line stands for any text.
 */
import MarkdownIt from "markdown-it";

/** Info strings of fences that hold shell commands. */
export const SHELL_LANGUAGES = ["sh", "bash", "shell", "console"] as const;

/** One command of a block and the output lines it must show. */
export interface DocStep {
    /** The shell text to run (a `console` command, or a whole `sh` block). */
    command: string;
    /** Output lines shown under a `console` command, to find in its output, in order. */
    expected: string[];
}

/** A shell block of a Markdown file. */
export interface DocBlock {
    file: string;
    /** 1-based line of the opening fence. */
    line: number;
    language: string;
    /** The reason it is not run here, when it is marked so. */
    notRun?: string;
    /** Exit code the last step must end with (default 0). */
    expectExit: number;
    steps: DocStep[];
}

const NOT_RUN = /^\s*<!--\s*not run here:\s*(.*?)\s*-->\s*$/;
const EXITS = /^\s*<!--\s*exits (\d+)\s*-->\s*$/;

/** The shell blocks of one Markdown file, in document order. Throws on a marker without a reason. */
export function docBlocks(file: string, markdown: string): DocBlock[] {
    const lines = markdown.split("\n");
    const blocks: DocBlock[] = [];
    for (const token of new MarkdownIt().parse(markdown, {})) {
        const language = token.info.trim().split(/\s+/)[0] ?? "";
        if (token.type !== "fence" || !(SHELL_LANGUAGES as readonly string[]).includes(language) || !token.map) {
            continue;
        }
        const line = token.map[0] + 1;
        const above = lines[token.map[0] - 1] ?? "";
        const notRun = NOT_RUN.exec(above)?.[1];
        if (notRun === "") {
            throw new Error(`${file}:${line}: "not run here" needs a reason`);
        }
        blocks.push({
            file,
            line,
            language,
            notRun,
            expectExit: Number(EXITS.exec(above)?.[1] ?? 0),
            steps: language === "console" ? consoleSteps(token.content) : [{ command: token.content, expected: [] }],
        });
    }
    return blocks;
}

/** Splits a `console` block into commands (`$ `, `\` continues) and the output shown under each. */
export function consoleSteps(content: string): DocStep[] {
    const steps: DocStep[] = [];
    let continuing = false;
    for (const line of content.replace(/\n$/, "").split("\n")) {
        const current = steps[steps.length - 1];
        let commandLine = true;
        if (continuing && current) {
            current.command += `\n${line}`;
        } else if (line.startsWith("$ ")) {
            steps.push({ command: line.slice(2), expected: [] });
        } else if (current) {
            commandLine = false;
            if (line.trim() !== "") current.expected.push(line);
        } else {
            throw new Error(`console block output before any "$ " command: ${JSON.stringify(line)}`);
        }
        continuing = commandLine && line.endsWith("\\");
    }
    return steps;
}

/** A shown output line as a pattern: runs of spaces match any run of spaces, `…` matches any text. */
function linePattern(expected: string): RegExp {
    const parts = expected
        .trim()
        .split("…")
        .map((part) =>
            part
                .split(/\s+/)
                .filter((w) => w !== "")
                .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                .join("\\s+"),
        );
    return new RegExp(parts.join(".*"));
}

/**
 * Checks that every expected line appears in `output`, each on a line after the previous one's. Returns the first
 * expected line that is missing (with where the search was), or undefined when all are there.
 */
export function missingOutput(expected: readonly string[], output: string): string | undefined {
    const lines = output.split("\n");
    let at = 0;
    for (const want of expected) {
        const pattern = linePattern(want);
        const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
        if (found < 0) {
            return `${JSON.stringify(want)} (looked from output line ${at + 1} of ${lines.length})`;
        }
        at = found + 1;
    }
    return undefined;
}

/**
 * The user docs in the order a reader meets them: the README, then docs/ as the README's table lists them. A test
 * checks that every file of docs/ is here.
 */
export const USER_DOCS = [
    "README.md",
    "docs/local.md",
    "docs/configuration.md",
    "docs/app-contract.md",
    "docs/adopt.md",
    "docs/operations.md",
    "docs/architecture.md",
    "docs/CONTRACTS.md",
    "docs/development.md",
    "docs/benchmarks.md",
    "docs/BENCHMARKS-e2e.md",
    "docs/BENCHMARKS-images.md",
] as const;
