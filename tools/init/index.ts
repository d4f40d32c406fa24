/**
 * `slipway init`: finds the repository's Dockerfiles, decides the app's settings from the one it deploys, and writes a
 * Slipway project for it, saying each assumption. Writes nothing when anything is wrong (bad input, a file that
 * exists without --force).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { refused } from "../errors";
import {
    assembleProject,
    installCommand,
    PLACEHOLDER_REGISTRY,
    SLIPWAY_INSTALL,
    type InitVersions,
    type WorkflowTemplates,
} from "./assemble";
import { decideSettings, InitInputError } from "./decide";
import { DockerfileError, findDockerfiles, parseDockerfile } from "./dockerfile";

/** Options of {@link init}, as the command line gives them. */
export interface InitOptions {
    /** The repository's folder (`--dir`), relative to the working directory; default the working directory. */
    dir?: string;
    /** The app's Dockerfile (`--dockerfile`), relative to `dir`; needed where there are several. */
    dockerfile?: string;
    /** The app's name (`--name`); default derived from the Dockerfile's folder. */
    name?: string;
    /** Print what would be written; write nothing. */
    dryRun: boolean;
    /** Overwrite files that exist. */
    force: boolean;
}

/** Where init reads and writes. */
export interface InitIo {
    /** The working directory `--dir` is relative to. */
    cwd: string;
    /** Standard output. */
    out: (text: string) => void;
    /** This package's folder, where the workflow templates and package.json are found. */
    packageDir: string;
}

/**
 * Runs `slipway init`.
 * @param options the command line's options
 * @param io the working directory, standard output and this package's folder
 * @throws ToolError (refused) for bad input, several Dockerfiles without --dockerfile, or files that exist without --force
 */
export function init(options: InitOptions, io: InitIo): void {
    const root = path.resolve(io.cwd, options.dir ?? ".");
    if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw refused(`--dir ${options.dir}: no such folder`);
    const dockerfile = chooseDockerfile(root, options.dockerfile);

    let decision;
    try {
        const facts = parseDockerfile(readFileSync(path.join(root, dockerfile), "utf8"), dockerfile);
        decision = decideSettings(facts, { name: options.name, projectDirName: path.basename(root) });
    } catch (err) {
        if (err instanceof DockerfileError || err instanceof InitInputError) throw refused(err.message);
        throw err;
    }
    const versions = readVersions(io.packageDir);
    const hasPackageJson = existsSync(path.join(root, "package.json"));
    const files = assembleProject(decision.settings, readTemplates(io.packageDir), versions, !hasPackageJson);

    const existing = [...files.keys()].filter((file) => existsSync(path.join(root, file)));
    if (existing.length > 0 && !options.force && !options.dryRun) {
        throw refused(`these files exist (nothing written; --force overwrites them):\n  ${existing.join("\n  ")}`);
    }

    const say = (line = "") => io.out(`${line}\n`);
    say(`${options.dryRun ? "Would write" : "Writing"} a Slipway project in ${root} for ${dockerfile}. Assumed:`);
    for (const line of decision.assumptions) say(`  ${line}`);
    if (decision.warnings.length > 0) {
        say("Check before the first deploy:");
        for (const line of decision.warnings) say(`  - ${line}`);
    }
    say("Also:");
    say(
        `  - qa and prod pin a placeholder image on ${PLACEHOLDER_REGISTRY} until the first promotion; set slipway:pullRegistry to dev's ECR host`,
    );
    say(
        "  - the local stage serves on NodePort 30080, as Slipway's own sample does: choose another (slipway:app.nodePort) where another project on that cluster has it",
    );
    say(
        "  - in each Pulumi.<stage>.yaml, edit the block between '---- Where <stage> runs' and '---- end of where <stage> runs' (docs/adopt.md)",
    );
    if (hasPackageJson) say("  - package.json exists and is left alone: add the dependencies with the npm install below");

    if (options.dryRun) {
        for (const [file, content] of files) {
            const note = existing.includes(file) ? " (exists: --force overwrites it)" : "";
            say(`\n--- ${file}${note}`);
            io.out(content);
        }
    } else {
        for (const [file, content] of files) {
            const target = path.join(root, file);
            mkdirSync(path.dirname(target), { recursive: true });
            writeFileSync(target, content, file.endsWith(".sh") ? { mode: 0o755 } : {});
            say(`wrote ${file}`);
        }
    }
    say("");
    say(options.dryRun ? "Then:" : "Next:");
    const listed = hasPackageJson ? listedPackages(path.join(root, "package.json")) : new Set<string>();
    say(`  ${hasPackageJson ? installCommand(versions, listed) || "npm install" : "npm install"}`);
    if (!listed.has("slipway")) say(`  ${SLIPWAY_INSTALL}`);
    say("  # keep the local stage's state out of git: add .pulumi/ to .gitignore");
    say("  # the local stage needs a registry on 127.0.0.1:5001, a buildx builder named slipway and a local kube context;");
    say("  # `slipway` does not start them (docs/local.md). Its state lives in ./.pulumi under the empty passphrase:");
    say("  mkdir -p .pulumi && PULUMI_BACKEND_URL=file://$PWD/.pulumi PULUMI_CONFIG_PASSPHRASE= pulumi stack init local");
    say("  npx slipway up --stack local");
    say("  # dev, qa and prod on EKS and ECR: repository variables, stacks and the first deploy in docs/adopt.md");
    say(`  pulumi stack init dev && SLIPWAY_BUILD_NUMBER=0 npx slipway up --stack dev`);
}

function listedPackages(file: string): Set<string> {
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { dependencies?: object; devDependencies?: object };
    return new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
}

function chooseDockerfile(root: string, chosen: string | undefined): string {
    if (chosen !== undefined) {
        const rel = path.relative(root, path.resolve(root, chosen)).split(path.sep).join("/");
        if (rel.startsWith("../") || path.isAbsolute(rel)) throw refused(`--dockerfile ${chosen}: not inside ${root}`);
        if (!isFile(path.join(root, rel))) throw refused(`--dockerfile ${chosen}: no such file in ${root}`);
        return rel;
    }
    const found = findDockerfiles(root);
    if (found.length === 0) {
        throw refused(
            `no Dockerfile in ${root} (node_modules, .git and vendor folders are not searched): add one, or name it with --dockerfile`,
        );
    }
    if (found.length > 1) {
        throw refused(
            `${found.length} Dockerfiles in ${root}; a Slipway stack deploys one app today, so choose it with --dockerfile <path> ` +
                `(nothing written):\n  ${found.join("\n  ")}`,
        );
    }
    return found[0]!;
}

/**
 * Slipway's own workflows: this repository's `.github/` when run from source, `dist/templates/github/` in the
 * installed package (the build copies them there).
 * @param packageDir this package's folder ({@link findPackageDir})
 */
export function readTemplates(packageDir: string): WorkflowTemplates {
    // A source checkout's own .github first: its dist/ may be an older build.
    const source = path.join(packageDir, ".github");
    const base = existsSync(path.join(source, "workflows", "main.yml")) ? source : path.join(packageDir, "dist", "templates", "github");
    const read = (file: string) => readFileSync(path.join(base, file), "utf8");
    return {
        main: read("workflows/main.yml"),
        pr: read("workflows/pr.yml"),
        rollback: read("workflows/rollback.yml"),
        kubeContext: read("scripts/kube-context.sh"),
    };
}

/**
 * The versions package.json pins, from this package's own package.json.
 * @param packageDir this package's folder ({@link findPackageDir})
 */
export function readVersions(packageDir: string): InitVersions {
    const pkg = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
        version: string;
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
    };
    return {
        slipway: pkg.version,
        pulumi: pkg.dependencies["@pulumi/pulumi"]!,
        typescript: pkg.devDependencies.typescript!,
        tsNode: pkg.devDependencies["ts-node"]!,
        typesNode: pkg.devDependencies["@types/node"]!,
    };
}

/**
 * This package's folder: the nearest folder above `fromDir` whose package.json is Slipway's.
 * @param fromDir where to start: the calling module's folder (`tools/` from source, `dist/tools/` installed)
 */
export function findPackageDir(fromDir: string): string {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "slipway") return dir;
        if (path.dirname(dir) === dir) throw new Error(`Slipway's package.json not found above ${fromDir}`);
    }
}

/** True for a regular file (false for a folder or nothing), so a folder given as a file is refused, not read. */
function isFile(file: string): boolean {
    return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
