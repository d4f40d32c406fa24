/**
 * The files `slipway init` writes, as text: Pulumi.yaml, the program, its tsconfig, package.json (only where the
 * project has none), the four stack files, a build environment, and the GitHub workflows made from Slipway's own.
 * Pure: the caller reads the workflow templates and writes the result.
 */
import { isMap, isScalar, isSeq, parseDocument, visit, type Document, type YAMLMap } from "yaml";
import { BUILD_DEFAULTS } from "../../components/defaults";
import { STACK_OUTPUTS } from "../../contracts";
import type { InitSettings } from "./decide";
import { BUILD_ENV_MARKER } from "./dockerfile";

/** The build environment's folder in the project: Slipway's build image is built from its Dockerfile. */
export const BUILD_ENV_DIR = "slipway/build-env";

/** The program's file, named in Pulumi.yaml's `main:`; a name of its own, so a project's index.ts stays its own. */
export const PROGRAM_FILE = "slipway.ts";

/** The program's tsconfig, named in Pulumi.yaml; its own name, so a project's tsconfig.json stays its own. */
export const PROGRAM_TSCONFIG = "tsconfig.slipway.json";

/**
 * Pulumi.local.yaml's `encryptionsalt`, made for the empty passphrase the local stage uses (scripts/local-env.sh): the
 * shipped Pulumi.local.yaml's own line, which a test compares with this one.
 */
export const LOCAL_ENCRYPTION_SALT = "v1:OZTTperkLmA=:v1:XFhQeNb0peRLmlel:cxi4J7gsgoGmvoBv/GtmeK1FGwYNbA==";

/**
 * The dev registry host that qa and prod name until you set yours, and the digest of the placeholder pin they run until
 * the first promotion writes a real one (the shipped stack files' placeholders).
 */
export const PLACEHOLDER_REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const PLACEHOLDER_DIGEST = "sha256:3f1c7c3bd6c0e0c4b1c7b1b8e0f5a8d2c9e6f4a1b3d5c7e9f0a2b4c6d8e0f2a4";

/** The versions the written package.json and install command name. */
export interface InitVersions {
    /** This package's version. */
    slipway: string;
    /** `@pulumi/pulumi`, as this package depends on it (the CI workflows' PULUMI_VERSION too). */
    pulumi: string;
    /** typescript, ts-node and @types/node: Pulumi runs a TypeScript program through ts-node. */
    typescript: string;
    /** See {@link InitVersions.typescript}. */
    tsNode: string;
    /** See {@link InitVersions.typescript}. */
    typesNode: string;
}

/** Slipway's own workflow files and the kube context script, as text (the shipped `.github/` of this repository). */
export interface WorkflowTemplates {
    /** `.github/workflows/main.yml`. */
    main: string;
    /** `.github/workflows/pr.yml`. */
    pr: string;
    /** `.github/workflows/rollback.yml`. */
    rollback: string;
    /** `.github/scripts/kube-context.sh`. */
    kubeContext: string;
}

/** The written workflows' file names: their own, so a project's main.yml or pr.yml stays its own. */
export const WORKFLOW_FILES = {
    main: ".github/workflows/slipway-main.yml",
    pr: ".github/workflows/slipway-pr.yml",
    rollback: ".github/workflows/slipway-rollback.yml",
    kubeContext: ".github/scripts/kube-context.sh",
} as const;

/** A workflow template that no longer has a part init edits (the shipped workflow changed): a bug of this package. */
export class TemplateError extends Error {
    /** @param message which template and which part */
    constructor(message: string) {
        super(message);
        this.name = "TemplateError";
    }
}

/**
 * Every file of the project, path (relative to the project, `/` separators) → content.
 * @param settings the app's settings ({@link decideSettings})
 * @param templates Slipway's own workflows, adapted here
 * @param versions the versions package.json names
 * @param withPackageJson false where the project already has a package.json (it is left alone)
 */
export function assembleProject(
    settings: InitSettings,
    templates: WorkflowTemplates,
    versions: InitVersions,
    withPackageJson: boolean,
): Map<string, string> {
    const files = new Map<string, string>();
    files.set("Pulumi.yaml", pulumiYaml(settings.name));
    files.set(PROGRAM_FILE, program(settings.name));
    files.set(PROGRAM_TSCONFIG, tsconfig());
    if (withPackageJson) files.set("package.json", packageJson(settings.name, versions));
    for (const stage of ["local", "dev", "qa", "prod"] as const) files.set(`Pulumi.${stage}.yaml`, stackFile(stage, settings));
    files.set(`${BUILD_ENV_DIR}/Dockerfile`, buildEnvDockerfile());
    const workflows = adaptWorkflows(templates, settings, versions);
    for (const key of Object.keys(WORKFLOW_FILES) as (keyof typeof WORKFLOW_FILES)[]) files.set(WORKFLOW_FILES[key], workflows[key]);
    return files;
}

function pulumiYaml(name: string): string {
    return `name: ${q(name)}
description: ${name} on Slipway - its image by digest and one Kubernetes stage per stack (written by slipway init).
# The program is ${PROGRAM_FILE}; Pulumi runs it from this folder, so the build contexts in Pulumi.<stage>.yaml are
# relative to it.
main: ${PROGRAM_FILE}
runtime:
  name: nodejs
  options:
    typescript: true
    tsconfig: ${PROGRAM_TSCONFIG}
    packagemanager: npm
`;
}

/**
 * The program: a few lines on the installed package. Its exports are the stack outputs the slipway CLI reads.
 * @param name the app's name, for its header comment
 */
export function program(name: string): string {
    return `// The Pulumi program of ${name}, written by \`slipway init\`. Slipway reads the stack's slipway:* config once
// (Pulumi.<stage>.yaml; bad config stops here, before any resource) and composes the stage: registry, build
// environment, app image by digest, Kubernetes workload. CI passes the build's number, branch and commit.
import * as pulumi from "@pulumi/pulumi";
import * as slipway from "slipway";

const config = slipway.config.parseStackConfig(slipway.config.decodeProjectConfig(pulumi.runtime.allConfig()));
const stage = slipway.stage.defineStage(config, {
    buildNumber: process.env.SLIPWAY_BUILD_NUMBER ?? "local",
    gitBranch: process.env.SLIPWAY_GIT_BRANCH ?? "local",
    gitSha: process.env.SLIPWAY_GIT_SHA ?? "unknown",
});

// The stack outputs \`slipway promote\`, \`rollback\` and \`status\` read.
export const { ${STACK_OUTPUTS.join(", ")} } = stage;
`;
}

function tsconfig(): string {
    return (
        JSON.stringify(
            {
                compilerOptions: {
                    target: "ES2022",
                    module: "commonjs",
                    moduleResolution: "node",
                    strict: true,
                    esModuleInterop: true,
                    skipLibCheck: true,
                    types: ["node"],
                },
                files: [PROGRAM_FILE],
            },
            null,
            2,
        ) + "\n"
    );
}

function packageJson(name: string, versions: InitVersions): string {
    return (
        JSON.stringify(
            {
                name,
                private: true,
                // Not Slipway itself: it is not on the public npm registry, where its name could resolve to another
                // package. The next steps install the tarball init ran from ({@link SLIPWAY_INSTALL}).
                dependencies: { "@pulumi/pulumi": versions.pulumi },
                devDependencies: { "@types/node": versions.typesNode, "ts-node": versions.tsNode, typescript: versions.typescript },
            },
            null,
            2,
        ) + "\n"
    );
}

/** How the next steps install Slipway where the project does not list it: from its tarball, never by name. */
export const SLIPWAY_INSTALL =
    "npm install --save-exact <path to slipway-<version>.tgz>   # the tarball init ran from: Slipway is not on the public npm registry";

/**
 * The npm commands that add what the program needs to a project that already has a package.json, leaving out what it
 * already lists; empty when nothing is missing. Slipway itself is never named here (see {@link SLIPWAY_INSTALL}).
 * @param versions the versions to pin
 * @param present the names the project's package.json already lists (dependencies and devDependencies)
 */
export function installCommand(versions: InitVersions, present: ReadonlySet<string>): string {
    const add = (deps: Record<string, string>) =>
        Object.entries(deps)
            .filter(([name]) => !present.has(name))
            .map(([name, version]) => `${name}@${version}`);
    const runtime = add({ "@pulumi/pulumi": versions.pulumi });
    const dev = add({ typescript: versions.typescript, "ts-node": versions.tsNode, "@types/node": versions.typesNode });
    return [
        runtime.length > 0 ? `npm install --save-exact ${runtime.join(" ")}` : "",
        dev.length > 0 ? `npm install --save-dev --save-exact ${dev.join(" ")}` : "",
    ]
        .filter((c) => c !== "")
        .join(" && ");
}

function buildEnvDockerfile(): string {
    return `${BUILD_ENV_MARKER} (written by slipway init; not an app: slipway init skips a file starting with this line)
# The build environment Slipway builds, pushes and passes by digest to the app's Dockerfile (slipway:buildImage,
# built FROM its baseImage). Put the toolchain your app's build stages need here, and bump slipway:buildImage.version
# in Pulumi.local.yaml and Pulumi.dev.yaml with every change.
ARG BASE_IMAGE
FROM \${BASE_IMAGE}
ARG BUILD_IMAGE_VERSION
LABEL org.opencontainers.image.version="\${BUILD_IMAGE_VERSION}"
`;
}

/** YAML text of a value: plain where that reads back as the same string, else JSON (which YAML reads too). */
function q(value: string): string {
    return /^[A-Za-z0-9_./@:-]+$/.test(value) && !/^[0-9.:-]+$/.test(value) && !/^(true|false|yes|no|on|off|null|~)$/i.test(value)
        ? value
        : JSON.stringify(value);
}

type Stage = "local" | "dev" | "qa" | "prod";

/**
 * A stack file: the "Where <stage> runs" block like the shipped ones, then the image and the app.
 * @param stage the stack's stage
 * @param s the app's settings
 */
export function stackFile(stage: Stage, s: InitSettings): string {
    const lines: string[] = [];
    const head: Record<Stage, string> = {
        local:
            "# The local stage: images built from source and pushed to an open registry on 127.0.0.1:5001, the buildx builder\n" +
            "# named slipway, a local cluster, a file backend and the empty passphrase (encryptionsalt below, made for it).",
        dev: "# dev builds from source on every merge to main and pushes to ECR. CI passes the build number,\n# branch and sha (SLIPWAY_BUILD_NUMBER, SLIPWAY_GIT_BRANCH, SLIPWAY_GIT_SHA).",
        qa: "# qa never builds: it runs the digest promoted from dev (`npx slipway promote --from dev --to qa`),\n# which rewrites slipway:image below.",
        prod: "# prod runs the digest promoted from qa, behind an approval: 3 to 10 replicas, pods spread over nodes.",
    };
    lines.push(head[stage], "# Written by slipway init; docs/configuration.md lists every key.", "config:");
    lines.push(`  # ---- Where ${stage} runs: every account-, region- and cluster-specific value of ${stage} (docs/adopt.md) ----`);
    if (stage === "dev") {
        lines.push(
            "  # The AWS region of dev's ECR repositories; the account is the one the credentials belong to.",
            "  aws:region: eu-west-1",
        );
    }
    lines.push(`  slipway:stage: ${stage}`);
    if (stage === "local") {
        lines.push(
            "  # No kube context: the current one (a local cluster). The open registry on this machine, which other",
            "  # projects may share: the build environment's repository is named after the app, as in dev.",
            "  slipway:registry:",
            "    type: external",
            "    server: 127.0.0.1:5001",
            `    buildRepository: ${s.name}-build-env`,
            "  slipway:monitoring:",
            "    # Most local clusters lack the Prometheus Operator CRDs; turn on after installing them.",
            "    enabled: false",
        );
    } else {
        lines.push(
            "  slipway:kubernetes:",
            `    # The kube context of ${stage}'s cluster. CI creates it from the EKS cluster named by vars.EKS_CLUSTER_${stage.toUpperCase()}.`,
            `    context: slipway-${stage}`,
            `    # namespace: ${s.name}-${stage}     # optional (default <app.name>-${stage})`,
        );
        if (stage === "dev") {
            lines.push(
                "  # dev's registry: ECR repositories this stack creates. The build environment's repository is named after the app,",
                "  # so two projects in one account do not both create slipway-build-env.",
                "  slipway:registry:",
                "    type: ecr",
                `    buildRepository: ${s.name}-build-env`,
            );
        } else {
            lines.push(
                `  # The registry ${stage} pulls from: dev's ECR, <account>.dkr.ecr.<region>.amazonaws.com (dev's registryServer output).`,
                `  slipway:pullRegistry: ${PLACEHOLDER_REGISTRY}`,
            );
        }
        lines.push(
            "  # The Prometheus Operator's namespace and the labels it selects ServiceMonitors by; enabled: false without it.",
            "  slipway:monitoring:",
            "    enabled: true",
            "    namespace: monitoring",
            "    selectorLabels:",
            "      release: kube-prometheus-stack",
        );
    }
    lines.push(`  # ---- end of where ${stage} runs ----`);
    if (stage === "local" || stage === "dev") {
        lines.push("  slipway:buildImage:", "    version: 1.0.0", `    context: ${BUILD_ENV_DIR}`);
        if (s.buildBaseImage) lines.push(`    baseImage: ${q(s.buildBaseImage)}`);
        lines.push("  slipway:build:", "    # Previews never build.", "    buildOnPreview: false");
        if (stage === "local") lines.push("    builder: slipway");
        lines.push(
            "  slipway:image:",
            "    source: build",
            `    context: ${q(s.context)}`,
            `    dockerfile: ${q(s.dockerfile)}`,
            "    targets:",
        );
        lines.push(`      runtime: ${q(s.targets.runtime)}`, `      test: ${q(s.targets.test)}`);
        if (s.targets.artifact) lines.push(`      artifact: ${q(s.targets.artifact)}`);
        if (s.buildImageArg) lines.push(`    buildImageArg: ${s.buildImageArg}`);
        if (s.runtimeBaseImageArg) lines.push(`    runtimeBaseImageArg: ${s.runtimeBaseImageArg}`);
        if (s.runtimeBaseImage) lines.push(`    runtimeBaseImage: ${q(s.runtimeBaseImage)}`);
    } else {
        lines.push(
            `  # The image ${stage} runs, written by promotion and rollback. Until the first promotion: a placeholder.`,
            "  slipway:image:",
            "    source: pinned",
            `    ref: ${PLACEHOLDER_REGISTRY}/${s.name}@${PLACEHOLDER_DIGEST}`,
            '    buildNumber: "0"',
            "    gitBranch: main",
            '    gitSha: "unknown"',
        );
    }
    const replicas = { local: 1, dev: 1, qa: 2, prod: 3 }[stage];
    lines.push("  slipway:app:", `    name: ${q(s.name)}`, `    replicas: ${replicas}`);
    if (stage === "local") lines.push("    # http://<node address>:30080 reaches the app without a port-forward.", "    nodePort: 30080");
    if (stage === "prod")
        lines.push(
            "    autoscaling:",
            "      minReplicas: 3",
            "      maxReplicas: 10",
            "      targetCpuUtilization: 70",
            "    topologySpread: hard",
        );
    lines.push(`    port: ${s.port}`, `    metricsPort: ${s.metricsPort}`);
    if (s.probePath) {
        lines.push("    probes:", ...["startup", "readiness", "liveness"].map((p) => `      ${p}: { path: ${q(s.probePath!)} }`));
    }
    lines.push(`    runAsUser: ${s.runAsUser}`);
    if (s.runAsGroup !== undefined) lines.push(`    runAsGroup: ${s.runAsGroup}`);
    const sizes = {
        local: ["50m", "64Mi", "500m", "256Mi", '"2"', "2Gi", 10],
        dev: ["50m", "64Mi", "500m", "256Mi", '"2"', "2Gi", 10],
        qa: ["100m", "128Mi", "500m", "256Mi", '"4"', "4Gi", 12],
        // A rollout at 10 replicas holds up to 21 pods (10 new + 1 surge + 10 old still draining).
        prod: ["250m", "256Mi", "500m", "256Mi", '"12"', "6Gi", 24],
    }[stage];
    lines.push(
        "    resources:",
        `      requests: { cpu: ${sizes[0]}, memory: ${sizes[1]} }`,
        `      limits: { cpu: ${sizes[2]}, memory: ${sizes[3]} }`,
        `    quota: { cpu: ${sizes[4]}, memory: ${sizes[5]}, pods: ${sizes[6]} }`,
    );
    if (stage === "local") lines.push(`encryptionsalt: ${LOCAL_ENCRYPTION_SALT}`);
    return lines.join("\n") + "\n";
}

/** Shipped workflow commands (npm scripts of this repository) → the installed CLI's. */
const COMMANDS: [RegExp, string][] = [
    [/npm run up -- /g, "npx slipway up "],
    [/npm run promote -- /g, "npx slipway promote "],
    [/npm run rollback -- /g, "npx slipway rollback "],
    [/npm run --silent status -- /g, "npx slipway status "],
];

/**
 * Slipway's own workflows, adapted to the project: the installed CLI instead of this repository's npm scripts, the
 * app's build context, test target and build environment arg in CI's test build, the build environment's folder in
 * the change filter; pull requests preview every stage (this repository's own test jobs and policy pack are left out).
 * @param templates Slipway's own workflows
 * @param s the app's settings (build context, test target, build environment arg)
 * @param versions the versions, for the note at the top of each workflow
 * @throws TemplateError when a template lacks a part this edits
 */
export function adaptWorkflows(
    templates: WorkflowTemplates,
    s: InitSettings,
    versions: InitVersions,
): Record<keyof WorkflowTemplates, string> {
    const note = `Written by \`slipway init\` from the workflows of Slipway ${versions.slipway}.`;
    const main = parseDocument(templates.main);
    const pr = parseDocument(templates.pr);
    const rollback = parseDocument(templates.rollback);
    for (const doc of [main, pr, rollback]) {
        replaceCommands(doc);
        const head = header(doc);
        const said = (head.commentBefore ?? "").replace(/`npm run (up|promote|rollback|status)`/g, "`npx slipway $1`");
        head.commentBefore = ` ${note}\n${said}`;
    }

    const mainHead = header(main);
    mainHead.commentBefore = (mainHead.commentBefore ?? "").replace("when build-image/ changed", `when ${BUILD_ENV_DIR}/ changed`);

    const filter = stepOf(main, "changes", (step) => step.get("id") === "filter");
    const filters = String(filter.getIn(["with", "filters"]) ?? "");
    if (!filters.includes("'build-image/**'"))
        throw new TemplateError("main.yml: the changes job's filter no longer names 'build-image/**'");
    filter.setIn(["with", "filters"], filters.replace("'build-image/**'", `'${BUILD_ENV_DIR}/**'`));

    const testBuild = stepOf(main, "app-tests", (step) => String(step.get("uses") ?? "").startsWith("docker/build-push-action@"));
    testBuild.setIn(["with", "context"], s.context);
    testBuild.setIn(["with", "file"], s.context === "." ? s.dockerfile : `${s.context}/${s.dockerfile}`);
    testBuild.setIn(["with", "target"], s.targets.test);
    // Both bases, as Slipway passes them at deploy: a test target built FROM the runtime stage needs the runtime base.
    testBuild.setIn(
        ["with", "build-args"],
        `${s.buildImageArg ?? BUILD_DEFAULTS.buildImageArg}=\${{ steps.build-image.outputs.ref }}\n` +
            `${s.runtimeBaseImageArg ?? BUILD_DEFAULTS.runtimeBaseImageArg}=${s.runtimeBaseImage ?? BUILD_DEFAULTS.baseImage}\n`,
    );
    testBuild.commentBefore =
        " The app's test target (slipway:image.targets.test in Pulumi.dev.yaml), built with the build environment and the runtime\n" +
        " base that Pulumi.dev.yaml names (slipway:image.runtimeBaseImage): change both together.";

    const jobs = pr.get("jobs") as YAMLMap;
    for (const job of ["unit", "images"]) {
        if (!jobs.has(job)) throw new TemplateError(`pr.yml: no job ${job}`);
        jobs.delete(job);
    }
    const preview = stepOf(pr, "preview", (step) => String(step.get("uses") ?? "").startsWith("pulumi/actions@"));
    for (const key of ["policyPacks", "policyPackConfigs"]) {
        if (!preview.hasIn(["with", key])) throw new TemplateError(`pr.yml: the preview step has no ${key}`);
        preview.deleteIn(["with", key]);
    }
    (jobs.get("preview") as YAMLMap).delete("needs");
    const prHead = header(pr).commentBefore ?? "";
    const adapted = prHead
        .replace("Pull requests: unit and image tests, then a", "Pull requests: a")
        .replace(/\)\n ?and run the CrossGuard pack in policy\/ with the stage's policy config\./, ").");
    if (adapted.includes("unit and image tests") || adapted.includes("CrossGuard")) {
        throw new TemplateError("pr.yml: its header no longer says what this removes (the tests and the policy pack)");
    }
    header(pr).commentBefore = adapted;

    // No folding of long lines and no padding in flow sequences: the text stays as Slipway's own workflows write it.
    // This repository's tests check the Pulumi version; a project made by init has no such test.
    const text = (doc: Document) =>
        doc.toString({ lineWidth: 0, flowCollectionPadding: false }).replaceAll(" (checked by test/workflows).", ".");
    return { main: text(main), pr: text(pr), rollback: text(rollback), kubeContext: templates.kubeContext };
}

/** The node holding a workflow's header comment: the first key of the top mapping (where the yaml package puts it). */
function header(doc: Document): { commentBefore?: string | null } {
    const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
    if (!isScalar(first)) throw new TemplateError("a workflow without a top-level mapping");
    return first;
}

function replaceCommands(doc: Document): void {
    visit(doc, {
        Scalar(_key, node) {
            if (typeof node.value === "string") {
                node.value = COMMANDS.reduce((text, [from, to]) => text.replace(from, to), node.value);
            }
        },
    });
}

function stepOf(doc: Document, job: string, match: (step: YAMLMap) => boolean): YAMLMap {
    const steps = doc.getIn(["jobs", job, "steps"]);
    const step = isSeq(steps) ? steps.items.find((item): item is YAMLMap => isMap(item) && match(item)) : undefined;
    if (!step) throw new TemplateError(`no such step in job ${job}`);
    return step;
}
