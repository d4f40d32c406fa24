/**
 * The grammars of the app contract (docs/app-contract.md): what a name or value the app brings must look like. The
 * stack config schema and the components both check with these, so a value one accepts the other never refuses.
 */

/** An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A Dockerfile `ARG` name Slipway passes: `[A-Za-z_][A-Za-z0-9_]*`. */
export const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A Dockerfile stage name (`FROM … AS <name>`), usable as a build target. */
export const TARGET_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** A Prometheus metric name. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A Prometheus label name (names starting with `__` are reserved). */
export const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/** An HTTP probe path: absolute, no blanks. */
export const PROBE_PATH = /^\/\S*$/;

/** The lowest container port an app may use: the container runs as a non-root user. */
export const MIN_APP_PORT = 1024;

/** True for a whole-number port an app may listen on (1024-65535). */
export function isAppPort(port: number): boolean {
    return Number.isInteger(port) && port >= MIN_APP_PORT && port <= 65535;
}

/** True for a numeric user ID a container may run as: a whole number, never 0 (root). */
export function isNonRootUid(uid: number): boolean {
    return Number.isInteger(uid) && uid >= 1 && uid <= 2147483647;
}

/** Build args Slipway sets itself on every app build, besides the two image args whose names are configurable. */
export const SLIPWAY_BUILD_ARGS = ["BUILD_NUMBER", "GIT_BRANCH", "GIT_SHA"] as const;
