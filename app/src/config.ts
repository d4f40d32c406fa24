/**
 * Service configuration: environment variables validated with zod, plus an optional config file (JSON or YAML)
 * whose path comes from `CONFIG_FILE` — the file the Kubernetes deployment mounts from a ConfigMap.
 *
 * Everything is parsed once at start-up. A bad value stops the process with one message naming every bad
 * variable, because a pod that crash-loops with a clear reason is cheaper than one that runs half-configured.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** A TCP port; 0 is allowed so tests can ask the kernel for an ephemeral one. */
const port = z.coerce.number().int().min(0).max(65535);

/** Milliseconds; capped so a typo cannot outlast any sensible termination grace period. */
const millis = (max: number) => z.coerce.number().int().min(0).max(max);

/** Non-empty text with surrounding blanks removed: an env var set to "" means "not set". */
const text = z.string().trim().min(1);

/** The environment contract of the runtime container (docs/CONTRACTS.md, "Images"). */
export const EnvSchema = z.object({
    SERVICE_NAME: text.default("slipway-app"),
    STAGE: z.enum(["local", "dev", "qa", "prod"]).default("local"),
    /** Address both servers bind; 0.0.0.0 in a container, 127.0.0.1 in tests. */
    HOST: text.default("0.0.0.0"),
    PORT: port.default(8080),
    METRICS_PORT: port.default(9464),
    /** Time between turning not-ready and closing the listener, so load balancers stop sending first. */
    DRAIN_DELAY_MS: millis(120_000).default(5_000),
    /** Upper bound for in-flight requests to finish after the listener closed; then connections are cut. */
    SHUTDOWN_TIMEOUT_MS: millis(120_000).default(10_000),
    CONFIG_FILE: text.optional(),
    /** Least severe level written; stages set it through the stack's `app.env`. */
    LOG_LEVEL: z.enum(["info", "warn", "error"]).default("info"),
    BUILD_NUMBER: text.default("local"),
    GIT_BRANCH: text.default("local"),
    GIT_SHA: text.default("unknown"),
});

/**
 * The optional config file. Strict, so a misspelt key in a ConfigMap is an error rather than silently ignored.
 */
export const FileConfigSchema = z.strictObject({
    /** Greeting returned by `GET /`. */
    message: z.string().default("Hello from Slipway"),
    /** Feature switches, echoed by `GET /` so a rollout of new config is visible from outside. */
    features: z.record(z.string(), z.boolean()).default({}),
    /** Artificial latency added to `GET /`, for demonstrating drains with requests in flight. */
    responseDelayMs: millis(30_000).default(0),
});

export type EnvConfig = z.infer<typeof EnvSchema>;
export type FileConfig = z.infer<typeof FileConfigSchema>;

/** The whole validated configuration. */
export interface Config extends EnvConfig {
    file: FileConfig;
}

/** Thrown for any invalid configuration; `message` is ready to print as is. */
export class ConfigError extends Error {
    override name = "ConfigError";
}

/** One line per problem, each naming the variable (or file key) that is wrong. */
function describeIssues(prefix: string, error: z.ZodError): string {
    return error.issues
        .map((issue) => {
            const key = issue.path.length > 0 ? issue.path.join(".") : "(root)";
            return `  ${prefix}${key}: ${issue.message}`;
        })
        .join("\n");
}

/** Parses a config file's text by its extension; YAML is the fallback since YAML 1.2 reads JSON too. */
export function parseConfigText(path: string, content: string): unknown {
    const ext = extname(path).toLowerCase();
    if (ext === ".json") return JSON.parse(content) as unknown;
    return parseYaml(content) as unknown;
}

/** Reads and validates the config file; an empty file means "all defaults". */
export function loadConfigFile(path: string): FileConfig {
    let raw: unknown;
    try {
        raw = parseConfigText(path, readFileSync(path, "utf8"));
    } catch (err) {
        throw new ConfigError(`invalid configuration:\n  CONFIG_FILE (${path}): ${(err as Error).message}`);
    }
    const result = FileConfigSchema.safeParse(raw ?? {});
    if (!result.success) {
        throw new ConfigError(`invalid configuration in CONFIG_FILE (${path}):\n${describeIssues("", result.error)}`);
    }
    return result.data;
}

/**
 * Validates `env` (normally `process.env`) and loads the config file it names.
 * @throws ConfigError naming every bad variable at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
    // Empty strings count as unset, which is how Kubernetes renders an env entry with no value.
    const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
    const result = EnvSchema.safeParse(present);
    if (!result.success) {
        throw new ConfigError(`invalid configuration:\n${describeIssues("", result.error)}`);
    }
    const file = result.data.CONFIG_FILE ? loadConfigFile(result.data.CONFIG_FILE) : FileConfigSchema.parse({});
    return { ...result.data, file };
}
