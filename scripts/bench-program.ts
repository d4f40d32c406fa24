/**
 * `npm run bench:program [-- --against REF] [--ref REF] [--runs N] [--stack local]`: how long this repository's Pulumi
 * program takes to load and run, as the engine's language host runs it (ts-node, tsconfig.pulumi.json, transpile
 * only), under Pulumi mocks instead of an engine: no engine, provider, registry or cluster is involved. Each sample is
 * a fresh `node` process running scripts/lib/program-run.mts, timed from the process's start to every stack output
 * resolved, with the CPU time (user + system) it used until then, which leaves out the time it waited for a CPU.
 *
 * B is the program of `--ref` (default HEAD, as committed). With `--against REF`, A is the program of REF, and the runs
 * are paired and interleaved: A B, B A, A B …, N of each (default 9). Both are checked out the same way, as detached
 * git worktrees side by side in a temporary folder with this checkout's node_modules, and removed afterwards. The
 * paired figure is the median of the N differences B − A: runs next to each other share the machine's load, which on
 * a shared machine moves more than the change measured. `--against HEAD` (the same program on both sides) shows what
 * the harness itself gives. Also times `require` of each optional provider SDK alone (after `@pulumi/pulumi`), N
 * fresh processes each.
 *
 * Prints a Markdown table on stdout and every sample, with the machine's load average, on stderr. Run it under
 * `nice -n 19` on a shared machine. A benchmark, not a test: nothing fails on a slow figure; it fails only when A and
 * B register different numbers of resources (then they are not the same program).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const REPO = path.resolve(__dirname, "..");
const RUNNER = path.join(REPO, "scripts", "lib", "program-run.mts");
/** Node 24 (the devDependency), which strips the runner's types; the machine's own node may be older. */
const NODE = existsSync(path.join(REPO, "node_modules", ".bin", "node"))
    ? path.join(REPO, "node_modules", ".bin", "node")
    : process.execPath;
const SDKS = ["@pulumi/aws", "@pulumi/docker"];

const { values } = parseArgs({
    options: {
        against: { type: "string" },
        ref: { type: "string", default: "HEAD" },
        runs: { type: "string", default: "9" },
        stack: { type: "string", default: "local" },
    },
});
const RUNS = Number(values.runs);
const STACK = values.stack ?? "local";

/** One program run's JSON line (scripts/lib/program-run.mts), with the 1-minute load average when it started. */
interface Sample {
    outputs: number;
    cpu: number;
    started: number;
    pulumiLoaded: number;
    tsNodeRegistered: number;
    programLoaded: number;
    resources: number;
    loaded: string[];
    load: number;
}

const log = (s: string) => process.stderr.write(`[bench:program] ${s}\n`);
const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** The value at quantile q, interpolated between the two nearest samples. */
function quantile(xs: number[], q: number): number {
    const s = sorted(xs);
    const i = (s.length - 1) * q;
    return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
}
const ms = (n: number) => `${Math.round(n)} ms`;
/** Median, IQR and range of a set of samples, e.g. `2870 ms (IQR 2810 … 2950, range 2700 … 3400)`. */
const spread = (xs: number[]) =>
    `${ms(quantile(xs, 0.5))} (IQR ${Math.round(quantile(xs, 0.25))} … ${Math.round(quantile(xs, 0.75))}, ` +
    `range ${Math.round(Math.min(...xs))} … ${Math.round(Math.max(...xs))})`;
const loads = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

function runner(args: string[]): { json: any; load: number } {
    const load = loadAverage();
    const ran = spawnSync(NODE, [RUNNER, ...args], { encoding: "utf8" });
    if (ran.status !== 0) {
        throw new Error(`program-run ${args.join(" ")} exited ${ran.status}:\n${ran.stderr}`);
    }
    return { json: JSON.parse(ran.stdout.trim().split("\n").pop() ?? ""), load };
}

function runProgram(label: string, project: string): Sample {
    const { json, load } = runner(["--project", project, "--stack", STACK]);
    const sample = { ...json, load } as Sample;
    log(
        `${label}: ${ms(sample.outputs)} to outputs, ${ms(sample.cpu)} CPU (load ${load.toFixed(2)}; SDKs loaded: ${sample.loaded.join(", ") || "none"})`,
    );
    return sample;
}

/** A detached git worktree of `ref` in `dir`, with this checkout's node_modules; returns the commit. */
function checkout(ref: string, dir: string): string {
    const sha = execFileSync("git", ["-C", REPO, "rev-parse", "--verify", `${ref}^{commit}`], { encoding: "utf8" }).trim();
    execFileSync("git", ["-C", REPO, "worktree", "add", "--detach", dir, sha], { stdio: "ignore" });
    symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    return sha;
}

function main(): void {
    if (execFileSync("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim()) {
        log(`this checkout has uncommitted changes: they are not measured (B is ${values.ref}, as committed)`);
    }
    // Both sides are checked out the same way, side by side: a run of one commit against itself, with A in such a
    // worktree and B this checkout, once had B slower in 12 of 15 pairs.
    const parent = mkdtempSync(path.join(tmpdir(), "slipway-bench-"));
    const worktrees: string[] = [];
    const side = (ref: string, name: string) => {
        const dir = path.join(parent, name);
        const sha = checkout(ref, dir);
        worktrees.push(dir);
        return { dir, sha };
    };
    try {
        const B = side(values.ref ?? "HEAD", "b");
        const A = values.against === undefined ? undefined : side(values.against, "a");
        measure(A, B);
    } finally {
        for (const dir of worktrees) execFileSync("git", ["-C", REPO, "worktree", "remove", "--force", dir], { stdio: "ignore" });
        rmSync(parent, { recursive: true, force: true });
    }
}

function measure(baseline: { dir: string; sha: string } | undefined, subject: { dir: string; sha: string }): void {
    const rows: [string, string, string][] = [];
    const a: Sample[] = [];
    const b: Sample[] = [];
    // Each side once first, untimed: the first run after a checkout pays for cold file caches.
    if (baseline) runProgram("warm-up A", baseline.dir);
    runProgram("warm-up B", subject.dir);
    for (let i = 0; i < RUNS; i++) {
        const runA = () => baseline && a.push(runProgram(`A ${i + 1}/${RUNS}`, baseline.dir));
        const runB = () => b.push(runProgram(`B ${i + 1}/${RUNS}`, subject.dir));
        // A B, B A, A B …: with A always first, a run of one commit against itself had B faster in 8 of 9 pairs;
        // alternating which goes first keeps any effect of the order out of the paired figure.
        if (i % 2 === 0) {
            runA();
            runB();
        } else {
            runB();
            runA();
        }
    }
    const total = (s: Sample) => s.outputs;
    const program = (s: Sample) => s.outputs - s.tsNodeRegistered;
    const cpu = (s: Sample) => s.cpu;
    const label = baseline ? `B (${subject.sha.slice(0, 7)}) against A (${baseline.sha.slice(0, 7)})` : `${subject.sha.slice(0, 7)}`;
    if (baseline) {
        if (a.some((s) => s.resources !== b[0].resources) || b.some((s) => s.resources !== b[0].resources)) {
            throw new Error(`A and B registered different resources: A ${a.map((s) => s.resources)}, B ${b.map((s) => s.resources)}`);
        }
        rows.push([`A: process start → outputs resolved`, spread(a.map(total)), loads(a.map((s) => s.load))]);
    }
    rows.push([`B: process start → outputs resolved`, spread(b.map(total)), loads(b.map((s) => s.load))]);
    if (!baseline) rows.push(["CPU time (user + system) to outputs resolved", spread(b.map(cpu)), loads(b.map((s) => s.load))]);
    if (baseline) {
        const paired = (what: string, of: (s: Sample) => number) => {
            const diffs = b.map((s, i) => of(s) - of(a[i]));
            const faster = diffs.filter((d) => d < 0).length;
            rows.push([
                `B − A, paired: ${what}`,
                `${spread(diffs)}; B faster in ${faster} of ${RUNS} pairs`,
                loads([...a, ...b].map((s) => s.load)),
            ]);
        };
        paired("process start → outputs resolved", total);
        rows.push([
            "A / B: CPU time (user + system) to outputs resolved",
            `${spread(a.map(cpu))} / ${spread(b.map(cpu))}`,
            loads([...a, ...b].map((s) => s.load)),
        ]);
        paired("CPU time to outputs resolved", cpu);
        paired("the program alone (require program.ts → outputs resolved, after ts-node is registered)", program);
        rows.push(["A / B: optional SDKs the run loaded", `${a[0].loaded.join(", ") || "none"} / ${b[0].loaded.join(", ") || "none"}`, ""]);
    } else {
        rows.push(["optional SDKs the run loaded", b[0].loaded.join(", ") || "none", ""]);
    }
    const sdk: Record<string, { ms: number; load: number }[]> = Object.fromEntries(SDKS.map((m) => [m, []]));
    for (let i = 0; i < RUNS; i++) {
        for (const module of SDKS) {
            const { json, load } = runner(["--project", subject.dir, "--require", module]);
            sdk[module].push({ ms: json.moduleMs, load });
            log(`require ${module} ${i + 1}/${RUNS}: ${ms(json.moduleMs)} (load ${load.toFixed(2)})`);
        }
    }
    for (const module of SDKS) {
        rows.push([
            `\`require("${module}")\` alone, after \`@pulumi/pulumi\``,
            spread(sdk[module].map((s) => s.ms)),
            loads(sdk[module].map((s) => s.load)),
        ]);
    }
    console.log(`The ${STACK} stack's program under mocks, ${label}; ${RUNS} runs each, fresh node per run.\n`);
    console.log("| figure | median (IQR, range) | load average (1 min) |");
    console.log("|---|---|---|");
    for (const [what, value, load] of rows) console.log(`| ${what} | ${value} | ${load} |`);
    const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length;
    const node = execFileSync(NODE, ["--version"], { encoding: "utf8" }).trim();
    console.log(`\n${new Date().toISOString().slice(0, 16)}Z, node ${node}, ${cores} cores`);
}

main();
