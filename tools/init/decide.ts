/**
 * From one Dockerfile's facts to the app's Slipway settings, with every assumption said in words, as `skaffold init`
 * does: a person reads them once and corrects the stack files where a guess is wrong.
 */
import * as path from "node:path";
import { APP_DEFAULTS, BUILD_DEFAULTS } from "../../components/defaults";
import { BUILD_ARG_NAME, digestPinnedImage, isNonRootUid, MIN_APP_PORT, PROBE_PATH, TARGET_NAME } from "../../contracts";
import { DockerfileError, type DockerfileFacts, type DockerStage } from "./dockerfile";

/** A DNS-1123 label, as `slipway:app.name` must be (the schema's rule, stacks/config/primitives.ts). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The app settings `slipway init` writes into the stack files. */
export interface InitSettings {
    /** `slipway:app.name` and the Pulumi project's name. */
    name: string;
    /** `slipway:image.context`: the Dockerfile's folder, relative to the project (`.` for the project's own folder). */
    context: string;
    /** `slipway:image.dockerfile`, relative to the context. */
    dockerfile: string;
    /** `slipway:image.targets`: runtime always; test always (the runtime target where there is no test stage); artifact only where a stage has that name. */
    targets: { runtime: string; test: string; artifact?: string };
    /** `slipway:image.buildImageArg` / `runtimeBaseImageArg`: only where they differ from Slipway's defaults. */
    buildImageArg?: string;
    /** See {@link InitSettings.buildImageArg}. */
    runtimeBaseImageArg?: string;
    /** `slipway:image.runtimeBaseImage`, where the Dockerfile's default for the runtime base arg is pinned by digest. */
    runtimeBaseImage?: string;
    /** `slipway:buildImage.baseImage`, where the Dockerfile's default for the build environment arg is pinned by digest. */
    buildBaseImage?: string;
    /** `slipway:app.port`. */
    port: number;
    /** `slipway:app.metricsPort`: a second exposed port, else `false` (no metrics port). */
    metricsPort: number | false;
    /** The probe path of all three probes, from HEALTHCHECK; undefined keeps Slipway's defaults (/healthz, /readyz). */
    probePath?: string;
    /** `slipway:app.runAsUser`. */
    runAsUser: number;
    /** `slipway:app.runAsGroup`, where USER names a numeric group other than the user's. */
    runAsGroup?: number;
}

/** What {@link decideSettings} concluded: the settings, each assumption in one line, and what needs the user's hand. */
export interface InitDecision {
    /** The settings to write. */
    settings: InitSettings;
    /** One line per assumption, as printed: `runtime target: runtime (last stage)`. */
    assumptions: string[];
    /** What the user must change for the app to run as written (printed apart, after the assumptions). */
    warnings: string[];
}

/** Options of {@link decideSettings}. */
export interface DecideOptions {
    /** `--name`: the app's name; else derived from the Dockerfile's folder (or `projectDirName` for a top-level one). */
    name?: string;
    /** The project folder's own name, for an app whose Dockerfile sits at the top. */
    projectDirName: string;
}

/** Raised for input init cannot turn into a project (bad --name, an unnamed final stage): names the key or file. */
export class InitInputError extends Error {
    /** @param message what is wrong, starting with the option it came from */
    constructor(message: string) {
        super(message);
        this.name = "InitInputError";
    }
}

/**
 * Decides the app's settings from its Dockerfile's facts.
 * @param facts what {@link parseDockerfile} read from the app's Dockerfile
 * @param options the app's name and the project folder's name
 * @throws InitInputError for a name that is not a DNS label, or a runtime stage without a name (a build target must have one)
 */
export function decideSettings(facts: DockerfileFacts, options: DecideOptions): InitDecision {
    const assumptions: string[] = [];
    const warnings: string[] = [];
    const file = facts.file;
    const dir = path.posix.dirname(file);

    const name = decideName(dir, options, assumptions);
    assumptions.push(`build context: ${dir} (the Dockerfile's folder), Dockerfile: ${path.posix.basename(file)}`);

    const named = (wanted: string) => facts.stages.find((s) => s.name?.toLowerCase() === wanted);
    const last = facts.stages[facts.stages.length - 1]!;
    const runtimeStage = named("runtime") ?? last;
    if (runtimeStage.name === undefined) {
        throw new DockerfileError(
            `${file}: the last stage (FROM on line ${runtimeStage.line}) has no name, and Slipway builds a named target: ` +
                `write \`FROM ${runtimeStage.from} AS runtime\` there`,
        );
    }
    if (!TARGET_NAME.test(runtimeStage.name)) {
        throw new DockerfileError(
            `${file}: stage name ${JSON.stringify(runtimeStage.name)} (line ${runtimeStage.line}) is not a target name Slipway accepts (${TARGET_NAME})`,
        );
    }
    assumptions.push(`runtime target: ${runtimeStage.name} (${runtimeStage === last ? "last stage" : "the stage named runtime"})`);
    const testStage = named("test");
    const artifactStage = named("artifact");
    const test = testStage?.name ?? runtimeStage.name;
    assumptions.push(
        testStage
            ? `test target: ${test} (the stage named test; CI's app-tests job builds it)`
            : `test target: ${test} (no stage named test: CI's app-tests job builds the runtime target)`,
    );
    assumptions.push(
        artifactStage?.name
            ? `artifact target: ${artifactStage.name} (the stage named artifact; exported only where image.exportArtifactsTo is set)`
            : "artifact target: none (no stage named artifact)",
    );

    const chain = stageChain(facts.stages, runtimeStage);
    const { port, metricsPort } = decidePorts(chain, assumptions, warnings);
    const probePath = decideProbes(chain, assumptions, warnings);
    const { runAsUser, runAsGroup } = decideUser(file, runtimeStage.name, chain, assumptions, warnings);
    const images = decideImageArgs(facts, chain, assumptions, warnings);

    return {
        settings: {
            name,
            context: dir,
            dockerfile: path.posix.basename(file),
            targets: { runtime: runtimeStage.name, test, ...(artifactStage?.name ? { artifact: artifactStage.name } : {}) },
            ...images,
            port,
            metricsPort,
            ...(probePath ? { probePath } : {}),
            runAsUser,
            ...(runAsGroup !== undefined ? { runAsGroup } : {}),
        },
        assumptions,
        warnings,
    };
}

function decideName(dir: string, options: DecideOptions, assumptions: string[]): string {
    if (options.name !== undefined) {
        if (!DNS_LABEL.test(options.name) || options.name.length > 63) {
            throw new InitInputError(
                `--name ${JSON.stringify(options.name)}: slipway:app.name must be a DNS-1123 label (lowercase letters, digits and '-', ` +
                    "starting and ending with a letter or digit, at most 63 characters)",
            );
        }
        assumptions.push(`app name: ${options.name} (--name)`);
        return options.name;
    }
    const source = dir === "." ? options.projectDirName : path.posix.basename(dir);
    const derived = source
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 63)
        .replace(/-+$/, "");
    if (!DNS_LABEL.test(derived)) {
        throw new InitInputError(`cannot make an app name from the folder ${JSON.stringify(source)}: name the app with --name <dns-label>`);
    }
    assumptions.push(`app name: ${derived} (${dir === "." ? "the project's folder" : "the Dockerfile's folder"}; --name to change)`);
    return derived;
}

/**
 * The runtime stage and the stages it is built FROM, nearest first: what it inherits USER, EXPOSE and HEALTHCHECK from.
 * @param stages every stage of the Dockerfile, in order
 * @param stage the stage to start from
 */
export function stageChain(stages: DockerStage[], stage: DockerStage): DockerStage[] {
    const chain = [stage];
    for (let current = stage; ;) {
        const index = stages.indexOf(current);
        // A FROM names an earlier stage only (case-insensitively); a later or unknown name is an image.
        const parent = stages.slice(0, index).find((s) => s.name !== undefined && s.name.toLowerCase() === current.from.toLowerCase());
        if (!parent || chain.includes(parent)) return chain;
        chain.push(parent);
        current = parent;
    }
}

function decidePorts(chain: DockerStage[], assumptions: string[], warnings: string[]): { port: number; metricsPort: number | false } {
    const exposing = chain.find((s) => s.exposed.length > 0);
    const exposed = exposing?.exposed ?? [];
    const first = exposed[0];
    let port = APP_DEFAULTS.port;
    if (first === undefined) {
        assumptions.push(`port ${port} (no EXPOSE: Slipway's default; the app must listen on $PORT)`);
    } else if (first < MIN_APP_PORT || first > 65535) {
        assumptions.push(`port ${port} (EXPOSE ${first} is below ${MIN_APP_PORT}, which a non-root process cannot bind)`);
        warnings.push(
            `EXPOSE ${first}: the app runs as a non-root user and must listen on ${port} ($PORT), or set slipway:app.port (${MIN_APP_PORT}-65535)`,
        );
    } else {
        port = first;
        assumptions.push(`port ${port} (EXPOSE ${first})`);
    }
    const second = exposed.slice(1).find((p) => p >= MIN_APP_PORT && p <= 65535 && p !== port);
    if (second !== undefined) {
        assumptions.push(`metrics port ${second} (the second EXPOSE port; Prometheus scrapes /metrics there)`);
        return { port, metricsPort: second };
    }
    assumptions.push("metrics port: none (one exposed port; set slipway:app.metricsPort if the app serves /metrics on another)");
    return { port, metricsPort: false };
}

function decideProbes(chain: DockerStage[], assumptions: string[], warnings: string[]): string | undefined {
    const path = chain.find((s) => s.healthcheckPath !== undefined)?.healthcheckPath;
    if (path !== undefined && PROBE_PATH.test(path)) {
        assumptions.push(`probes: startup, readiness and liveness on ${path} (HEALTHCHECK)`);
        return path;
    }
    const { startup, readiness } = APP_DEFAULTS.probes;
    assumptions.push(
        `probes: Slipway's defaults, ${startup.path} (startup, liveness) and ${readiness.path} (readiness) (no HEALTHCHECK with a URL)`,
    );
    warnings.push(
        `the app must answer ${startup.path} and ${readiness.path} on its port with 2xx/3xx, or set slipway:app.probes.<startup|readiness|liveness>.path`,
    );
    return undefined;
}

function decideUser(
    file: string,
    runtime: string,
    chain: DockerStage[],
    assumptions: string[],
    warnings: string[],
): { runAsUser: number; runAsGroup?: number } {
    const fallback = APP_DEFAULTS.runAsUser;
    const user = chain.find((s) => s.user !== undefined)?.user;
    const [uid, gid] = (user ?? "").split(":");
    const numeric = (text: string | undefined) => (text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : undefined);
    const userId = numeric(uid);
    const fix =
        `the app contract requires a non-root numeric user: add \`USER ${fallback}:${fallback}\` to stage ${runtime} of ${file} ` +
        `(the image's files readable by it), or set slipway:app.runAsUser to the image's own non-root numeric user`;
    if (user === undefined || uid === "root" || userId === 0) {
        assumptions.push(
            `user ${fallback} (${user === undefined ? "no USER: the image runs as root" : `USER ${user} is root`}; Slipway's default)`,
        );
        warnings.push(fix);
        return { runAsUser: fallback };
    }
    if (userId === undefined || !isNonRootUid(userId)) {
        assumptions.push(`user ${fallback} (USER ${user} is not a numeric user ID; Slipway's default)`);
        warnings.push(
            `USER ${user} is a name: Kubernetes runs the pod as slipway:app.runAsUser (${fallback}); set it to that user's ID ` +
                `(\`id -u ${uid}\` in the image), or write the numeric \`USER <uid>:<gid>\` in ${file}`,
        );
        return { runAsUser: fallback };
    }
    const groupId = numeric(gid);
    assumptions.push(`user ${userId} (USER ${user})`);
    if (gid !== undefined && groupId === undefined) {
        warnings.push(
            `USER ${user}: the group is a name; the pod's group is the user ID ${userId} unless slipway:app.runAsGroup says otherwise`,
        );
    }
    return groupId !== undefined && groupId !== userId ? { runAsUser: userId, runAsGroup: groupId } : { runAsUser: userId };
}

/** Which of the Dockerfile's FROM build args carry the runtime base and the build environment Slipway passes in. */
function decideImageArgs(
    facts: DockerfileFacts,
    chain: DockerStage[],
    assumptions: string[],
    warnings: string[],
): Pick<InitSettings, "buildImageArg" | "runtimeBaseImageArg" | "runtimeBaseImage" | "buildBaseImage"> {
    const out: Pick<InitSettings, "buildImageArg" | "runtimeBaseImageArg" | "runtimeBaseImage" | "buildBaseImage"> = {};
    const base = chain[chain.length - 1]!;
    const pinned = (arg: string) => {
        const value = facts.globalArgs[arg];
        return value !== undefined && digestPinnedImage.safeParse(value).success ? value : undefined;
    };
    const runtimeArg = base.fromArgs.find((a) => BUILD_ARG_NAME.test(a));
    let runtimeBaseImageArg: string = BUILD_DEFAULTS.runtimeBaseImageArg;
    if (runtimeArg) {
        runtimeBaseImageArg = runtimeArg;
        const image = pinned(runtimeArg);
        if (image) out.runtimeBaseImage = image;
        assumptions.push(
            `runtime base: build arg ${runtimeArg} (FROM line ${base.line}), ` +
                (image ? `${image} (its default in the Dockerfile)` : "Slipway's default node:24-bookworm-slim by digest"),
        );
        if (!image) {
            warnings.push(
                `set slipway:image.runtimeBaseImage to your runtime base image pinned by digest (<image>@sha256:…): Slipway passes it as ${runtimeArg}; ` +
                    `CI's test build passes the same value (${runtimeArg} in the app-tests step of .github/workflows/slipway-main.yml)`,
            );
        }
    } else {
        assumptions.push(`runtime base: ${base.from} (FROM line ${base.line}, not a build arg: Slipway's runtimeBaseImage is not used)`);
        if (!digestPinnedImage.safeParse(base.from).success && base.from !== "scratch") {
            warnings.push(
                `FROM ${base.from} (line ${base.line} of ${facts.file}) is not pinned by digest: pin it (<image>@sha256:…) so every build runs the same base`,
            );
        }
    }
    const otherArgs = [...new Set(facts.stages.flatMap((s) => s.fromArgs))].filter(
        (a) => a !== runtimeBaseImageArg && BUILD_ARG_NAME.test(a),
    );
    let buildImageArg: string = BUILD_DEFAULTS.buildImageArg;
    if (otherArgs.length > 0) {
        buildImageArg = otherArgs[0]!;
        const image = pinned(buildImageArg);
        if (image) out.buildBaseImage = image;
        assumptions.push(
            `build environment: build arg ${buildImageArg} carries it by digest; it is built FROM ` +
                (image ? `${image} (the arg's default)` : "Slipway's default node:24-bookworm-slim by digest") +
                " (slipway:buildImage)",
        );
        if (otherArgs.length > 1) {
            warnings.push(
                `FROM lines also use ${otherArgs.slice(1).join(", ")}: Slipway passes no value for them; give them defaults pinned by digest`,
            );
        }
    } else {
        // The arg must differ from the runtime one (the schema refuses two equal names) even when neither is used.
        if (buildImageArg === runtimeBaseImageArg) buildImageArg = `SLIPWAY_${buildImageArg}`;
        assumptions.push(
            `build environment: unused by this Dockerfile (no other FROM build arg); Slipway still builds and passes it as ${buildImageArg}`,
        );
    }
    if (buildImageArg !== BUILD_DEFAULTS.buildImageArg) out.buildImageArg = buildImageArg;
    if (runtimeBaseImageArg !== BUILD_DEFAULTS.runtimeBaseImageArg) out.runtimeBaseImageArg = runtimeBaseImageArg;
    return out;
}
