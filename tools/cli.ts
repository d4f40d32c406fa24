/**
 * The command line: `init`, `up`, `preview`, `promote`, `rollback` and `status`, with `--help`, errors on stderr and documented exit codes.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import type { ToolContext } from "./context";
import { describeError, ExitCode, ToolError, type ExitCodeValue } from "./errors";
import { preview } from "./preview";
import { promote } from "./promote";
import { rollback } from "./rollback";
import { findPackageDir, init } from "./init";
import { DEFAULT_STAGES, status } from "./status";
import { up } from "./up";
import { UPDATE_ADDRESS } from "./updates";

const EXIT_CODES_HELP = `
Exit codes:
  0  done (or, with --dry-run, would be done)
  1  the operation failed (Pulumi, the backend or the registry reported an error)
  2  usage error or refused (malformed/missing digest, failed source update, nothing to roll back to)
`;

/** Stack names as Pulumi accepts them (optionally `org/project/stack`). */
function stackName(value: string): string {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(value)) {
        throw new InvalidArgumentError("not a stack name");
    }
    return value;
}

/** App names as the stack config takes them: DNS labels. */
function appName(value: string): string {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
        throw new InvalidArgumentError("expected an app name (a DNS label: lowercase letters, digits and -)");
    }
    return value;
}

function positiveInt(value: string): number {
    if (!/^[1-9][0-9]*$/.test(value)) {
        throw new InvalidArgumentError("expected an update version (a positive integer)");
    }
    return Number(value);
}

function updateAddress(value: string): string {
    if (!UPDATE_ADDRESS.test(value)) {
        throw new InvalidArgumentError(
            "expected previous, build:<n>, sha:<7..40 hex>, an update version (41) or its start time in UTC (2026-11-29T22:50:01Z)",
        );
    }
    return value;
}

/** Builds the program; `setExit` receives the exit code of commands that report one (status). */
export function buildProgram(ctx: ToolContext, setExit: (code: ExitCodeValue) => void): Command {
    const program = new Command("slipway")
        .description("Start a Slipway project, then deploy, promote, roll back, preview and inspect its stages (Pulumi Automation API).")
        .exitOverride()
        .showHelpAfterError()
        .configureOutput({ writeOut: (s) => ctx.out(s), writeErr: (s) => ctx.err(s) })
        .addHelpText("after", EXIT_CODES_HELP);

    program
        .command("init")
        .description(
            "Write a Slipway project for the repository's Dockerfile: Pulumi.yaml, a program of a few lines, the stack files of " +
                "local, dev, qa and prod, and GitHub workflows; print what it assumed. Never overwrites a file without --force.",
        )
        .option("--dir <path>", "the repository's folder (default: the working directory)")
        .option("--dockerfile <path>", "the app's Dockerfile, relative to --dir; needed where there are several (one app per stack today)")
        .option("--name <app>", "the app's name, a DNS label (default: from the Dockerfile's folder)")
        .option("--dry-run", "print the files it would write; write nothing", false)
        .option("--force", "overwrite files that exist", false)
        .addHelpText("after", EXIT_CODES_HELP)
        .action((opts: { dir?: string; dockerfile?: string; name?: string; dryRun: boolean; force: boolean }) => {
            init(opts, { cwd: process.cwd(), out: ctx.out, packageDir: findPackageDir(__dirname) });
        });

    program
        .command("promote")
        .description(
            "Pin the image digests one stage's apps run in the next stage, every app as one change, then preview (or deploy with --yes).",
        )
        .requiredOption("--from <stack>", "source stack, e.g. dev", stackName)
        .requiredOption("--to <stack>", "target stack, e.g. qa", stackName)
        .option("--app <name>", "promote this app only (default: every app of the target stage)", appName)
        .option("--yes", "run pulumi up instead of a preview", false)
        .addHelpText("after", EXIT_CODES_HELP)
        .action(async (opts: { from: string; to: string; app?: string; yes: boolean }) => {
            await promote(ctx, opts);
        });

    program
        .command("rollback")
        .description(
            "Pin an earlier image (by digest) and deploy it. Default: the newest earlier successful update that ran a different " +
                "digest; after a rollback, the one before the image that runs now. What runs is read from the stack's history, " +
                "not from Pulumi.<stack>.yaml.",
        )
        .requiredOption("--stack <stack>", "stack to roll back, e.g. prod", stackName)
        .option("--app <name>", "the app to roll back; required where the stack runs several", appName)
        .option("--list", "list the stack's deployments, newest first, with the ids --to takes; change nothing", false)
        .option(
            "--to <update>",
            "restore the image of this update: previous (the default), build:<n> or sha:<7..40 hex> (the newest successful " +
                "update of that CI build or commit), a version, or a start time in UTC as --list and status print it " +
                "(DIY backends number no updates)",
            updateAddress,
        )
        .option("--to-version <n>", "restore the image of this update version (backends that number updates)", positiveInt)
        .option("--digest <sha256:…>", "restore this digest from the stack's repository")
        .option("--no-registry-check", "with --digest: do not check that the digest exists in the registry")
        .option("--dry-run", "print what would be done; change nothing", false)
        .addHelpText("after", EXIT_CODES_HELP)
        .action(
            async (opts: {
                stack: string;
                app?: string;
                list: boolean;
                to?: string;
                toVersion?: number;
                digest?: string;
                dryRun: boolean;
                registryCheck: boolean;
            }) => {
                await rollback(ctx, opts);
            },
        );

    program
        .command("status")
        .description("Show what runs where: digest, build, branch, sha and last update (the id rollback --to takes) of each stage.")
        .option("--stack <stack...>", `stacks to show (default: ${DEFAULT_STAGES.join(" ")})`)
        .option("--json", "print JSON instead of a table", false)
        .addHelpText("after", EXIT_CODES_HELP)
        .action(async (opts: { stack?: string[]; json: boolean }) => {
            setExit(await status(ctx, { stacks: opts.stack ?? [...DEFAULT_STAGES], json: opts.json }));
        });

    program
        .command("up")
        .description(
            "Deploy a stage (pulumi up). Fails within 30 s when a new pod of the rollout crash-loops, cannot pull its image " +
                "or lacks its config, naming the pod, the reason and its last log lines, instead of waiting out the rollout timeout.",
        )
        .requiredOption("--stack <stack>", "stack to deploy, e.g. local", stackName)
        .option("--message <text>", "message recorded with the update (pulumi stack history)")
        .option("--diff", "show each resource's changed properties", false)
        .addHelpText("after", EXIT_CODES_HELP)
        .action(async (opts: { stack: string; message?: string; diff: boolean }) => {
            await up(ctx, opts);
        });

    program
        .command("preview")
        .description("Show what pulumi up would change on a stage, without changing anything.")
        .requiredOption("--stack <stack>", "stack to preview, e.g. local", stackName)
        .addHelpText("after", EXIT_CODES_HELP)
        .action(async (opts: { stack: string }) => {
            await preview(ctx, opts);
        });

    return program;
}

/** Runs the CLI on `argv` (without `node` and the script) and returns the process exit code. */
export async function run(argv: string[], ctx: ToolContext): Promise<ExitCodeValue> {
    let code: ExitCodeValue = ExitCode.Ok;
    const program = buildProgram(ctx, (c) => (code = c));
    try {
        await program.parseAsync(argv, { from: "user" });
        return code;
    } catch (err) {
        if (err instanceof CommanderError) {
            // Commander has already written its message (and the help) to stderr.
            return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Refused;
        }
        if (err instanceof ToolError) {
            ctx.err(`error: ${err.message}\n`);
            return err.exitCode;
        }
        ctx.err(`error: ${describeError(err)}\n`);
        return ExitCode.Failed;
    }
}
