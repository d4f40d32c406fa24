/**
 * A team adopts Slipway for a service of its own (issue 15), as a new user would, on the real engine and node: the
 * package packed and installed into a project outside this repository, `npx slipway init` run on the team's
 * Dockerfile, then the installed CLI deploys the service, deploys a change to it, rolls it back and the stack is
 * destroyed. Nothing of this repository's program, stack files or sample app is in that project.
 */
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { deployedImage, get, kubectl } from "./support/machine";
import { fromEnv, ok, run, type Ran } from "./support/workspace";

const REPO = path.resolve(__dirname, "..", "..");
/** The team's service: its name, the namespace Slipway gives it in the local stage, a NodePort no other suite uses. */
const APP = "web";
const NAMESPACE = `${APP}-local`;
const NODE_PORT = 30091;

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

describe("issue 15: a team adopts Slipway for its own service, outside this repository", function () {
    let tmp = "";
    let project = "";
    let env: NodeJS.ProcessEnv = {};
    let stackCreated = false;
    const inProject = (command: string, args: string[], extra: NodeJS.ProcessEnv = {}, timeoutSeconds = 600): Promise<Ran> =>
        run(command, args, { cwd: project, env: { ...env, ...extra }, timeoutSeconds });
    /** The installed CLI, as the team runs it; each deploy says which commit it ships (as CI passes it). */
    const slipway = (args: string[], sha: string) =>
        inProject("npx", ["--no-install", "slipway", ...args], {
            SLIPWAY_GIT_SHA: sha,
            SLIPWAY_GIT_BRANCH: "main",
            SLIPWAY_BUILD_NUMBER: sha.slice(0, 4),
        });
    const answer = async () => JSON.parse((await get(NODE_PORT, "/")).body) as { message: string; sha: string; stage: string };

    before(async () => {
        tmp = mkdtempSync("/var/tmp/slipway-adopt-");
        project = path.join(tmp, "shop");
        mkdirSync(path.join(project, APP), { recursive: true });
        env = {
            // npm's own variables from the enclosing `npm run` would steer the inner npm; the suite's PATH brings the
            // repository's Node 24, the pinned Pulumi CLI and kubectl; KUBECONFIG is the node's.
            ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_"))),
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
        ok(await inProject("npm", ["install", "--save-exact", tarball, "--no-audit", "--no-fund"]), "npm install the tarball");
    });

    after(async () => {
        if (stackCreated) await inProject("pulumi", ["destroy", "--stack", "local", "--yes", "--skip-preview"]);
        if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it("slipway init writes the project from the Dockerfile and says what it assumed", async () => {
        const init = ok(await inProject("npx", ["--no-install", "slipway", "init"]), "slipway init");
        for (const said of [/runtime target: runtime/, /port 8080 \(EXPOSE 8080\)/, /user 10001/])
            assert.match(init.stdout, said, `init said ${said}`);
        const install = init.stdout.split("\n")[init.stdout.split("\n").indexOf("Next:") + 1]!.trim();
        assert.match(install, /^npm install /);
        ok(await inProject("sh", ["-c", install]), "the npm install init printed");
        const local = readFileSync(path.join(project, "Pulumi.local.yaml"), "utf8");
        assert.match(local, /name: web\n/);
        assert.match(local, /\n {4}context: web\n {4}dockerfile: Dockerfile\n/);
    });

    it("the installed CLI deploys the service to the node, deploys a change, rolls it back; the stack is destroyed and nothing stays", async () => {
        ok(await inProject("pulumi", ["stack", "init", "local", "--secrets-provider", "passphrase"]), "pulumi stack init local");
        stackCreated = true;
        // What this machine needs and a team on a networked machine would not: base images this machine built from
        // Debian packages (it cannot pull), and a NodePort the other suites leave free.
        const base = fromEnv("SLIPWAY_E2E_BASE_IMAGE");
        for (const [key, value] of [
            ["slipway:buildImage.baseImage", base],
            ["slipway:image.runtimeBaseImage", base],
            ["slipway:registry.server", fromEnv("SLIPWAY_E2E_REGISTRY")],
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
        console.log(`      first up of the team's service: ${up.seconds.toFixed(1)} s`);
        assert.deepEqual(await answer(), { message: "Hello from the shop", sha: first, stage: "local" });
        const firstImage = await deployedImage(NAMESPACE, APP);
        assert.match(firstImage, /^127\.0\.0\.1:\d+\/web@sha256:[0-9a-f]{64}$/);

        writeFileSync(path.join(project, APP, "server.js"), server("Hello from the shop, changed"));
        const second = "2".repeat(40);
        ok(await slipway(["up", "--stack", "local"], second), "slipway up after a change");
        assert.deepEqual(await answer(), { message: "Hello from the shop, changed", sha: second, stage: "local" });
        const secondImage = await deployedImage(NAMESPACE, APP);
        assert.notEqual(secondImage, firstImage);

        const rollback = ok(await slipway(["rollback", "--stack", "local"], second), "slipway rollback");
        assert.match(rollback.stdout, /rollback local to the image of/);
        assert.equal(await deployedImage(NAMESPACE, APP), firstImage);
        assert.deepEqual(await answer(), { message: "Hello from the shop", sha: first, stage: "local" });

        ok(await inProject("pulumi", ["destroy", "--stack", "local", "--yes", "--skip-preview"]), "pulumi destroy");
        stackCreated = false;
        const gone = await kubectl(["get", "namespace", NAMESPACE]);
        assert.notEqual(gone.code, 0);
        assert.match(gone.stderr, /NotFound/);
    });
});
