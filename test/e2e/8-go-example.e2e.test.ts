/**
 * The second example service on the real engine and node (issue 15): examples/hello-go, Go with no Slipway code in
 * it, deployed beside the first example (the Node sample in app/) in one stage: the sample is the stack's first app,
 * hello-go an entry of slipway:apps with its own Dockerfile, build environment and targets, on bases made from Debian
 * packages (scripts/offline-base.sh go). Each runs its own digest and answers on its own NodePort with the git sha it
 * was built from; the stack is destroyed again. hello-go's entry is the local stack's app with only what the app
 * contract says differs for it, so a key that the Go service would need and Slipway lacks fails here.
 */
import * as assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { deployedImage, get, kubectl, registryDigest } from "./support/machine";
import { stackFile, stackOutputs } from "./support/shared";
import { fromEnv, ok, run, Workspace } from "./support/workspace";

const STACK = "e2e-go";
const APP = "hello-go";
/** The stage's namespace and the sample's NodePort: not the local stack's, which still runs beside this one. */
const NAMESPACE = "examples-local";
const NODE_PORT = 30081;
const SAMPLE_NODE_PORT = 30083;

describe("issue 15: the Go example deploys beside the Node sample in one stage on the real node", function () {
    // Not the suites' shared copy: a stack of its own that needs no up:local.
    const ws = new Workspace("go");
    Object.assign(ws.env, { KUBECONFIG: fromEnv("KUBECONFIG") });
    const registry = fromEnv("SLIPWAY_E2E_REGISTRY");
    let sha = "";

    before(async () => {
        // Its two bases by digest in this machine's registry, from one debootstrap (once; reused by tag).
        const bases = ok(
            await run("bash", ["scripts/offline-base.sh", "go", registry], { cwd: ws.dir, env: ws.env, timeoutSeconds: 900 }),
            "offline-base.sh go",
        );
        const [goBase, goRuntime] = bases.stdout.trim().split("\n");
        assert.match(goBase, new RegExp(`^${registry}/slipway/go-base@sha256:[0-9a-f]{64}$`));
        assert.match(goRuntime, new RegExp(`^${registry}/slipway/go-runtime@sha256:[0-9a-f]{64}$`));

        const local = stackFile(ws, "local") as Record<string, any>;
        const base = fromEnv("SLIPWAY_E2E_BASE_IMAGE");
        // hello-go's entry starts from the sample's app settings, without what belongs to the first app alone.
        const sampleApp = { ...local["slipway:app"] };
        delete sampleApp.name;
        delete sampleApp.quota;
        const config = {
            ...local,
            "slipway:kubernetes": { namespace: NAMESPACE },
            // The sample's build environment in a repository of its own: the local stack's keeps its tags.
            "slipway:registry": { ...local["slipway:registry"], buildRepository: "examples-build-env" },
            "slipway:buildImage": { ...local["slipway:buildImage"], baseImage: base },
            "slipway:image": { ...local["slipway:image"], runtimeBaseImage: base },
            "slipway:app": { ...local["slipway:app"], nodePort: SAMPLE_NODE_PORT },
            "slipway:apps": {
                [APP]: {
                    ...sampleApp,
                    // Its own build environment, pushed to hello-go-build-env.
                    buildImage: { version: "1.0.0", baseImage: goBase, context: "examples/hello-go/build-image" },
                    image: { source: "build", context: "examples/hello-go", targets: { test: "test" }, runtimeBaseImage: goRuntime },
                    nodePort: NODE_PORT,
                    metrics: { requestsTotal: "http_requests_total" },
                    env: {},
                    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                    // hello-go reads JSON (examples/hello-go/README.md): a .json path makes Slipway render it so.
                    configFile: {
                        path: "/etc/slipway/config.json",
                        content: { message: "Hello from the Go example", features: { e2e: true } },
                    },
                },
            },
        };
        writeFileSync(path.join(ws.dir, `Pulumi.${STACK}.yaml`), toYaml({ config }));
        sha = ws.commit(`e2e: the ${STACK} stack`);
        ok(await ws.pulumi(["stack", "init", STACK, "--secrets-provider", "passphrase"]), `stack init ${STACK}`);
    });

    after(() => ws.dispose());

    it("builds hello-go's build environment and image from examples/hello-go beside the sample's, each run by its own digest", async () => {
        ok(await ws.pulumi(["up", "--stack", STACK, "--yes", "--skip-preview"], { timeoutSeconds: 1500 }), `up ${STACK}`);
        const outputs = await stackOutputs(ws, STACK);
        const apps = outputs.apps as Record<string, { imageRef: string; gitSha: string }>;
        assert.deepEqual(Object.keys(apps).sort(), ["hello", APP]);
        const ref = apps[APP]!.imageRef;
        assert.match(ref, new RegExp(`^${registry}/${APP}@sha256:[0-9a-f]{64}$`));
        assert.match(apps.hello!.imageRef, new RegExp(`^${registry}/hello@sha256:[0-9a-f]{64}$`));
        assert.equal(outputs.appImageRef, apps.hello!.imageRef);
        // The digests are the registry's (for the tags pushed with them), and each is what its Deployment in the
        // stage's one namespace runs.
        assert.equal(`${registry}/${APP}@${await registryDigest(`${registry}/${APP}`, `sha-${sha.slice(0, 7)}`)}`, ref);
        const buildEnv = `${registry}/${APP}-build-env`;
        assert.match(String(await registryDigest(buildEnv, "1.0.0")), /^sha256:[0-9a-f]{64}$/);
        assert.match(String(outputs.buildImageRef), new RegExp(`^${registry}/examples-build-env@sha256:[0-9a-f]{64}$`));
        assert.equal(await deployedImage(NAMESPACE, APP), ref);
        assert.equal(await deployedImage(NAMESPACE, "hello"), apps.hello!.imageRef);
        assert.equal(apps[APP]!.gitSha, sha);
    });

    it("each answers on its own NodePort; hello-go with the git sha it was built from, its stage and the mounted config", async () => {
        const sample = JSON.parse((await get(SAMPLE_NODE_PORT, "/")).body) as Record<string, any>;
        assert.deepEqual([sample.service, sample.gitSha, sample.stage], ["hello", sha, "local"]);
        const info = await get(NODE_PORT, "/");
        assert.equal(info.status, 200, info.body);
        const body = JSON.parse(info.body) as Record<string, any>;
        assert.deepEqual(
            { service: body.service, gitSha: body.gitSha, stage: body.stage, message: body.message, e2e: body.features?.e2e },
            { service: APP, gitSha: sha, stage: "local", message: "Hello from the Go example", e2e: true },
        );
        assert.equal((await get(NODE_PORT, "/readyz")).status, 200);
    });

    it("is destroyed with its namespace, leaving nothing in the stack", async () => {
        ok(await ws.pulumi(["destroy", "--stack", STACK, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `destroy ${STACK}`);
        // Gone, not terminating: the namespace's objects went with it.
        const namespace = await kubectl(["get", "namespace", NAMESPACE, "-o", "name"]);
        assert.match(namespace.stderr, /NotFound/, `namespace ${NAMESPACE}: ${namespace.stdout}`);
        // kube-proxy drops the NodePort's rules shortly after the Service is gone.
        let status = -1;
        for (let i = 0; i < 20 && status !== 0; i++) {
            status = (await get(NODE_PORT, "/")).status;
            if (status !== 0) await new Promise((r) => setTimeout(r, 500));
        }
        assert.equal(status, 0, "nothing answers on the NodePort");
        ok(await ws.pulumi(["stack", "rm", STACK, "--yes"]), `stack rm ${STACK}`);
    });
});
