/**
 * Slipway on the real engine (issue 8): `pulumi preview`, `npm run up:local`, a no-op up, a one-line change,
 * promotion into a qa-shaped stack and rollback from its real history, bad config, secrets and the policy pack,
 * with the real CLI, the kubernetes and docker-build providers, BuildKit, the registry and the node.
 */
import * as assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { buildkitBuilds, deployedImage, get, kubectlOk, registryDigest } from "./support/machine";
import { changeAppSource, plannedChanges, stackFile, stackHistory, stackOutputs, workspace } from "./support/shared";
import { fromEnv, ok } from "./support/workspace";

const ws = workspace();
const LOCAL = "local";
const QA = "e2e-qa";
const NAMESPACE = "hello-local";

/** The newest history entry's `resourceChanges` without zero counts. */
function nonZero(changes: Record<string, number> | undefined): Record<string, number> {
    return Object.fromEntries(Object.entries(changes ?? {}).filter(([, n]) => n > 0));
}

describe("issue 8: Slipway on the real engine", function () {
    let firstRef = "";

    before(async () => {
        // What a developer does before the first run: nothing but choosing the stack (the passphrase is empty).
        ok(await ws.pulumi(["stack", "init", LOCAL, "--secrets-provider", "passphrase"]), "stack init local");
        assert.equal(ws.git("status", "--porcelain"), "", "stack init must not change the committed stack file");
    });

    it("refuses a Pulumi.<stack>.yaml with three bad keys on up: one error naming all three, no stack trace, nothing in state", async () => {
        const config = stackFile(ws, LOCAL) as Record<string, any>;
        const broken = structuredClone(config);
        broken["slipway:app"].replicas = 0;
        broken["slipway:app"].replica = 2;
        broken["slipway:image"].runtimeBaseImage = "node:24-bookworm-slim";
        writeFileSync(path.join(ws.dir, "Pulumi.e2e-broken.yaml"), toYaml({ config: broken }));
        ok(await ws.pulumi(["stack", "init", "e2e-broken", "--secrets-provider", "passphrase"]), "stack init e2e-broken");

        // `up`, not `preview`: a preview never writes state, so only an update shows that nothing reaches it.
        const up = await ws.pulumi(["up", "--stack", "e2e-broken", "--yes", "--skip-preview", "--non-interactive"]);
        assert.notEqual(up.code, 0);
        const output = up.stdout + up.stderr;
        assert.match(output, /Invalid Slipway stack config \(3 problems\)/);
        assert.match(output, /slipway:app\.replicas: expected at least 1 replica/);
        assert.match(output, /slipway:app\.replica: unknown key/);
        assert.match(output, /slipway:image\.runtimeBaseImage: expected an image pinned by digest/);
        // The progress line echoes the first line; the diagnostics hold the error once, with every key.
        const diagnostics = output.slice(output.indexOf("Diagnostics:"));
        assert.equal((diagnostics.match(/Invalid Slipway stack config/g) ?? []).length, 1, "one error, not one per key");
        // A config error is a message for the person who wrote the file, not a crash of the program.
        assert.doesNotMatch(output, /\bat .*\.ts:\d+|StackConfigError|\x1b\[/, "no stack trace, error class or colour codes");

        // An update records its root Stack resource before the program runs; nothing of the program may follow it.
        const state = JSON.parse(ok(await ws.pulumi(["stack", "export", "--stack", "e2e-broken"]), "export").stdout);
        const types = ((state.deployment.resources ?? []) as { type: string }[]).map((r) => r.type);
        assert.deepEqual(
            types.filter((t) => t !== "pulumi:pulumi:Stack"),
            [],
            "no resource of the program in state",
        );
        ok(await ws.pulumi(["stack", "rm", "e2e-broken", "--yes", "--force"]), "stack rm e2e-broken");
    });

    it("previews the local stack without building anything, listing every resource it would create", async () => {
        // The base images up:local would choose on this offline machine, set the same way it sets them.
        const base = fromEnv("SLIPWAY_E2E_BASE_IMAGE");
        for (const key of ["buildImage.baseImage", "image.runtimeBaseImage"]) {
            ok(await ws.pulumi(["config", "set", "--stack", LOCAL, "--path", key, base]), `config set ${key}`);
        }
        ws.commit("e2e: the offline base image");
        const builds = await buildkitBuilds();
        const preview = ok(await ws.pulumi(["preview", "--stack", LOCAL, "--json"]), "preview");
        assert.deepEqual(await buildkitBuilds(), builds, "a preview must not run a BuildKit build");
        const steps = plannedChanges(preview.stdout);
        assert.ok(
            steps.every((s) => s.startsWith("create ")),
            steps.join("\n"),
        );
        for (const expected of [
            "create docker-build:index:Image::build-env",
            "create docker-build:index:Image::app-image",
            "create kubernetes:apps/v1:Deployment::app-deployment",
            "create kubernetes:core/v1:Service::app-service",
            "create kubernetes:core/v1:Namespace::stage-ns",
        ]) {
            assert.ok(steps.includes(expected), `${expected} missing from:\n${steps.join("\n")}`);
        }
    });

    it("npm run up:local builds both images with BuildKit, pushes them, and runs the app by the registry's digest", async () => {
        const builds = await buildkitBuilds();
        const up = ok(await ws.npm("up:local", [], { timeoutSeconds: 1200 }), "npm run up:local");
        const url = up.stdout.trim().split("\n").pop()!;
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.ok((await buildkitBuilds()).length >= builds.length + 2, "both images built by BuildKit");

        const outputs = await stackOutputs(ws, LOCAL);
        const head = ws.git("rev-parse", "HEAD");
        const repository = `${fromEnv("SLIPWAY_E2E_REGISTRY")}/hello`;
        const pushed = await registryDigest(repository, `sha-${head.slice(0, 7)}`);
        assert.equal(outputs.appImageRef, `${repository}@${pushed}`);
        const buildRef = String(outputs.buildImageRef);
        assert.equal(
            buildRef,
            `${fromEnv("SLIPWAY_E2E_REGISTRY")}/slipway-build-env@${await registryDigest(`${fromEnv("SLIPWAY_E2E_REGISTRY")}/slipway-build-env`, "1.0.0")}`,
        );
        assert.equal(await deployedImage(NAMESPACE), outputs.appImageRef);
        const pods = JSON.parse(await kubectlOk(["-n", NAMESPACE, "get", "pods", "-o", "json"])) as { items: any[] };
        for (const pod of pods.items) {
            // The node pulled it by digest: the image ID the kubelet reports is that same digest.
            assert.equal(pod.status.containerStatuses[0].imageID, outputs.appImageRef);
        }
        const answer = await get(Number(new URL(url).port), "/");
        assert.equal(answer.status, 200);
        assert.match(answer.body, /Hello from the local stage/);
        firstRef = String(outputs.appImageRef);
    });

    it("a second up with no change changes nothing and builds nothing", async () => {
        const builds = await buildkitBuilds();
        ok(await ws.npm("up:local", [], { timeoutSeconds: 600 }), "npm run up:local (no change)");
        assert.deepEqual(await buildkitBuilds(), builds, "no BuildKit build on a no-op up");
        const [last] = await stackHistory(ws, LOCAL);
        assert.equal(last.result, "succeeded");
        assert.deepEqual(Object.keys(nonZero(last.resourceChanges)), ["same"]);
    });

    it("a one-line change in app/src previews as a new image on the Deployment and nothing else; up deploys it", async () => {
        changeAppSource(ws, "a one-line change");
        const preview = ok(await ws.pulumi(["preview", "--stack", LOCAL, "--diff", "--json"]), "preview --diff");
        // A new image is a replacement of the image resource (a new build with the current provenance); the replaced
        // image stays in the registry.
        assert.deepEqual(plannedChanges(preview.stdout), [
            "replace docker-build:index:Image::app-image",
            "update kubernetes:apps/v1:Deployment::app-deployment",
        ]);
        const deployment = (JSON.parse(preview.stdout).steps as any[]).find((s) => s.urn.endsWith("::app-deployment"));
        assert.ok(
            Object.keys(deployment.detailedDiff ?? {}).some((k) => k.includes("containers[0].image")),
            `the Deployment's diff names its image: ${Object.keys(deployment.detailedDiff ?? {}).join(", ")}`,
        );
        ok(await ws.npm("up:local", [], { timeoutSeconds: 900 }), "npm run up:local (one-line change)");
        const outputs = await stackOutputs(ws, LOCAL);
        assert.notEqual(outputs.appImageRef, firstRef);
        assert.equal(await deployedImage(NAMESPACE), outputs.appImageRef);
    });

    it("promote pins the local digest in a qa-shaped stack through the Automation API; its history records it", async () => {
        // A qa-shaped stack on this node: stage qa, pinned to the first digest, as qa would be after an earlier promotion.
        const qa = stackFile(ws, "qa") as Record<string, any>;
        qa["slipway:image"] = { source: "pinned", ref: firstRef, buildNumber: "1", gitBranch: "main", gitSha: "unknown" };
        // It pulls from this machine's registry, where promotion takes the local stage's digests from.
        qa["slipway:pullRegistry"] = fromEnv("SLIPWAY_E2E_REGISTRY");
        delete qa["slipway:kubernetes"];
        writeFileSync(path.join(ws.dir, `Pulumi.${QA}.yaml`), toYaml({ config: qa }));
        ok(await ws.pulumi(["stack", "init", QA, "--secrets-provider", "passphrase"]), `stack init ${QA}`);
        ws.commit(`e2e: the ${QA} stack`);
        ok(await ws.pulumi(["up", "--stack", QA, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `up ${QA}`);
        assert.equal(await deployedImage("hello-qa"), firstRef);

        const local = await stackOutputs(ws, LOCAL);
        ok(await ws.npm("promote", ["--from", LOCAL, "--to", QA, "--yes"], { timeoutSeconds: 600 }), "npm run promote");
        assert.equal(await deployedImage("hello-qa"), local.appImageRef);
        const [last] = await stackHistory(ws, QA);
        assert.equal(last.result, "succeeded");
        assert.equal(JSON.parse(last.config!["slipway:image"].value!).ref, local.appImageRef);
    });

    it("rollback restores the previous digest from the real history, and a later up is a no-op", async () => {
        const rollback = ok(await ws.npm("rollback", ["--stack", QA], { timeoutSeconds: 600 }), "npm run rollback");
        assert.match(rollback.stdout, new RegExp(`rollback ${QA} to `));
        assert.equal(await deployedImage("hello-qa"), firstRef);
        const [last] = await stackHistory(ws, QA);
        assert.equal(JSON.parse(last.config!["slipway:image"].value!).ref, firstRef);
        ws.commit(`e2e: ${QA} rolled back`);
        ok(await ws.pulumi(["up", "--stack", QA, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `up ${QA} after rollback`);
        const [again] = await stackHistory(ws, QA);
        assert.deepEqual(Object.keys(nonZero(again.resourceChanges)), ["same"]);
    });

    it("keeps a secret out of the exported state and the history, and refuses to render it into YAML", async () => {
        const secret = `s3cr3t-${process.pid}-${Date.now()}`;
        ok(await ws.pulumi(["config", "set", "--stack", QA, "--secret", "--path", "secretEnv.API_TOKEN", secret]), "config set --secret");
        ok(await ws.pulumi(["up", "--stack", QA, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `up ${QA} with a secret`);
        const base64 = Buffer.from(secret).toString("base64");
        const state = ok(await ws.pulumi(["stack", "export", "--stack", QA]), "export").stdout;
        assert.ok(!state.includes(secret) && !state.includes(base64), "the secret, plain or base64, in the exported state");
        const history = ok(await ws.pulumi(["stack", "history", "--stack", QA, "--json"]), "history").stdout;
        assert.ok(!history.includes(secret) && !history.includes(base64), "the secret in the history");
        // It does reach the cluster, as a Secret the pod reads by reference.
        const inCluster = await kubectlOk(["-n", "hello-qa", "get", "secrets", "-o", "jsonpath={.items[*].data.API_TOKEN}"]);
        assert.equal(Buffer.from(inCluster.trim(), "base64").toString(), secret);

        // Rendering this stack would write the Secret's data in plain text: refused before anything is written.
        const rendered = path.join(ws.dir, ".slipway", "rendered-qa");
        const qa = stackFile(ws, QA) as Record<string, any>;
        writeFileSync(
            path.join(ws.dir, "Pulumi.e2e-render.yaml"),
            toYaml({ config: { ...qa, "slipway:kubernetes": { renderYamlTo: rendered } } }),
        );
        ok(await ws.pulumi(["stack", "init", "e2e-render", "--secrets-provider", "passphrase"]), "stack init e2e-render");
        ok(await ws.pulumi(["config", "set", "--stack", "e2e-render", "--secret", "--path", "secretEnv.API_TOKEN", secret]), "secret");
        const refused = await ws.pulumi(["up", "--stack", "e2e-render", "--yes", "--skip-preview"], { timeoutSeconds: 600 });
        assert.notEqual(refused.code, 0);
        assert.match(refused.stdout + refused.stderr, /slipway:kubernetes\.renderYamlTo: would write secretEnv values in plain text/);
        assert.ok(!existsSync(rendered), "nothing rendered");
        ok(await ws.pulumi(["stack", "rm", "e2e-render", "--yes", "--force"]), "stack rm e2e-render");
    });
});
