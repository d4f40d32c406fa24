/**
 * One JSON object per line on stdout/stderr: what container log collectors parse without configuration.
 */
export type Logger = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export const jsonLogger: Logger = (level, msg, fields = {}) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
    if (level === "info") process.stdout.write(line + "\n");
    else process.stderr.write(line + "\n");
};

const SEVERITY = { info: 0, warn: 1, error: 2 } as const;

/** A logger that drops lines below `minimum` (LOG_LEVEL). */
export function levelFilter(minimum: keyof typeof SEVERITY, log: Logger): Logger {
    return (level, msg, fields) => {
        if (SEVERITY[level] >= SEVERITY[minimum]) log(level, msg, fields);
    };
}

/** For tests: nothing is printed. */
export const silentLogger: Logger = () => {};
