/**
 * `slipway init` without mocks: Dockerfiles in real temp folders, parsed by the real parser; settings decided from
 * them; the written stack files parsed by Slipway's own schema the way the program reads them; the workflows validated
 * by GitHub's own parser; and the command's refusals, which must leave the folder as it was.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { NODE_24_BOOKWORM_SLIM } from "../../components/defaults";
import { STACK_OUTPUTS } from "../../contracts";
import { decodeProjectConfig, parseStackConfig, StackConfigError } from "../../stacks/config";
import { ToolError } from "../../tools/errors";
import { init, readTemplates, readVersions, type InitOptions } from "../../tools/init";
import {
    adaptWorkflows,
    assembleProject,
    BUILD_ENV_DIR,
    LOCAL_ENCRYPTION_SALT,
    PROGRAM_FILE,
    WORKFLOW_FILES,
    type InitVersions,
} from "../../tools/init/assemble";
import { decideSettings, InitInputError, type InitSettings } from "../../tools/init/decide";
import { BUILD_ENV_MARKER, DockerfileError, findDockerfiles, isDockerfileName, parseDockerfile } from "../../tools/init/dockerfile";
import { workflowSchemaErrors } from "../support/workflow-schema";

const REPO = path.resolve(__dirname, "..", "..");

/** A stack file as the program gets it: Pulumi hands structured values over as JSON text. */
function parseWritten(text: string) {
    const config = (parse(text) as { config: Record<string, unknown> }).config;
    const all = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    return parseStackConfig(decodeProjectConfig(all));
}

const GO = `ARG BUILDER
ARG BASE=gcr.io/distroless/static-debian12@sha256:${"a".repeat(64)}
FROM \${BUILDER} AS build
RUN go build \\
      -o /out/api ./cmd/api
FROM build AS test
RUN go test ./...
FROM \${BASE} AS final
COPY --from=build /out/api /api
EXPOSE 8000/tcp 9100
USER 65532:65532
HEALTHCHECK --interval=5s CMD ["/api", "probe", "http://127.0.0.1:8000/livez"]
ENTRYPOINT ["/api"]
`;

/** A team's one-stage service: the runtime stage is the test target, its base an arg without a default. */
const NODE_ONE_STAGE = `ARG RUNTIME_BASE_IMAGE
FROM \${RUNTIME_BASE_IMAGE} AS runtime
COPY server.js /srv/server.js
USER 10001:10001
ENTRYPOINT ["node", "/srv/server.js"]
`;

const NODE = `ARG BUILD_IMAGE
ARG RUNTIME_BASE_IMAGE
FROM \${BUILD_IMAGE} AS deps
FROM deps AS test
FROM \${RUNTIME_BASE_IMAGE} AS runtime
EXPOSE 3000
USER 10001:10001
CMD ["node", "server.js"]
`;

describe("slipway init", () => {
    let tmp: string;
    beforeEach(() => (tmp = mkdtempSync(path.join(tmpdir(), "slipway-init-"))));
    afterEach(() => rmSync(tmp, { recursive: true, force: true }));
    const put = (rel: string, text: string) => {
        mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
        writeFileSync(path.join(tmp, rel), text);
    };
    const listing = (dir: string): string[] =>
        readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
            .sort();

    describe("finding Dockerfiles", () => {
        it("knows Docker's file names and no others", () => {
            for (const name of ["Dockerfile", "Dockerfile.prod", "api.Dockerfile", "web.dockerfile", "Containerfile"])
                assert.ok(isDockerfileName(name), name);
            for (const name of ["dockerfile.md", "Dockerfiles", "README", "Dockerfile/"]) assert.ok(!isDockerfileName(name), name);
        });

        it("walks the repository, skipping dependencies, version control and Slipway's own build environment", () => {
            put("Dockerfile", NODE);
            put("services/api/Dockerfile.prod", GO);
            put("node_modules/pkg/Dockerfile", NODE);
            put("vendor/lib/Dockerfile", NODE);
            put(".git/Dockerfile", NODE);
            put(`${BUILD_ENV_DIR}/Dockerfile`, `${BUILD_ENV_MARKER}\nFROM scratch\n`);
            put("services/api/main.go", "package main\n");
            assert.deepEqual(findDockerfiles(tmp), ["Dockerfile", "services/api/Dockerfile.prod"]);
        });
    });

    describe("parsing a Dockerfile", () => {
        it("reads stages, FROM build args, exposed ports, the user and the health check's path", () => {
            const facts = parseDockerfile(GO, "api/Dockerfile");
            assert.deepEqual(
                facts.stages.map((s) => [s.name, s.from, s.fromArgs, s.line]),
                [
                    ["build", "${BUILDER}", ["BUILDER"], 3],
                    ["test", "build", [], 6],
                    ["final", "${BASE}", ["BASE"], 8],
                ],
            );
            const final = facts.stages[2]!;
            assert.deepEqual(final.exposed, [8000, 9100]);
            assert.equal(final.user, "65532:65532");
            assert.equal(final.healthcheckPath, "/livez");
            assert.deepEqual(facts.globalArgs, { BUILDER: undefined, BASE: `gcr.io/distroless/static-debian12@sha256:${"a".repeat(64)}` });
        });

        it("refuses a file with no FROM, naming it", () => {
            assert.throws(
                () => parseDockerfile("# nothing\nRUN true\n", "svc/Dockerfile"),
                (err: Error) => {
                    assert.ok(err instanceof DockerfileError);
                    assert.match(err.message, /^svc\/Dockerfile: no FROM instruction/);
                    return true;
                },
            );
        });
    });

    describe("deciding the app's settings", () => {
        const decide = (text: string, file = "api/Dockerfile", name?: string) =>
            decideSettings(parseDockerfile(text, file), { name, projectDirName: "My Repo" });

        it("takes a Go service's targets, ports, probes, user and image args from its Dockerfile", () => {
            const { settings, assumptions, warnings } = decide(GO);
            assert.deepEqual(settings, {
                name: "api",
                context: "api",
                dockerfile: "Dockerfile",
                targets: { runtime: "final", test: "test" },
                buildImageArg: "BUILDER",
                runtimeBaseImageArg: "BASE",
                runtimeBaseImage: `gcr.io/distroless/static-debian12@sha256:${"a".repeat(64)}`,
                port: 8000,
                metricsPort: 9100,
                probePath: "/livez",
                runAsUser: 65532,
            } satisfies InitSettings);
            for (const line of [
                "runtime target: final (last stage)",
                "port 8000 (EXPOSE 8000)",
                "user 65532 (USER 65532:65532)",
                "probes: startup, readiness and liveness on /livez (HEALTHCHECK)",
            ]) {
                assert.ok(assumptions.includes(line), `missing "${line}" in:\n${assumptions.join("\n")}`);
            }
            assert.deepEqual(warnings, []);
        });

        it("prefers a stage named runtime to the last one, and a Node sample's default arg names stay implicit", () => {
            const text = NODE + "FROM runtime AS debug\nUSER 0\n";
            const { settings, assumptions } = decide(text, "Dockerfile");
            assert.equal(settings.targets.runtime, "runtime");
            assert.equal(settings.targets.test, "test");
            assert.equal(settings.buildImageArg, undefined);
            assert.equal(settings.runtimeBaseImageArg, undefined);
            assert.equal(settings.runAsUser, 10001);
            assert.equal(settings.name, "my-repo");
            assert.ok(assumptions.includes("runtime target: runtime (the stage named runtime)"));
            assert.ok(assumptions.includes("app name: my-repo (the project's folder; --name to change)"));
        });

        it("inherits USER and EXPOSE from the stage the runtime is built FROM", () => {
            const { settings } = decide("FROM node:24 AS base\nEXPOSE 4000\nUSER 2000:3000\nFROM base AS runtime\n");
            assert.equal(settings.port, 4000);
            assert.equal(settings.runAsUser, 2000);
            assert.equal(settings.runAsGroup, 3000);
        });

        it("a root or missing USER still decides, with Slipway's default user and a clear warning what to set", () => {
            for (const user of ["", "USER root\n", "USER 0:0\n"]) {
                const { settings, warnings } = decide(`FROM debian AS runtime\n${user}`);
                assert.equal(settings.runAsUser, 10001, user);
                assert.ok(
                    warnings.some(
                        (w) =>
                            w.includes("requires a non-root numeric user") &&
                            w.includes("USER 10001:10001") &&
                            w.includes("slipway:app.runAsUser"),
                    ),
                    `${user}: ${warnings.join("\n")}`,
                );
            }
        });

        it("a named USER is not guessed: the warning says how to find its ID", () => {
            const { settings, warnings } = decide("FROM node:24 AS runtime\nUSER node\n");
            assert.equal(settings.runAsUser, 10001);
            assert.ok(
                warnings.some((w) => w.includes("USER node is a name") && w.includes("id -u node")),
                warnings.join("\n"),
            );
        });

        it("no EXPOSE: port 8080; a port below 1024: 8080 and a warning; no HEALTHCHECK: the default probes and a warning", () => {
            assert.equal(decide("FROM x AS runtime\nUSER 1:1\n").settings.port, 8080);
            const low = decide("FROM x AS runtime\nEXPOSE 80\nUSER 1:1\n");
            assert.equal(low.settings.port, 8080);
            assert.equal(low.settings.metricsPort, false);
            assert.equal(low.settings.probePath, undefined);
            assert.ok(low.warnings.some((w) => w.startsWith("EXPOSE 80:")));
            assert.ok(low.warnings.some((w) => w.includes("/healthz") && w.includes("/readyz")));
        });

        it("refuses a name that is not a DNS label, naming --name, and an unnamed last stage, naming the file and line", () => {
            for (const name of ["Web", "web_api", "-web", "a".repeat(64)]) {
                assert.throws(
                    () => decide(GO, "api/Dockerfile", name),
                    (err: Error) => err instanceof InitInputError && err.message.startsWith(`--name "${name}"`),
                );
            }
            assert.throws(
                () => decide("FROM x AS build\nFROM debian\n", "Dockerfile"),
                (err: Error) =>
                    err instanceof DockerfileError &&
                    /^Dockerfile: the last stage \(FROM on line 2\) has no name.*FROM debian AS runtime/.test(err.message),
            );
        });
    });

    describe("the files", () => {
        const versions: InitVersions = readVersions(REPO);
        const templates = readTemplates(REPO);
        const go = decideSettings(parseDockerfile(GO, "services/api/Dockerfile"), { projectDirName: "x" }).settings;
        const minimal = decideSettings(parseDockerfile("FROM debian AS runtime\n", "Dockerfile"), { projectDirName: "shop" }).settings;

        // A folder named 2048 is a DNS label, and YAML would read it as a number unless it is quoted.
        const digits = decideSettings(parseDockerfile("FROM debian AS runtime\n", "Dockerfile"), { projectDirName: "2048" }).settings;
        for (const [label, settings] of [
            ["a Go service", go],
            ["a one-stage root Dockerfile", minimal],
            ["an app named by digits only", digits],
        ] as const) {
            it(`every stack file of ${label} passes Slipway's own schema, read as the program reads it`, () => {
                const files = assembleProject(settings, templates, versions, true);
                for (const stage of ["local", "dev", "qa", "prod"]) {
                    const config = parseWritten(files.get(`Pulumi.${stage}.yaml`)!);
                    assert.equal(config.stage, stage);
                    assert.equal(config.app.name, settings.name);
                    assert.equal(config.app.port, settings.port);
                    assert.equal(config.app.runAsUser, settings.runAsUser);
                    if (config.image.source === "build") {
                        assert.equal(config.image.context, settings.context);
                        assert.equal(config.image.targets.runtime, settings.targets.runtime);
                        assert.equal(config.buildImage?.context, BUILD_ENV_DIR);
                        // Projects share a registry (the local one on a laptop, an account's ECR): the build
                        // environment's repository is the app's own, so one project never re-tags another's.
                        assert.equal(config.registry?.buildRepository, `${settings.name}-build-env`);
                    } else {
                        assert.match(config.image.ref, new RegExp(`/${settings.name}@sha256:[0-9a-f]{64}$`));
                    }
                }
            });
        }

        it("the schema check can fail: a stack file with a root user is refused by the same parse", () => {
            const text = assembleProject(go, templates, versions, true).get("Pulumi.dev.yaml")!.replace("runAsUser: 65532", "runAsUser: 0");
            assert.throws(
                () => parseWritten(text),
                (err: Error) => err instanceof StackConfigError && /slipway:app\.runAsUser/.test(err.message),
            );
        });

        it("the local stack file's encryptionsalt is the shipped one (made for the empty passphrase)", () => {
            const shipped = (parse(readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8")) as { encryptionsalt: string })
                .encryptionsalt;
            assert.equal(LOCAL_ENCRYPTION_SALT, shipped);
        });

        it("Pulumi.yaml runs the program, which exports every stack output the CLI reads; package.json pins exact versions", () => {
            const files = assembleProject(go, templates, versions, true);
            const pulumiYaml = parse(files.get("Pulumi.yaml")!) as { name: string; main: string; runtime: { name: string } };
            assert.deepEqual([pulumiYaml.name, pulumiYaml.main, pulumiYaml.runtime.name], ["api", PROGRAM_FILE, "nodejs"]);
            const exported = /export const \{ ([^}]*) \} = stage;/.exec(files.get(PROGRAM_FILE)!)?.[1]?.split(", ");
            assert.deepEqual(exported, [...STACK_OUTPUTS]);
            const pkg = JSON.parse(files.get("package.json")!);
            assert.deepEqual(pkg.dependencies, { "@pulumi/pulumi": "3.276.0" });
            for (const version of Object.values<string>({ ...pkg.dependencies, ...pkg.devDependencies }))
                assert.match(version, /^[0-9]+\.[0-9]+\.[0-9]+$/);
            assert.equal(assembleProject(go, templates, versions, false).has("package.json"), false);
        });

        it("the workflows pass GitHub's parser, run the installed CLI and build the app's own test target", async () => {
            const files = assembleProject(go, templates, versions, true);
            for (const key of ["main", "pr", "rollback"] as const) {
                const text = files.get(WORKFLOW_FILES[key])!;
                assert.deepEqual(await workflowSchemaErrors(key, text), [], key);
                assert.doesNotMatch(text, /npm run (up|promote|rollback|status|--silent status)/, key);
                assert.doesNotMatch(text, /test\/workflows/, key);
            }
            const main = parse(files.get(WORKFLOW_FILES.main)!);
            const build = main.jobs["app-tests"].steps.find((s: { uses?: string }) => s.uses?.startsWith("docker/build-push-action@"));
            // The Dockerfile by its path, and both bases as Slipway passes them at deploy (the runtime base from its default).
            assert.deepEqual(
                [build.with.context, build.with.file, build.with.target, build.with["build-args"]],
                [
                    "services/api",
                    "services/api/Dockerfile",
                    "test",
                    `BUILDER=\${{ steps.build-image.outputs.ref }}\nBASE=gcr.io/distroless/static-debian12@sha256:${"a".repeat(64)}\n`,
                ],
            );
            // A Dockerfile of another name, whose test target is its runtime stage FROM an arg without a default: the file
            // is named, and the runtime base is the one Slipway passes when the stack file names none.
            const other = decideSettings(parseDockerfile(NODE_ONE_STAGE, "web/Dockerfile.prod"), { projectDirName: "x" }).settings;
            const otherBuild = parse(assembleProject(other, templates, versions, true).get(WORKFLOW_FILES.main)!).jobs[
                "app-tests"
            ].steps.find((s: { uses?: string }) => s.uses?.startsWith("docker/build-push-action@"));
            assert.equal(otherBuild.with.file, "web/Dockerfile.prod");
            assert.equal(other.targets.test, other.targets.runtime);
            assert.match(
                otherBuild.with["build-args"],
                new RegExp(`^RUNTIME_BASE_IMAGE=${NODE_24_BOOKWORM_SLIM.replace(/[.]/g, "\\.")}$`, "m"),
            );
            assert.match(main.jobs.changes.steps[1].with.filters, new RegExp(`'${BUILD_ENV_DIR}/\\*\\*'`));
            assert.ok(main.jobs["deploy-dev"].steps.some((s: { run?: string }) => s.run?.startsWith("npx slipway up --stack dev")));
            const pr = parse(files.get(WORKFLOW_FILES.pr)!);
            assert.deepEqual(Object.keys(pr.jobs), ["preview"]);
            const preview = pr.jobs.preview.steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
            assert.equal(preview.with.policyPacks, undefined);
            assert.equal(files.get(WORKFLOW_FILES.kubeContext), readFileSync(path.join(REPO, ".github/scripts/kube-context.sh"), "utf8"));
        });

        it("a shipped workflow that loses a part init edits is a loud error, not a silently wrong file", () => {
            assert.throws(
                () => adaptWorkflows({ ...templates, main: templates.main.replace("'build-image/**'", "'other/**'") }, go, versions),
                /build-image/,
            );
        });
    });

    describe("the command", () => {
        const out: string[] = [];
        const run = (options: Partial<InitOptions>) => {
            out.length = 0;
            init({ dryRun: false, force: false, ...options }, { cwd: tmp, out: (s) => out.push(s), packageDir: REPO });
        };
        const refusal = (options: Partial<InitOptions>, message: RegExp) =>
            assert.throws(
                () => run(options),
                (err: Error) => err instanceof ToolError && err.exitCode === 2 && message.test(err.message),
            );

        it("writes the project for one Dockerfile and prints its assumptions and the next commands", () => {
            put("Dockerfile", NODE);
            run({ name: "web" });
            const written = listing(tmp);
            for (const file of [
                "Pulumi.yaml",
                PROGRAM_FILE,
                "Pulumi.local.yaml",
                "Pulumi.prod.yaml",
                "package.json",
                ...Object.values(WORKFLOW_FILES),
            ]) {
                assert.ok(written.includes(file), `${file} not written: ${written.join(", ")}`);
            }
            const text = out.join("");
            assert.match(text, /^  port 3000 \(EXPOSE 3000\)$/m);
            assert.match(text, /^  user 10001 \(USER 10001:10001\)$/m);
            assert.match(text, /^  npx slipway up --stack local$/m);
        });

        it("several Dockerfiles without --dockerfile: refused, listing them and the flag, nothing written", () => {
            put("a/Dockerfile", NODE);
            put("b/Dockerfile", GO);
            refusal({}, /2 Dockerfiles.*one app today.*--dockerfile <path>[^]*a\/Dockerfile\n  b\/Dockerfile/);
            assert.deepEqual(listing(tmp), ["a/Dockerfile", "b/Dockerfile"]);
            run({ dockerfile: "b/Dockerfile" });
            assert.equal((parse(readFileSync(path.join(tmp, "Pulumi.yaml"), "utf8")) as { name: string }).name, "b");
        });

        it("never overwrites without --force: lists the files that exist and writes nothing; --force overwrites", () => {
            put("Dockerfile", NODE);
            put("Pulumi.yaml", "name: mine\n");
            put("Pulumi.dev.yaml", "config: {}\n");
            refusal({ name: "web" }, /these files exist[^]*\n  Pulumi\.yaml\n  Pulumi\.dev\.yaml$/);
            assert.deepEqual(listing(tmp), ["Dockerfile", "Pulumi.dev.yaml", "Pulumi.yaml"]);
            assert.equal(readFileSync(path.join(tmp, "Pulumi.yaml"), "utf8"), "name: mine\n");
            run({ name: "web", force: true });
            assert.match(readFileSync(path.join(tmp, "Pulumi.yaml"), "utf8"), /^name: web$/m);
        });

        it("--dry-run prints every file and writes none", () => {
            put("svc/Dockerfile", GO);
            run({ dryRun: true });
            assert.deepEqual(listing(tmp), ["svc/Dockerfile"]);
            assert.match(out.join(""), /^--- Pulumi\.qa\.yaml$/m);
            assert.match(out.join(""), /^--- \.github\/workflows\/slipway-main\.yml$/m);
            assert.match(out.join(""), /^Then:\n  npm install\n/m);
        });

        it("bad input is refused with the key or file named, and nothing written", () => {
            put("Dockerfile", "RUN true\n");
            refusal({}, /^Dockerfile: no FROM instruction/);
            put("Dockerfile", NODE);
            refusal({ name: "Not_A_Label" }, /^--name "Not_A_Label"/);
            refusal({ dockerfile: "missing/Dockerfile" }, /^--dockerfile missing\/Dockerfile: no such file/);
            // A folder where a file belongs, and a file where a folder belongs: refused, not a raw EISDIR or ENOTDIR.
            mkdirSync(path.join(tmp, "svc"));
            refusal({ dockerfile: "svc" }, /^--dockerfile svc: no such file/);
            refusal({ dir: "Dockerfile" }, /^--dir Dockerfile: no such folder/);
            assert.deepEqual(listing(tmp), ["Dockerfile"]);
        });

        it("an existing package.json is left alone; the install command names what it lacks, at exact versions", () => {
            put("Dockerfile", NODE);
            const mine = '{"name":"mine","dependencies":{"slipway":"file:slipway-0.2.0.tgz"},"devDependencies":{"typescript":"5.9.3"}}\n';
            put("package.json", mine);
            run({ name: "web" });
            assert.equal(readFileSync(path.join(tmp, "package.json"), "utf8"), mine);
            assert.match(
                out.join(""),
                /^  npm install --save-exact @pulumi\/pulumi@3\.276\.0 && npm install --save-dev --save-exact ts-node@10\.9\.2 @types\/node@24\.19\.4$/m,
            );
            // Slipway is listed (its tarball), so no step installs it again.
            assert.doesNotMatch(out.join(""), /slipway-<version>\.tgz/);
        });

        it("never names slipway for the public npm registry: the written package.json leaves it out, the next steps install its tarball", () => {
            put("Dockerfile", NODE);
            run({ name: "web" });
            const pkg = JSON.parse(readFileSync(path.join(tmp, "package.json"), "utf8"));
            assert.deepEqual(Object.keys(pkg.dependencies), ["@pulumi/pulumi"]);
            assert.doesNotMatch(out.join(""), /slipway@/);
            assert.match(out.join(""), /^  npm install --save-exact <path to slipway-<version>\.tgz> /m);
        });
    });
});
