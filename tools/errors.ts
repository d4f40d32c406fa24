/**
 * Exit codes of the Slipway tools (`npm run promote | rollback | status`).
 *
 * Scripts and workflows branch on these, so they are part of the tools' contract.
 */
export const ExitCode = {
    /** The operation completed (or, with `--dry-run`, would complete). */
    Ok: 0,
    /** Pulumi, the backend or the registry failed while the operation ran. */
    Failed: 1,
    /** Bad usage, or the tool refused: malformed/missing digest, failed source update, nothing to roll back to. */
    Refused: 2,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports as one line on stderr and turns into an exit code.
 * Anything else thrown is reported as an operation failure ({@link ExitCode.Failed}).
 */
export class ToolError extends Error {
    constructor(
        message: string,
        /** The process exit code this error maps to. */
        readonly exitCode: ExitCodeValue,
    ) {
        super(message);
        this.name = "ToolError";
    }
}

/** A refusal: the request was understood but would be unsafe or is impossible. */
export function refused(message: string): ToolError {
    return new ToolError(message, ExitCode.Refused);
}

/**
 * A readable message for any error. The Automation API's `CommandError` message is
 * `code: N\n stdout: …\n stderr: …\n err?: …`: the CLI's own stderr is what the operator needs.
 */
export function describeError(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const m = /^code: (-?\d+)\n stdout: [\s\S]*?\n stderr: ([\s\S]*?)\n err\?: /.exec(message);
    if (!m) {
        return message.trim();
    }
    const stderr = m[2].trim();
    if (m[1] !== "-2") return stderr || `pulumi exited with code ${m[1]}`;
    // Code -2 is the SDK's "unknown": its process runner throws on every non-zero exit, with a message of its own
    // followed by the CLI's stderr and stdout. Only when that message is missing did the CLI not run at all.
    const killed = /^Command was killed with (\w+)/.exec(stderr);
    if (killed) return `the pulumi CLI was stopped by ${killed[1]}`;
    const exited = /^Command failed with exit code (\d+): [^\n]*\n([\s\S]*)$/.exec(stderr);
    if (!exited) return `the pulumi CLI could not be run (${stderr.split("\n").pop()})`;
    const errorLines = exited[2].split("\n").filter((line) => line.startsWith("error: "));
    return errorLines.length > 0
        ? errorLines.map((line) => line.slice("error: ".length)).join("\n")
        : `pulumi exited with code ${exited[1]}`;
}
