/**
 * What a Dockerfile says about the app it builds: its stages, the build args its FROM lines use, exposed ports, the
 * user, the health check. Parsing is dockerfile-ast's (the parser of the Docker language server in VS Code): it knows
 * line continuations, the escape directive, heredocs and JSON forms, which a line-by-line reader gets wrong. `slipway
 * init` reads a repository's Dockerfiles with it, and the stage composition checks each app's targets against it.
 */
import { DockerfileParser, type Instruction } from "dockerfile-ast";

/** One build stage: a FROM line and the instructions up to the next one. */
export interface DockerStage {
    /** Its name (`FROM … AS name`), as written; undefined for an unnamed stage. */
    name?: string;
    /** What it starts from, as written: an image, `${ARG}`, or an earlier stage's name. */
    from: string;
    /** The build args the FROM line uses (`FROM ${BASE}`: `BASE`). */
    fromArgs: string[];
    /** The ports its EXPOSE lines name, in order, without the protocol. */
    exposed: number[];
    /** The argument of its last USER line, as written (`10001:10001`, `node`); undefined without one. */
    user?: string;
    /** The HTTP path its HEALTHCHECK calls (`http://localhost:8080/healthz` → `/healthz`), if it has one and it is a URL. */
    healthcheckPath?: string;
    /** The 1-based line of its FROM. */
    line: number;
}

/** What one Dockerfile says, for {@link parseDockerfile}'s caller. */
export interface DockerfileFacts {
    /** The file, relative to the repository. */
    file: string;
    /** Its stages in order. */
    stages: DockerStage[];
    /** The global ARGs (before the first FROM, the only ones a FROM line may use) and their defaults. */
    globalArgs: Record<string, string | undefined>;
}

/** A Dockerfile that cannot be a Slipway app (no FROM): the message names the file. */
export class DockerfileError extends Error {
    /** @param message what is wrong, starting with the file's path */
    constructor(message: string) {
        super(message);
        this.name = "DockerfileError";
    }
}

/**
 * Parses a Dockerfile into {@link DockerfileFacts}.
 * @param text the file's content
 * @param file its path, for messages
 * @throws DockerfileError when the file has no FROM instruction
 */
export function parseDockerfile(text: string, file: string): DockerfileFacts {
    const dockerfile = DockerfileParser.parse(text);
    const globalArgs: Record<string, string | undefined> = {};
    for (const arg of dockerfile.getInitialARGs()) {
        const property = arg.getProperty();
        if (property) globalArgs[property.getName()] = property.getValue() ?? undefined;
    }
    const stages: DockerStage[] = [];
    for (const instruction of dockerfile.getInstructions()) {
        const keyword = instruction.getKeyword();
        if (keyword === "FROM") {
            const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line);
            stages.push({
                name: from?.getBuildStage() ?? undefined,
                from: from?.getImage() ?? "",
                fromArgs: (from?.getVariables() ?? []).map((v) => v.getName()),
                exposed: [],
                line: instruction.getRange().start.line + 1,
            });
            continue;
        }
        const stage = stages[stages.length - 1];
        if (!stage) continue;
        if (keyword === "EXPOSE") {
            for (const arg of args(instruction)) {
                const port = /^([0-9]+)(\/(tcp|udp))?$/i.exec(arg);
                if (port) stage.exposed.push(Number(port[1]));
            }
        } else if (keyword === "USER") {
            stage.user = args(instruction).join(" ") || undefined;
        } else if (keyword === "HEALTHCHECK") {
            // `HEALTHCHECK NONE` turns an inherited check off; CMD forms carry a URL somewhere in their arguments.
            const content = instruction.getArgumentsContent() ?? "";
            const url = /https?:\/\/[^/\s"',]+(\/[^\s"',]*)?/.exec(content);
            stage.healthcheckPath = /^\s*NONE\s*$/i.test(content) ? undefined : url ? (url[1] ?? "/") : undefined;
        }
    }
    if (stages.length === 0) {
        throw new DockerfileError(
            `${file}: no FROM instruction; a Dockerfile Slipway builds needs at least one stage (FROM <image> AS runtime)`,
        );
    }
    return { file, stages, globalArgs };
}

function args(instruction: Instruction): string[] {
    return instruction.getArguments().map((a) => a.getValue());
}
