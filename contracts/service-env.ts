/**
 * The environment Slipway gives every app's container: these variables are set by the platform itself, so stack config
 * (`slipway:app.env`, `slipway:secretEnv`) may not shadow them. Any other name is the app's own: the platform checks
 * only the name, never the value (an app validates its own settings at start-up, as the sample does in
 * app/src/config.ts). docs/app-contract.md describes each variable.
 */
export const SLIPWAY_ENV = [
    "PORT",
    "METRICS_PORT",
    "SERVICE_NAME",
    "STAGE",
    "BUILD_NUMBER",
    "GIT_BRANCH",
    "GIT_SHA",
    "DRAIN_DELAY_MS",
    "SHUTDOWN_TIMEOUT_MS",
    "CONFIG_FILE",
] as const;

/** One of {@link SLIPWAY_ENV}. */
export type SlipwayEnvName = (typeof SLIPWAY_ENV)[number];

/** True for a variable name Slipway sets itself. */
export function isSlipwayEnv(name: string): name is SlipwayEnvName {
    return (SLIPWAY_ENV as readonly string[]).includes(name);
}

/**
 * Names of the container's ports, which the Service, the probes, the NetworkPolicy and the ServiceMonitor use:
 * `http` always, `metrics` only where the app has a metrics port.
 */
export const APP_PORT_NAMES = { http: "http", metrics: "metrics" } as const;
