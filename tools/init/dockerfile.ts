/**
 * `slipway init`'s view of a repository's Dockerfiles: where they are; what each one says is parsed by
 * components/lib/dockerfile.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

export { DockerfileError, parseDockerfile, type DockerfileFacts, type DockerStage } from "../../components/lib/dockerfile";

/**
 * Folders never searched: dependencies (node_modules, vendor), version control, and Slipway's own local state. A
 * Dockerfile in there belongs to someone else's project.
 */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([".git", "node_modules", "vendor", ".pulumi", ".slipway"]);

/**
 * The first line of the build environment Dockerfile `slipway init` writes: a file that starts with it is Slipway's,
 * not one of the repository's apps, so a second `init --force` finds the same apps as the first.
 */
export const BUILD_ENV_MARKER = "# slipway:build-environment";

/**
 * True for the file names Docker and Podman build by convention: Dockerfile, Dockerfile.<x>, <x>.Dockerfile, Containerfile.
 * @param name a file's name, without its folder
 */
export function isDockerfileName(name: string): boolean {
    return /^(Dockerfile|Containerfile)(\.[^/]+)?$/.test(name) || /^[^/]+\.(Dockerfile|dockerfile)$/.test(name);
}

/**
 * Every Dockerfile under `root`, as paths relative to it with `/` separators, sorted. Skips {@link SKIPPED_DIRS},
 * symbolic links (a link can lead out of the repository or round in a loop) and Slipway's own build environment.
 * @param root the repository's folder
 */
export function findDockerfiles(root: string): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
            const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
            if (entry.isDirectory()) {
                if (!SKIPPED_DIRS.has(entry.name)) walk(rel);
            } else if (entry.isFile() && isDockerfileName(entry.name)) {
                if (!readFileSync(path.join(root, rel), "utf8").startsWith(BUILD_ENV_MARKER)) found.push(rel);
            }
        }
    };
    walk("");
    return found.sort();
}
