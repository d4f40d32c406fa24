/**
 * The GitHub workflows, checked offline: valid against GitHub's own workflow schema (`@actions/workflow-parser`,
 * the parser of GitHub's Actions language services), every action pinned to a commit, minimal permissions, no
 * long-lived cloud keys, and every stack, npm script and file they name exists in this repository.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ComponentType, DEPLOYED_STAGES, STACK_OUTPUTS } from "../../contracts";
import { parseStackConfig } from "../../stacks/config";
import { readStackConfig, type StackName } from "../support/stacks";
import { workflowSchemaErrors } from "../support/workflow-schema";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const FILES = ["pr.yml", "main.yml", "rollback.yml"];

/* The parts of a workflow these tests read. */
interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    needs?: string[];
    if?: string;
    environment?: string;
    permissions?: Record<string, string> | string;
    strategy?: { matrix?: Record<string, unknown> };
    concurrency?: { group: string; "cancel-in-progress": boolean };
    steps: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string> | string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    env?: Record<string, string>;
    jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const load = (file: string) => parse(text(file)) as Workflow;
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
};
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);
const usesOf = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));

/** Reads a stack's config file. */
function stackConfig(stack: string): Record<string, unknown> {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    assert.ok(fs.existsSync(file), `Pulumi.${stack}.yaml exists`);
    return (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
}

describe("GitHub workflows", () => {
    describe("schema (GitHub's workflow parser, offline)", () => {
        for (const file of FILES) {
            it(`${file} is a valid workflow`, async () => {
                assert.deepEqual(await workflowSchemaErrors(file, text(file)), []);
            });
        }

        it("rejects invalid workflows (the check has teeth)", async () => {
            const job = "jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n";
            const cases: Array<[string, RegExp]> = [
                ["on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: echo hi\n", /Unexpected value 'stepz'/],
                [`on: push\npermissions:\n  id-token: writ\n${job}`, /Unexpected value 'writ'/],
                ["on: push\njobs:\n  a:\n    steps:\n      - run: echo hi\n", /Required property is missing: runs-on/],
                [`on: pushh\n${job}`, /Unexpected value 'pushh'/],
                [job.replace("echo hi", "echo ${{ inputs.x( }}").replace(/^/, "on: push\n"), /Unexpected (end of expression|symbol)/],
            ];
            for (const [content, message] of cases) {
                const errors = await workflowSchemaErrors("bad.yml", content);
                assert.ok(
                    errors.some((e) => message.test(e)),
                    `${message}: ${errors.join("; ")}`,
                );
            }
        });
    });

    describe("supply chain", () => {
        it("pins every action to a full commit sha with its release tag in a comment", () => {
            for (const file of FILES) {
                const lines = text(file)
                    .split("\n")
                    .filter((l) => /^\s*(-\s+)?uses:/.test(l));
                assert.ok(lines.length > 0);
                for (const line of lines) {
                    assert.match(line, /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${file}: ${line.trim()}`);
                }
            }
        });

        it("uses one commit per action and tag across all workflows", () => {
            const pins = new Map<string, string>();
            for (const file of FILES) {
                for (const m of text(file).matchAll(/uses: ([^@\s]+)@([0-9a-f]{40}) # (v[\d.]+)/g)) {
                    const key = `${m[1]} ${m[3]}`;
                    assert.equal(pins.get(key) ?? m[2], m[2], `${key} pinned to two commits`);
                    pins.set(key, m[2]);
                }
            }
            assert.deepEqual([...pins.keys()].map((k) => k.split(" ")[0]).sort(), [
                "actions/checkout",
                "actions/setup-node",
                "aws-actions/amazon-ecr-login",
                "aws-actions/configure-aws-credentials",
                "docker/build-push-action",
                "docker/setup-buildx-action",
                "dorny/paths-filter",
                "pulumi/actions",
                "pulumi/auth-actions",
            ]);
        });

        it("runs BuildKit builders from an image pinned by digest", () => {
            let builders = 0;
            for (const file of FILES) {
                const workflow = load(file);
                for (const job of Object.values(workflow.jobs)) {
                    for (const step of job.steps.filter((s) => s.uses?.startsWith("docker/setup-buildx-action@"))) {
                        builders++;
                        assert.equal(step.with?.["driver-opts"], "image=${{ env.BUILDKIT_IMAGE }}", `${file}: ${step.uses}`);
                        assert.match(workflow.env?.BUILDKIT_IMAGE ?? "", /^moby\/buildkit:v[\d.]+@sha256:[a-f0-9]{64}$/, file);
                    }
                }
            }
            assert.ok(builders >= 1);
        });

        it("uses no long-lived cloud keys: OIDC roles and tokens only", () => {
            for (const file of FILES) {
                const t = text(file);
                assert.doesNotMatch(t, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|PULUMI_ACCESS_TOKEN|secrets\./, file);
                for (const step of steps(load(file)).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))) {
                    assert.match(String(step.with?.["role-to-assume"]), /^\$\{\{ vars\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}$/);
                }
            }
        });

        it("never splices untrusted input into a shell script", () => {
            for (const file of FILES) {
                for (const step of steps(load(file)).filter((s) => s.run)) {
                    assert.doesNotMatch(step.run!, /\$\{\{\s*(inputs\.|github\.head_ref|github\.event\.)/, `${file}: ${step.run}`);
                }
            }
        });
    });

    describe("permissions", () => {
        it("default to contents: read and are widened only per job", () => {
            for (const file of FILES) {
                const wf = load(file);
                assert.deepEqual(wf.permissions, { contents: "read" }, file);
                assert.doesNotMatch(text(file), /write-all|read-all/, file);
            }
        });

        it("grant id-token: write exactly to the jobs that use OIDC", () => {
            for (const file of FILES) {
                for (const [name, job] of Object.entries(load(file).jobs)) {
                    const perms = typeof job.permissions === "object" ? job.permissions : {};
                    const oidc =
                        usesOf(job, "aws-actions/configure-aws-credentials").length + usesOf(job, "pulumi/auth-actions").length > 0;
                    assert.equal(perms["id-token"] === "write", oidc, `${file} ${name}`);
                }
            }
        });

        it("grant contents: write only to jobs that push a pin, pull-requests: write only to PR comments", () => {
            for (const file of FILES) {
                for (const [name, job] of Object.entries(load(file).jobs)) {
                    const perms = typeof job.permissions === "object" ? job.permissions : {};
                    const pushes = job.steps.some((s) => /git push origin HEAD:main/.test(s.run ?? ""));
                    assert.equal(perms.contents === "write", pushes, `${file} ${name}`);
                    const comments = usesOf(job, "pulumi/actions").some((s) => s.with?.["comment-on-pr"] === true);
                    assert.equal(perms["pull-requests"] === "write", comments, `${file} ${name}`);
                    for (const [scope, level] of Object.entries(perms)) {
                        assert.ok(["contents", "id-token", "pull-requests"].includes(scope), `${file} ${name}: ${scope}: ${level}`);
                    }
                }
            }
        });
    });

    describe("what they run exists here", () => {
        it("every npm script they run is in package.json", () => {
            const seen = new Set<string>();
            for (const file of FILES) {
                for (const step of steps(load(file)).filter((s) => s.run)) {
                    for (const m of step.run!.matchAll(/\bnpm (?:run (?:--silent )?([\w:-]+)|(test)\b)/g)) {
                        const script = m[1] ?? m[2];
                        seen.add(script);
                        assert.ok(pkg.scripts[script], `${file}: npm script "${script}" is not in package.json`);
                    }
                }
            }
            assert.deepEqual([...seen].sort(), ["promote", "rollback", "status", "test", "test:images", "up"]);
        });

        it("every previewed or rolled-back stack has its Pulumi.<stack>.yaml and its policy config", () => {
            const pr = load("pr.yml");
            const matrix = pr.jobs.preview.strategy?.matrix?.stack as string[];
            const rollbackStacks = (load("rollback.yml").on.workflow_dispatch as { inputs: { stack: { options: string[] } } }).inputs.stack
                .options;
            assert.deepEqual(matrix, DEPLOYED_STAGES);
            assert.deepEqual(rollbackStacks, matrix);
            for (const stack of matrix) {
                const config = stackConfig(stack);
                assert.equal(config["slipway:stage"], stack);
                assert.ok(fs.existsSync(path.join(ROOT, `policy/config/${stack}.json`)), `policy/config/${stack}.json`);
            }
        });

        it("previews never build: every previewed stack's parsed config says build.buildOnPreview: false", () => {
            for (const stack of load("pr.yml").jobs.preview.strategy?.matrix?.stack as StackName[]) {
                assert.equal(parseStackConfig(readStackConfig(stack)).build.buildOnPreview, false, stack);
            }
        });

        it("run the Pulumi CLI of the SDK's version and Node 24", () => {
            for (const file of FILES) {
                const wf = load(file);
                assert.equal(wf.env?.PULUMI_VERSION, pkg.dependencies["@pulumi/pulumi"], file);
                for (const step of steps(wf).filter((s) => s.uses?.startsWith("actions/setup-node@"))) {
                    assert.equal(step.with?.["node-version"], 24, file);
                }
                for (const step of steps(wf).filter((s) => s.uses?.startsWith("pulumi/actions@"))) {
                    assert.equal(step.with?.["pulumi-version"], "${{ env.PULUMI_VERSION }}", file);
                }
            }
        });
    });

    describe("stack interface", () => {
        it("read stacks through their outputs only, never a component's state", () => {
            for (const file of FILES) {
                const t = text(file);
                assert.doesNotMatch(t, /pulumi stack export|\.deployment\.resources/, file);
                // A type token may appear only as a --target glob; a token is never a way to find data.
                const tokens = [...t.matchAll(/slipway:[a-z]+:[A-Z]\w*/g)].length;
                assert.equal([...t.matchAll(/'\*\*slipway:[a-z]+:[A-Z]\w*\*\*'/g)].length, tokens, file);
                for (const m of t.matchAll(/pulumi stack output (?:--\S+ (?:"[^"]*"|\S+) )*([A-Za-z]+)/g)) {
                    assert.ok(
                        (STACK_OUTPUTS as readonly string[]).includes(m[1]),
                        `${file} reads output ${m[1]}, which the contract lacks`,
                    );
                }
            }
        });
    });

    describe("your account, clusters and backend: repository variables, never written in the workflows", () => {
        /** Every repository variable the workflows read (docs/adopt.md says what each one is). */
        const VARIABLES = [
            "AWS_DEPLOY_ROLE_ARN",
            "AWS_PREVIEW_ROLE_ARN",
            "AWS_REGION",
            "EKS_CLUSTER_DEV",
            "EKS_CLUSTER_PROD",
            "EKS_CLUSTER_QA",
            "PULUMI_BACKEND_URL",
            "PULUMI_ORG",
            "PULUMI_PROJECT",
        ];
        /** A workflow without its comment lines: what GitHub runs. */
        const body = (file: string) =>
            text(file)
                .split("\n")
                .filter((l) => !/^\s*#/.test(l))
                .join("\n");
        /** The comment that opens a workflow. */
        const header = (file: string) => text(file).slice(0, text(file).search(/^[^#\n]/m));
        const variables = (t: string) => [...new Set([...t.matchAll(/\bvars\.([A-Z_]+)/g)].map((m) => m[1]))].sort();

        it("read the cluster names, backend, project and organisation from repository variables", () => {
            assert.deepEqual(variables(FILES.map(body).join("\n")), VARIABLES);
        });

        it("document in their header comment exactly the variables they read", () => {
            for (const file of FILES) {
                assert.ok(variables(body(file)).length > 0, file);
                assert.deepEqual(variables(header(file)), variables(body(file)), file);
            }
        });

        it("docs/adopt.md says what every variable is", () => {
            const adopt = fs.readFileSync(path.join(ROOT, "docs", "adopt.md"), "utf8");
            const section = adopt.slice(adopt.indexOf("## Repository variables"));
            assert.ok(section.length < adopt.length, "docs/adopt.md has a Repository variables section");
            for (const name of VARIABLES) {
                assert.match(section, new RegExp(`^\\| \`${name}\` \\|`, "m"), `docs/adopt.md: ${name}`);
            }
        });

        it("name no account, region, cluster, kube context or project of their own", () => {
            const contexts = DEPLOYED_STAGES.map((stage) => (stackConfig(stage)["slipway:kubernetes"] as { context: string }).context);
            assert.deepEqual(contexts, ["slipway-dev", "slipway-qa", "slipway-prod"], "the stack files name these contexts");
            const project = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
            const script = fs.readFileSync(path.join(ROOT, ".github/scripts/kube-context.sh"), "utf8");
            for (const [file, content] of [...FILES.map((f) => [f, body(f)]), ["kube-context.sh", script]]) {
                // Commit pins and digests are hex: take them out before looking for a 12-digit account id.
                const t = content.replace(/@[0-9a-f]{40}\b|sha256:[0-9a-f]{64}/g, "");
                assert.doesNotMatch(t, /\b\d{12}\b|amazonaws\.com|arn:aws:/, `${file}: an AWS account`);
                assert.doesNotMatch(t, /\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b/, `${file}: an AWS region`);
                assert.doesNotMatch(t, /EKS_CLUSTER_PREFIX|\$STACK"?-|-(dev|qa|prod)\b"/, `${file}: a cluster named by convention`);
                for (const context of contexts) {
                    assert.ok(!t.includes(context), `${file} names the kube context ${context}`);
                }
                assert.doesNotMatch(t, new RegExp(`[/"' ]${project}/|/${project}\\b`), `${file}: the project name in a stack path`);
            }
        });

        /** Evaluates a GitHub expression (without `${{ }}`) with these repository variables set. */
        async function evaluate(expression: string, vars: Record<string, string>): Promise<string | boolean> {
            // The expression engine of @actions/workflow-parser (its own dependency, the same release).
            const { Evaluator, Lexer, Parser, data } = await import("@actions/expressions");
            const lexed = new Lexer(expression).lex();
            const context = new data.Dictionary();
            const values = new data.Dictionary();
            for (const [name, value] of Object.entries(vars)) values.add(name, new data.StringData(value));
            context.add("vars", values);
            const result = new Evaluator(new Parser(lexed.tokens, ["vars"], []).parse(), context).evaluate();
            return result.kind === data.Kind.Boolean ? result.coerceString() === "true" : result.coerceString();
        }
        const CLOUD = { PULUMI_ORG: "acme", PULUMI_PROJECT: "web" };
        const DIY = { ...CLOUD, PULUMI_BACKEND_URL: "s3://acme-pulumi-state?region=eu-central-1" };
        const unwrap = (value: unknown) => String(value).replace(/^\$\{\{ (.*) \}\}$/, "$1");

        it("address stacks as <org>/<project>/<stage> on Pulumi Cloud and organization/<project>/<stage> on a DIY backend", async () => {
            for (const file of ["pr.yml", "main.yml"]) {
                const stacks = unwrap(load(file).env?.PULUMI_STACKS);
                assert.equal(await evaluate(stacks, CLOUD), "acme/web", file);
                assert.equal(await evaluate(stacks, DIY), "organization/web", file);
            }
            const named: string[] = [];
            for (const file of FILES) {
                for (const step of steps(load(file))) {
                    const name = step.with?.["stack-name"];
                    if (name !== undefined) named.push(String(name));
                    for (const m of (step.run ?? "").matchAll(/--stack\s+("[^"]*"|[^\s;]+)/g)) named.push(m[1]);
                }
            }
            // Fully qualified through PULUMI_STACKS, or a bare stage name the CLI resolves in Pulumi.yaml's project.
            assert.ok(named.length >= 8);
            for (const name of named) {
                assert.match(
                    name,
                    /^(\$\{\{ env\.PULUMI_STACKS \}\}\/|"\$PULUMI_STACKS\/)?(dev|qa|prod|\$\{\{ matrix\.stack \}\}|"\$STACK")"?$/,
                    name,
                );
            }
        });

        it("log in to Pulumi Cloud only without a backend URL, and run every Pulumi CLI with that backend", async () => {
            const cloudOnly = "vars.PULUMI_BACKEND_URL == ''";
            assert.equal(await evaluate(cloudOnly, CLOUD), true);
            assert.equal(await evaluate(cloudOnly, DIY), false);
            for (const file of FILES) {
                const wf = load(file);
                assert.equal(wf.env?.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}", file);
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const step of usesOf(job, "pulumi/auth-actions")) {
                        assert.equal(step.if, cloudOnly, `${file} ${name}`);
                    }
                    // Bare stage names need the default organisation on Pulumi Cloud: set once, before the first tool.
                    const tools = job.steps.findIndex((s) => /\bnpm run (?:--silent )?(up|promote|rollback|status)\b/.test(s.run ?? ""));
                    const org = job.steps.findIndex((s) => /pulumi org set-default/.test(s.run ?? ""));
                    const install = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
                    assert.equal(tools >= 0, org >= 0, `${file} ${name}: the organisation step goes with the tools`);
                    if (org >= 0) {
                        assert.ok(install < org && org < tools, `${file} ${name}: CLI, then organisation, then tools`);
                        assert.deepEqual(job.steps[org], {
                            name: "Pulumi organisation",
                            if: cloudOnly,
                            run: 'pulumi org set-default "$PULUMI_ORG"',
                            env: { PULUMI_ORG: "${{ vars.PULUMI_ORG }}" },
                        });
                        assert.equal(job.steps.filter((s) => /pulumi org set-default/.test(s.run ?? "")).length, 1, `${file} ${name}`);
                    }
                }
            }
        });

        describe("the kube context: the cluster from vars.EKS_CLUSTER_<STAGE>, the context's name from Pulumi.<stage>.yaml", () => {
            const SCRIPT = ".github/scripts/kube-context.sh";
            const contextSteps = FILES.flatMap((file) =>
                Object.entries(load(file).jobs).flatMap(([job, j]) =>
                    j.steps.filter((s) => (s.run ?? "").includes(SCRIPT)).map((step) => ({ where: `${file} ${job}`, step })),
                ),
            );

            /**
             * Runs the step as GitHub does (bash -eo pipefail, from the checkout), with an `aws` that records its arguments
             * (the AWS CLI itself cannot run here). `cwd` elsewhere runs the same script by its full path.
             */
            function runStep(env: Record<string, string>, cwd = ROOT): { status: number | null; stdout: string; aws: string[] } {
                const script = cwd === ROOT ? `bash ${SCRIPT}` : `bash ${path.join(ROOT, SCRIPT)}`;
                const bin = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-aws-"));
                try {
                    fs.writeFileSync(path.join(bin, "aws"), '#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$AWS_CALLS"\n', { mode: 0o755 });
                    const calls = path.join(bin, "calls");
                    fs.writeFileSync(calls, "");
                    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
                        cwd,
                        encoding: "utf8",
                        env: {
                            PATH: [bin, path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter),
                            NODE_PATH: path.join(ROOT, "node_modules"),
                            AWS_CALLS: calls,
                            ...env,
                        },
                    });
                    const aws = fs.readFileSync(calls, "utf8").split("\n").filter(Boolean);
                    return { status: result.status, stdout: result.stdout + result.stderr, aws };
                } finally {
                    fs.rmSync(bin, { recursive: true, force: true });
                }
            }

            it("every job that reaches a cluster makes its context with the one script and its stage's variable", () => {
                for (const file of FILES) {
                    assert.doesNotMatch(text(file), /aws eks update-kubeconfig/, `${file} makes contexts through ${SCRIPT} only`);
                }
                assert.deepEqual(
                    contextSteps.map((c) => c.where),
                    ["pr.yml preview", "main.yml deploy-dev", "main.yml promote-qa", "main.yml promote-prod", "rollback.yml rollback"],
                );
                const all = Object.fromEntries(
                    DEPLOYED_STAGES.map((s) => [`EKS_CLUSTER_${s.toUpperCase()}`, `\${{ vars.EKS_CLUSTER_${s.toUpperCase()} }}`]),
                );
                for (const { where, step } of contextSteps) {
                    assert.equal(step.run, `bash ${SCRIPT}`, where);
                    const stage = step.env?.STACK;
                    const fixed = (DEPLOYED_STAGES as readonly string[]).includes(stage ?? "");
                    const cluster = `EKS_CLUSTER_${stage?.toUpperCase()}`;
                    assert.deepEqual(step.env, fixed ? { STACK: stage, [cluster]: all[cluster] } : { STACK: stage, ...all }, where);
                }
                assert.deepEqual(
                    contextSteps
                        .filter((c) => !(DEPLOYED_STAGES as readonly string[]).includes(c.step.env?.STACK ?? ""))
                        .map((c) => c.step.env?.STACK),
                    ["${{ matrix.stack }}", "${{ inputs.stack }}"],
                );
            });

            /** A project folder whose stack files are the shipped ones with `slipway:kubernetes` replaced (undefined: removed). */
            function project(kubernetes: (stage: string) => Record<string, string> | undefined): string {
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-context-"));
                for (const stage of DEPLOYED_STAGES) {
                    const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stage}.yaml`), "utf8")) as {
                        config: Record<string, unknown>;
                    };
                    const value = kubernetes(stage);
                    if (value === undefined) delete file.config["slipway:kubernetes"];
                    else file.config["slipway:kubernetes"] = value;
                    fs.writeFileSync(path.join(dir, `Pulumi.${stage}.yaml`), stringify(file));
                }
                return dir;
            }

            it("the shipped stack files: each stage's cluster under the context the file names", () => {
                const clusters = { EKS_CLUSTER_DEV: "acme-dev", EKS_CLUSTER_QA: "acme-qa", EKS_CLUSTER_PROD: "acme-prod" };
                for (const stage of DEPLOYED_STAGES) {
                    const context = (stackConfig(stage)["slipway:kubernetes"] as { context: string }).context;
                    const run = runStep({ STACK: stage, ...clusters });
                    assert.equal(run.status, 0, run.stdout);
                    assert.deepEqual(run.aws, [`eks update-kubeconfig --name acme-${stage} --alias ${context}`]);
                }
            });

            it("a cluster per stage, or one cluster for all: the context names are the stack files' own, never made up", () => {
                const dir = project((stage) => ({ context: `team-${stage}-ctx` }));
                const shared = project(() => ({ context: "acme-eks" }));
                try {
                    const perStage = { EKS_CLUSTER_DEV: "acme-dev", EKS_CLUSTER_QA: "acme-qa", EKS_CLUSTER_PROD: "acme-prod" };
                    const one = { EKS_CLUSTER_DEV: "acme", EKS_CLUSTER_QA: "acme", EKS_CLUSTER_PROD: "acme" };
                    for (const stage of DEPLOYED_STAGES) {
                        const own = runStep({ STACK: stage, ...perStage }, dir);
                        assert.equal(own.status, 0, own.stdout);
                        assert.deepEqual(own.aws, [`eks update-kubeconfig --name acme-${stage} --alias team-${stage}-ctx`]);
                        const all = runStep({ STACK: stage, ...one }, shared);
                        assert.equal(all.status, 0, all.stdout);
                        assert.deepEqual(all.aws, ["eks update-kubeconfig --name acme --alias acme-eks"]);
                    }
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                    fs.rmSync(shared, { recursive: true, force: true });
                }
            });

            it("a stage whose cluster variable is unset stops before any AWS call, naming the variable", () => {
                const run = runStep({ STACK: "qa", EKS_CLUSTER_DEV: "acme-dev" });
                assert.equal(run.status, 1);
                assert.match(
                    run.stdout,
                    /^::error::Set the repository variable EKS_CLUSTER_QA to the name of qa's EKS cluster \(docs\/adopt\.md\)\.$/m,
                );
                assert.deepEqual(run.aws, []);
            });

            it("a stack file that names no context: the cluster becomes the current context, which the provider then uses", () => {
                const dir = project(() => undefined);
                try {
                    const run = runStep({ STACK: "qa", EKS_CLUSTER_QA: "acme-qa" }, dir);
                    assert.equal(run.status, 0, run.stdout);
                    assert.deepEqual(run.aws, ["eks update-kubeconfig --name acme-qa"]);
                    const { "slipway:kubernetes": _dropped, ...rest } = stackConfig("qa");
                    void _dropped;
                    assert.equal(
                        parseStackConfig(
                            Object.fromEntries(
                                Object.entries(rest)
                                    .filter(([k]) => k.startsWith("slipway:"))
                                    .map(([k, v]) => [k.slice(8), v]),
                            ),
                        ).kubernetes.context,
                        undefined,
                    );
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            });
        });
    });

    describe("pull-request workflow", () => {
        const pr = load("pr.yml");

        it("runs unit, app and image tests", () => {
            const runs = Object.values(pr.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
            for (const command of ["npm ci", "npm test", "npm run test:images"]) {
                assert.ok(
                    runs.some((r) => r.includes(command)),
                    command,
                );
            }
            // `npm test` is the repository's whole offline suite, the app's tests included.
            assert.match(pkg.scripts.test, /npm run typecheck && npm run test:unit\b.*npm run test:app/);
        });

        it("previews every stack with a diff, a PR comment and the policy pack, after the unit tests", () => {
            const job = pr.jobs.preview;
            assert.deepEqual(job.needs, ["unit"]);
            const [step] = usesOf(job, "pulumi/actions");
            assert.deepEqual(
                { ...step.with, "pulumi-version": undefined },
                {
                    command: "preview",
                    "stack-name": "${{ env.PULUMI_STACKS }}/${{ matrix.stack }}",
                    "pulumi-version": undefined,
                    diff: true,
                    "comment-on-pr": true,
                    "edit-pr-comment": true,
                    "always-include-summary": true,
                    policyPacks: "policy",
                    policyPackConfigs: "policy/config/${{ matrix.stack }}.json",
                },
            );
            assert.ok(fs.existsSync(path.join(ROOT, "policy/PulumiPolicy.yaml")), "the pack is in policy/");
            assert.deepEqual(Object.keys(step.env ?? {}).sort(), ["SLIPWAY_BUILD_NUMBER", "SLIPWAY_GIT_BRANCH", "SLIPWAY_GIT_SHA"]);
            assert.equal(job.strategy?.matrix && (job as { strategy: { "fail-fast"?: boolean } }).strategy["fail-fast"], false);
        });

        it("cancels superseded runs of the same pull request", () => {
            assert.deepEqual(pr.concurrency, {
                group: "pr-${{ github.event.pull_request.number }}",
                "cancel-in-progress": true,
            });
        });
    });

    describe("main workflow", () => {
        const main = load("main.yml");

        it("rebuilds the build image only when build-image/ changed", () => {
            const filter = usesOf(main.jobs.changes, "dorny/paths-filter")[0];
            assert.match(String(filter.with?.filters), /build-image:\s+- 'build-image\/\*\*'/);
            assert.equal(main.jobs["build-image"].if, "needs.changes.outputs.build-image == 'true'");
            // The target is the BuildImage component's type token: renaming the token must fail here, not in CI.
            assert.equal(usesOf(main.jobs["build-image"], "pulumi/actions")[0].with?.target, `**${ComponentType.BuildImage}**`);
        });

        it("tests the app inside the build image, by digest, read from dev's buildImageRef stack output", () => {
            const job = main.jobs["app-tests"];
            const read = job.steps.find((s) => s.id === "build-image");
            assert.match(read?.run ?? "", /\bpulumi stack output --stack "\$PULUMI_STACKS\/dev" buildImageRef\)/);
            assert.match(read?.run ?? "", /\*@sha256:\*\)/, "refuses a ref that is not digest-pinned");
            const build = usesOf(job, "docker/build-push-action")[0];
            // CI builds the target dev's config names for the tests (image.targets.test), passing the build image under
            // the arg name dev's config gives it, from the same context: the app contract, not names fixed in the
            // workflow. The sample's `artifact` needs the compile stage (type-check) and the test stage; `test` alone
            // would skip the type-check.
            const dev = parseStackConfig(readStackConfig("dev"));
            assert.ok(dev.image.source === "build");
            assert.equal(build.with?.target, dev.image.targets.test);
            assert.equal(build.with?.target, "artifact");
            assert.equal(build.with?.context, dev.image.context);
            assert.equal(build.with?.push, false);
            const arg = new RegExp(`^${dev.image.buildImageArg}=\\$\\{\\{ steps\\.build-image\\.outputs\\.ref \\}\\}$`, "m");
            assert.match(String(build.with?.["build-args"]), arg);
        });

        it("deploys dev with the build metadata, then promotes the same digest to qa and, approved, to prod", () => {
            // Through Slipway's up (fail fast on a pod that cannot start), with the CLI the action installs.
            const dev = main.jobs["deploy-dev"].steps.find((s) => s.name === "Deploy");
            assert.match(
                dev?.run ?? "",
                /^npm run up -- --stack dev --diff --message "build \$\{SLIPWAY_BUILD_NUMBER\} of \$\{SLIPWAY_GIT_SHA\}"$/m,
            );
            assert.deepEqual(dev?.env, {
                SLIPWAY_BUILD_NUMBER: "${{ github.run_number }}",
                SLIPWAY_GIT_BRANCH: "${{ github.ref_name }}",
                SLIPWAY_GIT_SHA: "${{ github.sha }}",
            });
            const install = usesOf(main.jobs["deploy-dev"], "pulumi/actions");
            assert.equal(install.length, 1);
            assert.equal(install[0].with?.command, undefined, "the action only installs the CLI");
            assert.equal(pkg.scripts.up, "ts-node --transpile-only tools/main.ts up");
            const promoteRun = (job: string) => main.jobs[job].steps.find((s) => s.name === "Promote")?.run ?? "";
            assert.match(promoteRun("promote-qa"), /^npm run promote -- --from dev --to qa --yes$/m);
            assert.match(promoteRun("promote-prod"), /^npm run promote -- --from qa --to prod --yes$/m);
            assert.deepEqual(main.jobs["promote-qa"].needs, ["deploy-dev"]);
            assert.deepEqual(main.jobs["promote-prod"].needs, ["promote-qa"]);
            assert.equal(main.jobs["promote-prod"].environment, "production");
        });

        it("never cancels a running deploy, and serialises deploys per stage with the rollback workflow", () => {
            const groups = Object.values(main.jobs)
                .filter((j) => j.concurrency)
                .map((j) => j.concurrency!);
            assert.deepEqual(
                groups.map((g) => g.group),
                ["deploy-dev", "deploy-dev", "deploy-qa", "deploy-prod"],
            );
            assert.ok(groups.every((g) => g["cancel-in-progress"] === false));
            assert.equal(load("rollback.yml").jobs.rollback.concurrency?.group, "deploy-${{ inputs.stack }}");
        });
    });

    describe("rollback workflow", () => {
        const rollback = load("rollback.yml");

        it("is dispatched with a stack and an update (version or start time) or a digest, and can dry-run", () => {
            const inputs = (rollback.on.workflow_dispatch as { inputs: Record<string, { type: string }> }).inputs;
            assert.deepEqual(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.type])), {
                stack: "choice",
                to: "string",
                digest: "string",
                "dry-run": "boolean",
            });
            const run = rollback.jobs.rollback.steps.find((s) => s.name === "Roll back");
            assert.match(run?.run ?? "", /npm run rollback -- "\$\{args\[@\]\}"/);
            assert.deepEqual(Object.keys(run?.env ?? {}).sort(), ["DIGEST", "DRY_RUN", "STACK", "TO"]);
            assert.match(run?.run ?? "", /args\+=\(--to "\$TO"\)/);
        });

        it("waits for production's reviewers when rolling back prod", () => {
            assert.equal(rollback.jobs.rollback.environment, "${{ inputs.stack == 'prod' && 'production' || inputs.stack }}");
        });
    });
});
