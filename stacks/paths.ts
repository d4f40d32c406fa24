import * as path from "node:path";

/** The repository root: where Pulumi.yaml, app/ and build-image/ live. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * A config path (relative to the project root, as docs/configuration.md documents) as docker-build should get it:
 * relative to the working directory the program runs in. Pulumi runs the program from the project
 * root, so `app` stays `app`; staying relative keeps machine-specific absolute paths out of the state,
 * which would otherwise show as a diff on every CI runner.
 */
export function projectPath(configured: string, cwd: string = process.cwd(), root: string = PROJECT_ROOT): string {
    if (path.isAbsolute(configured)) {
        return configured;
    }
    return path.relative(cwd, path.resolve(root, configured)) || ".";
}
