/**
 * A team adopts Slipway for two services of its own (issue 15), as a new user would, on the real engine and node: the
 * package packed and installed into a project outside this repository that holds a small Node service (`web`) and
 * the Go example (`hello-go`, copied there). `npx slipway init` writes the project for `web`; the team adds
 * `hello-go` to the local stack in a few lines of config. The installed CLI deploys both into one stage, deploys a
 * change to `web` alone (nothing of `hello-go` builds or rolls), rolls `web` back, and the stack is destroyed.
 * Nothing of this repository's program, stack files or sample app is in that project.
 */
import * as assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { buildkitBuilds, deployedImage, get, kubectl, kubectlOk, registryDigest } from "./support/machine";
import { plannedChanges } from "./support/shared";
import { fromEnv, ok, run, type Ran } from "./support/workspace";

const REPO = path.resolve(__dirname, "..", "..");
/** The team's service: its name, the namespace Slipway gives it in the local stage, a NodePort no other suite uses. */
const APP = "web";
const NAMESPACE = `${APP}-local`;
const NODE_PORT = 30091;
/** The team's second service: the Go example, on a NodePort of its own. */
const GO = "hello-go";
const GO_NODE_PORT = 30092;

/**
 * What the team writes to add the Go service to the local stage: its entry of `slipway:apps`, as it would sit in
 * Pulumi.local.yaml. `bases` are this machine's Go build and runtime bases (a networked team names published ones).
 */
function goApp(bases: { build: string; runtime: string }) {
    return {
        image: { source: "build", context: GO, runtimeBaseImage: bases.runtime },
        buildImage: { version: "1.0.0", context: `${GO}/build-image`, baseImage: bases.build },
        replicas: 1,
        nodePort: GO_NODE_PORT,
        metrics: { requestsTotal: "http_requests_total" },
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
    };
}

/** The team's own service: plain Node.js, no Slipway code; it answers its message and the commit it was built from. */
function server(message: string): string {
    return `const http = require("node:http");
let ready = true;
const server = http.createServer((req, res) => {
    if (req.url === "/healthz") return res.end("ok");
    if (req.url === "/readyz") {
        res.statusCode = ready ? 200 : 503;
        return res.end(ready ? "ready" : "draining");
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ message: ${JSON.stringify(message)}, sha: process.env.GIT_SHA, stage: process.env.STAGE }));
});
server.listen(Number(process.env.PORT), "0.0.0.0");
process.on("SIGTERM", () => {
    ready = false;
    setTimeout(() => server.close(() => process.exit(0)), Number(process.env.DRAIN_DELAY_MS ?? 2000));
    server.closeIdleConnections();
});
`;
}

const DOCKERFILE = `ARG RUNTIME_BASE_IMAGE
FROM \${RUNTIME_BASE_IMAGE} AS runtime
COPY server.js /srv/server.js
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "/srv/server.js"]
`;

describe("issue 15: a team adopts Slipway for two services of its own, outside this repository", function () {
    let tmp = "";
    let project = "";
    let env: NodeJS.ProcessEnv = {};
    let stackCreated = false;
    const registry = fromEnv("SLIPWAY_E2E_REGISTRY");
    const inProject = (command: string, args: string[], extra: NodeJS.ProcessEnv = {}, timeoutSeconds = 900): Promise<Ran> =>
        run(command, args, { cwd: project, env: { ...env, ...extra }, timeoutSeconds });
    /** Each deploy says which commit it ships, as CI passes it. */
    const release = (sha: string) => ({ SLIPWAY_GIT_SHA: sha, SLIPWAY_GIT_BRANCH: "main", SLIPWAY_BUILD_NUMBER: sha.slice(0, 4) });
    /** The installed CLI, as the team runs it. */
    const slipway = (args: string[], sha: string) => inProject("npx", ["--no-install", "slipway", ...args], release(sha));
    const answer = async () => JSON.parse((await get(NODE_PORT, "/")).body) as { message: string; sha: string; stage: string };
    const goAnswer = async () => JSON.parse((await get(GO_NODE_PORT, "/")).body) as { service: string; gitSha: string; stage: string };
    const goPods = async () =>
        (
            await kubectlOk([
                "-n",
                NAMESPACE,
                "get",
                "pods",
                "-l",
                `app.kubernetes.io/name=${GO}`,
                "-o",
                "jsonpath={.items[*].metadata.name}",
            ])
        )
            .split(" ")
            .filter(Boolean)
            .sort();
    let goBases = { build: "", runtime: "" };

    before(async () => {
        tmp = mkdtempSync("/var/tmp/slipway-adopt-");
        project = path.join(tmp, "shop");
        mkdirSync(path.join(project, APP), { recursive: true });
        env = {
            // npm's own variables from the enclosing `npm run` would steer the inner npm; the suite's PATH brings the
            // repository's Node 24, the pinned Pulumi CLI and kubectl; KUBECONFIG is the node's.
            // The repository's own Pulumi settings (its tsconfig, transpile-only) are not the team's.
            ...Object.fromEntries(
                Object.entries(process.env).filter(
                    ([name]) => !name.toLowerCase().startsWith("npm_") && !name.startsWith("PULUMI_NODEJS_"),
                ),
            ),
            PATH: `${path.join(REPO, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            npm_config_update_notifier: "false",
            npm_config_prefer_offline: "true",
        };
        mkdirSync(path.join(tmp, "backend"));
        const packed = JSON.parse(
            ok(await run("npm", ["pack", "--pack-destination", tmp, "--json"], { cwd: REPO, env }), "npm pack").stdout,
        );
        const tarball = path.join(tmp, (packed as { filename: string }[])[0]!.filename);
        writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "shop", version: "1.0.0", private: true }, null, 2));
        writeFileSync(path.join(project, APP, "Dockerfile"), DOCKERFILE);
        writeFileSync(path.join(project, APP, "server.js"), server("Hello from the shop"));
        // The Go example as the team's second service: its source, Dockerfile and build environment, nothing else.
        cpSync(path.join(REPO, "examples", GO), path.join(project, GO), { recursive: true });
        ok(await inProject("npm", ["install", "--save-exact", tarball, "--no-audit", "--no-fund"]), "npm install the tarball");
        // This machine's Go bases by digest (built once from Debian packages; reused by tag).
        const bases = ok(
            await run("bash", ["scripts/offline-base.sh", "go", registry], { cwd: REPO, env: process.env, timeoutSeconds: 900 }),
            "offline-base.sh go",
        );
        const [build, runtime] = bases.stdout.trim().split("\n");
        goBases = { build: build!, runtime: runtime! };
    });

    after(async () => {
        if (stackCreated) await inProject("pulumi", ["destroy", "--stack", "local", "--yes", "--skip-preview"]);
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it("slipway init, with two services' Dockerfiles, asks which one; given one, writes the project and says what it assumed", async () => {
        const ambiguous = await inProject("npx", ["--no-install", "slipway", "init"]);
        assert.equal(ambiguous.code, 2, ambiguous.stdout + ambiguous.stderr);
        for (const dockerfile of [`${APP}/Dockerfile`, `${GO}/Dockerfile`]) assert.match(ambiguous.stderr, new RegExp(dockerfile));
        assert.throws(() => readFileSync(path.join(project, "Pulumi.yaml")), /ENOENT/, "nothing written");

        const init = ok(await inProject("npx", ["--no-install", "slipway", "init", "--dockerfile", `${APP}/Dockerfile`]), "slipway init");
        for (const said of [/runtime target: runtime/, /port 8080 \(EXPOSE 8080\)/, /user 10001/])
            assert.match(init.stdout, said, `init said ${said}`);
        const install = init.stdout.split("\n")[init.stdout.split("\n").indexOf("Next:") + 1]!.trim();
        assert.match(install, /^npm install /);
        ok(await inProject("sh", ["-c", install]), "the npm install init printed");
        const local = readFileSync(path.join(project, "Pulumi.local.yaml"), "utf8");
        assert.match(local, /name: web\n/);
        assert.match(local, /\n {4}context: web\n {4}dockerfile: Dockerfile\n/);
    });

    it("the team adds the Go service to the local stage in a few lines of config; both deploy into one namespace, each on its own digest", async () => {
        ok(await inProject("pulumi", ["stack", "init", "local", "--secrets-provider", "passphrase"]), "pulumi stack init local");
        stackCreated = true;
        // The team's own lines: hello-go's entry of slipway:apps in the stack file init wrote.
        const file = path.join(project, "Pulumi.local.yaml");
        const stackFile = parseDocument(readFileSync(file, "utf8"));
        const before = readFileSync(file, "utf8").split("\n").length;
        stackFile.setIn(["config", "slipway:apps"], { [GO]: goApp(goBases) });
        writeFileSync(file, stackFile.toString());
        console.log(
            `      the team's own lines for hello-go in Pulumi.local.yaml: ${readFileSync(file, "utf8").split("\n").length - before}`,
        );
        // What this machine needs and a team on a networked machine would not: the web service's bases built here from
        // Debian packages (it cannot pull), and NodePorts the other suites leave free.
        const base = fromEnv("SLIPWAY_E2E_BASE_IMAGE");
        for (const [key, value] of [
            ["slipway:buildImage.baseImage", base],
            ["slipway:image.runtimeBaseImage", base],
            ["slipway:registry.server", registry],
        ])
            ok(await inProject("pulumi", ["config", "set", "--stack", "local", "--path", key, value]), `config set ${key}`);
        ok(
            await inProject("pulumi", [
                "config",
                "set",
                "--stack",
                "local",
                "--path",
                "--type",
                "int",
                "slipway:app.nodePort",
                String(NODE_PORT),
            ]),
            "nodePort",
        );

        const first = "1".repeat(40);
        const up = ok(await slipway(["up", "--stack", "local"], first), "slipway up");
        console.log(`      first up of the team's two services: ${up.seconds.toFixed(1)} s`);
        assert.deepEqual(await answer(), { message: "Hello from the shop", sha: first, stage: "local" });
        const go = await goAnswer();
        assert.deepEqual([go.service, go.gitSha, go.stage], [GO, first, "local"]);
        const webImage = await deployedImage(NAMESPACE, APP);
        const goImage = await deployedImage(NAMESPACE, GO);
        assert.match(webImage, new RegExp(`^${registry}/${APP}@sha256:[0-9a-f]{64}$`));
        assert.match(goImage, new RegExp(`^${registry}/${GO}@sha256:[0-9a-f]{64}$`));
        assert.equal(goImage, `${registry}/${GO}@${await registryDigest(`${registry}/${GO}`, `sha-${first.slice(0, 7)}`)}`);
        const status = ok(await slipway(["status", "--stack", "local"], first), "slipway status");
        assert.match(status.stdout, /^STAGE +APP +DIGEST/m);
        for (const app of [APP, GO])
            assert.match(status.stdout, new RegExp(`^local +${app} +sha256:[0-9a-f]{12} +1111 +main +1111111 `, "m"));
    });

    it("a change to web builds and rolls web alone: hello-go's image is not rebuilt, its pods keep their names; then web rolls back alone", async () => {
        const goImage = await deployedImage(NAMESPACE, GO);
        const goPodsBefore = await goPods();
        const firstWeb = await deployedImage(NAMESPACE, APP);
        const first = "1".repeat(40);
        const second = "2".repeat(40);
        writeFileSync(path.join(project, APP, "server.js"), server("Hello from the shop, changed"));

        // What the update will do, as a pull request's preview shows it: web's image and Deployment, nothing of hello-go.
        const preview = ok(await inProject("pulumi", ["preview", "--stack", "local", "--json"], release(second)), "pulumi preview");
        const planned = plannedChanges(preview.stdout);
        assert.ok(planned.includes("replace docker-build:index:Image::app-image"), planned.join("\n"));
        assert.ok(
            planned.every((step) => !step.includes(GO)),
            `hello-go is in the plan of a change to web:\n${planned.join("\n")}`,
        );

        const builds = await buildkitBuilds();
        ok(await slipway(["up", "--stack", "local"], second), "slipway up after a change to web");
        const built = (await buildkitBuilds()).length - builds.length;
        assert.deepEqual(await answer(), { message: "Hello from the shop, changed", sha: second, stage: "local" });
        assert.notEqual(await deployedImage(NAMESPACE, APP), firstWeb);
        assert.equal(await deployedImage(NAMESPACE, GO), goImage);
        assert.deepEqual(await goPods(), goPodsBefore, "hello-go's pods were not replaced");
        // hello-go still answers with the commit it was built from; no image of it was pushed for the new commit.
        assert.equal((await goAnswer()).gitSha, first);
        assert.equal(await registryDigest(`${registry}/${GO}`, `sha-${second.slice(0, 7)}`), undefined);
        assert.equal(built, 1, "one BuildKit build: web's image");

        const rollback = ok(await slipway(["rollback", "--stack", "local", "--app", APP], second), "slipway rollback --app web");
        assert.match(rollback.stdout, /rollback local app web to the image of/);
        assert.equal(await deployedImage(NAMESPACE, APP), firstWeb);
        assert.deepEqual(await answer(), { message: "Hello from the shop", sha: first, stage: "local" });
        assert.equal(await deployedImage(NAMESPACE, GO), goImage);
        assert.deepEqual(await goPods(), goPodsBefore, "a rollback of web leaves hello-go's pods alone");
    });

    it("the stack is destroyed and nothing stays", async () => {
        ok(await inProject("pulumi", ["destroy", "--stack", "local", "--yes", "--skip-preview"]), "pulumi destroy");
        stackCreated = false;
        const gone = await kubectl(["get", "namespace", NAMESPACE]);
        assert.notEqual(gone.code, 0);
        assert.match(gone.stderr, /NotFound/);
    });
});
