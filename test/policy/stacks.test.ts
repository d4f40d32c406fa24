/**
 * The whole pack against every real stack, captured under Pulumi mocks from its own Pulumi.<stack>.yaml and run with
 * the stage's policy config (policy/config/<stage>.json), as `pulumi preview --policy-pack policy
 * --policy-pack-config policy/config/<stage>.json` would.
 */
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { FAKE_ECR_SERVER, RecordingMocks } from "../support/mocks";
import { CapturedResource, EvaluatedStack, REPO_ROOT, STACKS, StackName, evaluateStackFull, readStackConfig } from "../support/stacks";
import { TestResource, Violation, runPack, stagePolicyConfig, unknownChecking, unwrapSecrets } from "./harness";

/** The mock monitor's marker for a value unknown during preview. */
const UNKNOWN = { __pulumiUnknown: true };

/**
 * The root stack resource as the engine's stack analysis sees it: type `pulumi:pulumi:Stack`, its outputs being the
 * program's exports (stacks/index.ts exports exactly the stage's outputs), unknown ones marked as in a preview.
 */
async function rootStack(stack: StackName, outputs: EvaluatedStack["outputs"]): Promise<TestResource> {
    const props: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(outputs)) {
        if (!pulumi.Output.isInstance(value)) {
            if (value !== undefined) props[name] = value;
            continue;
        }
        const known = await (value as unknown as { isKnown: Promise<boolean> }).isKnown;
        props[name] = known ? await new Promise((resolve) => value.apply(resolve)) : UNKNOWN;
    }
    return {
        type: "pulumi:pulumi:Stack",
        name: `slipway-${stack}`,
        urn: `urn:pulumi:${stack}::slipway::pulumi:pulumi:Stack::slipway-${stack}`,
        props,
    };
}

/**
 * A stack as the policy server sees it: stack rules get outputs (the mocks' state: inputs plus computed fields such as
 * auto-generated metadata.name), secrets unwrapped, unknowns throwing when read, and the root stack with its outputs.
 */
async function asPolicyResources(stack: StackName, evaluated: EvaluatedStack, preview = false): Promise<TestResource[]> {
    const mocks = new RecordingMocks(preview);
    const resources: TestResource[] = evaluated.resources
        .filter((r: CapturedResource) => !r.type.startsWith("pulumi:providers:"))
        .map((r) => {
            const state = mocks.newResource({ type: r.type, name: r.name, inputs: r.inputs, provider: r.provider, custom: true }).state;
            return { type: r.type, name: r.name, urn: r.urn, props: state };
        });
    return [...resources, await rootStack(stack, evaluated.outputs)].map((r) => ({ ...r, props: unknownChecking(unwrapSecrets(r.props)) }));
}

async function violations(stack: StackName, options: Parameters<typeof evaluateStackFull>[1] = {}): Promise<Violation[]> {
    const resources = await asPolicyResources(stack, await evaluateStackFull(stack, options), options.preview);
    return runPack(resources, stagePolicyConfig(stack));
}

const summary = (found: Violation[]) => found.map((v) => `${v.enforcement} ${v.policy}`).sort();

/** Advisory findings each stage is expected to carry: the prod-only rules where the stage does not meet them. */
const EXPECTED_ADVISORIES: Record<StackName, string[]> = {
    local: ["advisory slipway-pdb-allows-eviction", "advisory slipway-replicas-ha"],
    dev: ["advisory slipway-pdb-allows-eviction", "advisory slipway-replicas-ha"],
    qa: [],
    prod: [],
};

describe("policy pack on the real stacks", () => {
    for (const stack of STACKS) {
        it(`${stack}: passes every mandatory rule; advisories only where the stage is not prod`, async () => {
            const found = await violations(stack);
            assert.deepEqual(
                found.filter((v) => v.enforcement === "mandatory"),
                [],
            );
            assert.deepEqual(summary(found), EXPECTED_ADVISORIES[stack], JSON.stringify(found, null, 2));
        });
    }

    it("qa running a service with its own contract (no metrics port, other probes, user 65532) passes every rule", async () => {
        const app = { ...(readStackConfig("qa").app as Record<string, unknown>) };
        delete app.metrics;
        const config = {
            app: {
                ...app,
                port: 8000,
                metricsPort: false,
                probes: { startup: { path: "/livez" }, readiness: { path: "/ready" }, liveness: { path: "/livez" } },
                runAsUser: 65532,
            },
        };
        const found = await violations("qa", { config });
        assert.deepEqual(found, []);
    });

    it("dev preview (digests unknown): no mandatory violation; digest checks become advisory can't-run notes", async () => {
        const found = await violations("dev", { preview: true });
        assert.deepEqual(
            found.filter((v) => v.enforcement === "mandatory"),
            [],
        );
        const cantRun = found.filter((v) => v.message.startsWith("can't run policy"));
        assert.ok(
            cantRun.some((v) => v.policy === "slipway-image-digest" && /image is unknown/.test(v.message)),
            JSON.stringify(cantRun),
        );
    });
});

describe("the pack learns each stack's registry from the stack itself", () => {
    it("no shipped policy config names a registry server: an account id lives only in the stack files", () => {
        for (const stack of STACKS) {
            const text = readFileSync(path.join(REPO_ROOT, "policy", "config", `${stack}.json`), "utf8");
            assert.doesNotMatch(text, /registryServers|amazonaws\.com|\b\d{12}\b|127\.0\.0\.1/, stack);
        }
    });

    /** The registry the stack file says the stage's images live in: its own registry, or where its pins come from. */
    const declared: Record<StackName, () => string> = {
        local: () => (readStackConfig("local").registry as { server: string }).server,
        dev: () => FAKE_ECR_SERVER, // the ECR repositories dev creates (the mocks' account and region)
        qa: () => readStackConfig("qa").pullRegistry as string,
        prod: () => readStackConfig("prod").pullRegistry as string,
    };

    for (const stack of STACKS) {
        it(`${stack}: a container pulling from another registry is refused, naming the stack file's registry`, async () => {
            const resources = (await asPolicyResources(stack, await evaluateStackFull(stack))).map((r) => ({
                ...r,
                props: JSON.parse(JSON.stringify(r.props)),
            }));
            const deployment = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
            const container = deployment.props.spec.template.spec.containers[0];
            container.image = container.image.replace(/^[^/]+/, "ghcr.io/someone-else");
            const found = (await runPack(resources, stagePolicyConfig(stack))).filter(
                (v) => v.policy === "slipway-images-on-stack-registry",
            );
            assert.deepEqual(
                found.map((v) => [v.enforcement, v.message]),
                [
                    [
                        "mandatory",
                        `Deployment "app-deployment" container "hello" pulls "${container.image}" from ghcr.io, outside this stack's registry (${declared[stack]()}). Fix: mirror the image into the stack's registry and reference it there by digest.`,
                    ],
                ],
            );
        });
    }
});

describe("policy pack on deliberately broken stacks", () => {
    /** Captures a stack (prod by default), lets `breakIt` edit the captured resources, runs the pack with its config. */
    async function broken(breakIt: (resources: TestResource[]) => void, stack: StackName = "prod"): Promise<Violation[]> {
        const resources = (await asPolicyResources(stack, await evaluateStackFull(stack)))
            // A plain, editable copy (the proxy only guards unknowns, and a non-preview run has none).
            .map((r) => ({ ...r, props: JSON.parse(JSON.stringify(r.props)) }));
        breakIt(resources);
        return runPack(resources, stagePolicyConfig(stack));
    }
    const deployment = (resources: TestResource[]) => resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const app = (resources: TestResource[]) => deployment(resources).props.spec.template.spec.containers[0];

    it("a container image by tag fails slipway-image-digest with how to fix it", async () => {
        let image = "";
        const found = await broken((resources) => {
            image = app(resources).image.replace(/@sha256:.*/, ":build-1042");
            app(resources).image = image;
        });
        assert.deepEqual(
            found.map((v) => [v.enforcement, v.policy, v.resource, v.message]),
            [
                [
                    "mandatory",
                    "slipway-image-digest",
                    "app-deployment",
                    `container "hello" runs "${image}" by tag, which can be re-pushed to different content. Fix: reference the image as <repository>@sha256:<64 hex> (AppImage's ref output, or promote a digest into slipway:image.ref).`,
                ],
            ],
        );
    });

    it("removed limits fail slipway-container-resources", async () => {
        const found = await broken((resources) => {
            delete app(resources).resources.limits;
        });
        assert.deepEqual(
            found.map((v) => [v.enforcement, v.policy, v.message]),
            [
                [
                    "mandatory",
                    "slipway-container-resources",
                    'container "hello" has no resources.limits.cpu, resources.limits.memory. Fix: set requests and limits for cpu and memory (slipway:app.resources) so the scheduler can place the pod and one service cannot starve its neighbours.',
                ],
            ],
        );
    });

    it("a digest from another registry fails slipway-images-on-stack-registry in prod", async () => {
        let image = "";
        const found = await broken((resources) => {
            image = app(resources).image.replace(/^[^/]+/, "ghcr.io/someone-else");
            app(resources).image = image;
        });
        assert.deepEqual(
            found.map((v) => [v.enforcement, v.policy, v.message]),
            [
                [
                    "mandatory",
                    "slipway-images-on-stack-registry",
                    `Deployment "app-deployment" container "hello" pulls "${image}" from ghcr.io, outside this stack's registry (123456789012.dkr.ecr.eu-west-1.amazonaws.com). Fix: mirror the image into the stack's registry and reference it there by digest.`,
                ],
            ],
        );
    });

    it("dev: a build arg dropped from the app image fails slipway-build-base-images-pinned through the real app/Dockerfile", async () => {
        const found = await broken((resources) => {
            const image = resources.find((r) => r.type === "docker-build:index:Image" && r.name === "app-image")!;
            delete image.props.buildArgs.BUILD_IMAGE;
        }, "dev");
        assert.deepEqual(
            found.filter((v) => v.enforcement === "mandatory").map((v) => [v.policy, v.resource, v.message]),
            [
                [
                    "slipway-build-base-images-pinned",
                    "app-image",
                    'Dockerfile "FROM ${BUILD_IMAGE}": BUILD_IMAGE is not passed and has no default, not pinned by digest. Fix: write FROM ${SOME_IMAGE} with ARG SOME_IMAGE passed pinned by digest, or FROM <repository>@sha256:<64 hex>.',
                ],
            ],
        );
    });

    it("a renamed Service metrics port fails slipway-servicemonitor-targets-service only", async () => {
        const found = await broken((resources) => {
            const service = resources.find((r) => r.type === "kubernetes:core/v1:Service")!;
            const metrics = service.props.spec.ports.find((p: any) => p.name === "metrics");
            metrics.name = "prom";
        });
        assert.deepEqual(
            found.map((v) => v.policy),
            ["slipway-servicemonitor-targets-service"],
        );
        assert.equal(found[0].enforcement, "mandatory");
        assert.match(
            found[0].message,
            /^ServiceMonitor "[^"]+" in namespace "hello-prod" scrapes port "metrics", but Service "[^"]+" in namespace "hello-prod" defines only "http", "prom"\. Fix: name the Service's metrics port and use that name in endpoints\[\]\.port\.$/,
        );
    });

    it("a single unscaled replica passes config validation but fails prod's availability rules (advisory under dev's config)", async () => {
        const prodApp = readStackConfig("prod").app as Record<string, unknown>;
        const { autoscaling: _dropped, ...withoutAutoscaling } = prodApp;
        const resources = await asPolicyResources(
            "prod",
            await evaluateStackFull("prod", { config: { app: { ...withoutAutoscaling, replicas: 1 } } }),
        );
        const found = await runPack(resources, stagePolicyConfig("prod"));
        assert.deepEqual(summary(found), ["mandatory slipway-pdb-allows-eviction", "mandatory slipway-replicas-ha"]);
        assert.deepEqual(summary(await runPack(resources, stagePolicyConfig("dev"))), [
            "advisory slipway-pdb-allows-eviction",
            "advisory slipway-replicas-ha",
        ]);
        assert.match(
            found.find((v) => v.policy === "slipway-replicas-ha")!.message,
            /^Deployment "hello" in namespace "hello-prod" can run with 1 replica\(s\) \(spec\.replicas\); one node failure takes the service down\. Fix: set slipway:app\.replicas \(or app\.autoscaling\.minReplicas\) to at least 3\.$/,
        );
    });
});
