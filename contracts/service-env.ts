/**
 * The values the sample service accepts for the environment variables a stage sets in `slipway:app.env`: the stack
 * config refuses anything else before a pod could crash-loop on it. The service is built from `app/` alone and cannot
 * import this module; test/app-contract.test.ts checks this table against the service's own schema
 * (app/src/config.ts, `EnvSchema`), so the two cannot drift.
 */
export const SERVICE_ENV_VALUES: Readonly<Record<string, readonly string[]>> = {
    /** Least severe level the service logs. */
    LOG_LEVEL: ["info", "warn", "error"],
};
