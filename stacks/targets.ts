/**
 * Every app the stage builds must name Dockerfile stages that exist: checked before any resource is created, so a
 * misspelt target fails the update naming the key instead of failing its build halfway through the deploy.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { DockerfileError, parseDockerfile, type DockerfileFacts } from "../components/lib/dockerfile";
import type { StackConfig } from "./config";

/** A built image's settings, as `slipway:image` and each `slipway:apps.<name>.image` give them. */
type BuiltImage = Extract<StackConfig["image"], { source: "build" }>;

/**
 * The problems of one app's targets against its Dockerfile's stages, as `<key>: <what is wrong>` lines.
 * @param key the config key of the app's image (`slipway:image`, `slipway:apps.web.image`)
 * @param image the app's image settings
 * @param facts its Dockerfile, parsed
 */
export function targetProblems(key: string, image: BuiltImage, facts: DockerfileFacts): string[] {
    const stages = facts.stages.map((s) => s.name).filter((name): name is string => name !== undefined);
    // BuildKit matches a target to a stage name case-insensitively.
    const named = new Set(stages.map((name) => name.toLowerCase()));
    const wanted: [string, string][] = [
        ["runtime", image.targets.runtime],
        ["test", image.targets.test],
        ...(image.exportArtifactsTo === undefined ? [] : ([["artifact", image.targets.artifact]] as [string, string][])),
    ];
    return wanted
        .filter(([, target]) => !named.has(target.toLowerCase()))
        .map(
            ([role, target]) =>
                `${key}.targets.${role}: ${facts.file} has no stage ${target} (its stages: ${stages.join(", ") || "none named"}); ` +
                `name one of them, or add FROM … AS ${target}`,
        );
}

/**
 * The problems of every app the stage builds: a Dockerfile that is missing or unreadable, or a target it lacks.
 * @param config the stack's validated config
 * @param at a config path as the build gets it (relative to the project's folder)
 */
export function buildTargetProblems(config: StackConfig, at: (configured: string) => string): string[] {
    const built: [string, BuiltImage][] = [
        ...(config.image.source === "build" ? [["slipway:image", config.image] as [string, BuiltImage]] : []),
        ...Object.entries(config.apps).flatMap(([name, app]) =>
            app.image.source === "build" ? [[`slipway:apps.${name}.image`, app.image] as [string, BuiltImage]] : [],
        ),
    ];
    return built.flatMap(([key, image]) => {
        const file = path.join(at(image.context), image.dockerfile);
        if (!existsSync(file)) {
            return [`${key}.dockerfile: ${file} does not exist (image.context ${image.context}, dockerfile ${image.dockerfile})`];
        }
        try {
            return targetProblems(key, image, parseDockerfile(readFileSync(file, "utf8"), file));
        } catch (err) {
            if (err instanceof DockerfileError) return [`${key}.dockerfile: ${err.message}`];
            throw err;
        }
    });
}
