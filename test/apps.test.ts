/**
 * Many apps per stage: `slipway:apps` beside `slipway:app`, each with its own image and workload in the stage's one
 * namespace. Config rules without mocks; the composed stage under mocks.
 */
import { strict as assert } from "node:assert";
import { ComponentType } from "../contracts";
import { parseStackConfig, StackConfigError } from "../stacks/config";
import { pinnedBuildingStageWarnings } from "../stacks/stage";
import { isSecretInput, registeredUrns, revealInput, valueOf } from "./support/mocks";
import { evaluateStackFull, ofType, readStackConfig, single } from "./support/stacks";

const GO_DIGEST = `sha256:${"60".repeat(32)}`;

/** A second app as a team adds it to local: a Go service with its own build environment. */
const goApp = (overrides: Record<string, unknown> = {}) => ({
    image: { source: "build", context: "examples/hello-go", targets: { test: "test" } },
    buildImage: { version: "1.0.0", context: "examples/hello-go/build-image" },
    port: 8080,
    metricsPort: false,
    replicas: 1,
    nodePort: 30081,
    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
    ...overrides,
});

const local = readStackConfig("local") as { app: Record<string, unknown> };

/** local with more apps, and a quota with room for them unless `top` says otherwise. */
const localWith = (apps: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
    ...local,
    app: { ...local.app, quota: { cpu: "8", memory: "8Gi", pods: 40 } },
    apps,
    ...top,
});

/** The problems a bad config is refused with. */
function problems(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw);
    } catch (err) {
        assert.ok(err instanceof StackConfigError, String(err));
        return err.problems;
    }
    return assert.fail("expected the config to be refused");
}

describe("many apps per stage: config", () => {
    it("parses slipway:apps with the same defaults as slipway:app; a stack without it has none", () => {
        assert.deepEqual(parseStackConfig(readStackConfig("local")).apps, {});
        const config = parseStackConfig(localWith({ "hello-go": goApp() }));
        const go = config.apps["hello-go"];
        assert.equal(go.image.source, "build");
        assert.deepEqual(go.probes.readiness.path, "/readyz");
        assert.equal(go.runAsUser, 10001);
        assert.equal(go.buildImage?.version, "1.0.0");
        assert.equal(go.nodePort, 30081);
    });

    it("refuses an app named like the first app, a name that is not a DNS label, and a taken nodePort, naming the key", () => {
        assert.deepEqual(problems(localWith({ hello: goApp({ nodePort: 30082 }) })), [
            "slipway:apps.hello: names the stage's first app (slipway:app.name hello); choose another name",
        ]);
        assert.match(problems(localWith({ Hello_Go: goApp() })).join("\n"), /^slipway:apps\.Hello_Go: bad key name: /);
        assert.deepEqual(problems(localWith({ "hello-go": goApp({ nodePort: 30080 }) })), [
            "slipway:apps.hello-go.nodePort: 30080 is also slipway:app.nodePort; each app needs its own",
        ]);
        assert.deepEqual(problems(localWith({ a: goApp(), b: goApp() })), [
            "slipway:apps.b.nodePort: 30081 is also slipway:apps.a.nodePort; each app needs its own",
        ]);
    });

    it("refuses a build in qa and prod, a build with no build environment, a misspelt key and a quota too small for every app", () => {
        const qa = readStackConfig("qa");
        const pinnedElsewhere = `registry.example.com/hello-go@${GO_DIGEST}`;
        const qaProblems = problems({
            ...qa,
            apps: {
                "hello-go": goApp({ nodePort: undefined, image: { source: "build" } }),
                pinned: goApp({ nodePort: undefined, image: { source: "pinned", ref: pinnedElsewhere } }),
            },
        });
        assert.ok(
            qaProblems.includes(
                `slipway:apps.hello-go.image.source: expected "pinned" in qa: qa and prod run digests promoted from the stage before, never a rebuild`,
            ),
            qaProblems.join("\n"),
        );
        assert.ok(
            qaProblems.some((p) =>
                p.startsWith("slipway:apps.pinned.image.ref: is on registry.example.com, but slipway:pullRegistry says qa pulls from"),
            ),
            qaProblems.join("\n"),
        );
        assert.ok(qaProblems.includes("slipway:registry: is required: slipway:apps.hello-go builds its image"), qaProblems.join("\n"));

        const noBuildEnv = problems(
            localWith(
                { "hello-go": goApp({ buildImage: undefined }) },
                { buildImage: undefined, image: { source: "pinned", ref: `127.0.0.1:5001/hello@${GO_DIGEST}` } },
            ),
        );
        assert.deepEqual(noBuildEnv, [
            "slipway:apps.hello-go.buildImage: is required when the stage has no slipway:buildImage (the build environment this app builds in)",
        ]);
        assert.deepEqual(problems(localWith({ "hello-go": goApp({ replica: 2 }) })), [
            "slipway:apps.hello-go.replica: unknown key (check its spelling against docs/configuration.md)",
        ]);
        assert.deepEqual(problems(localWith({ "hello-go": goApp({ quota: { cpu: "1", memory: "1Gi", pods: 4 } }) })), [
            "slipway:apps.hello-go.quota: unknown key (check its spelling against docs/configuration.md)",
        ]);
        // local's quota holds 10 pods; 4 more apps of 1 replica need 3 each during a rollout, plus the first app's 3.
        const many = Object.fromEntries(["a", "b", "c"].map((name, i) => [name, goApp({ nodePort: 30090 + i })]));
        assert.deepEqual(problems(localWith(many, { app: local.app })), [
            "slipway:app.quota.pods: expected at least 12 pods: the stage's 4 apps roll out at once at most",
            "slipway:app.quota.cpu: expected at least 2400m: the sum over the stage's 4 apps of limits.cpu x pods during a rollout",
        ]);
        const hungry = goApp({ resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "600Mi" } } });
        assert.deepEqual(problems(localWith({ "hello-go": hungry }, { app: local.app })), [
            "slipway:app.quota.cpu: expected at least 2100m: the sum over the stage's 2 apps of limits.cpu x pods during a rollout",
            "slipway:app.quota.memory: expected at least 2568Mi: the sum over the stage's 2 apps of limits.memory x pods during a rollout",
        ]);
    });

    it("refuses apps whose repositories, object names or ingress hosts would collide, and pinned apps on two registries", () => {
        assert.deepEqual(
            problems(
                localWith(
                    { slipway: goApp() },
                    { registry: { type: "external", server: "127.0.0.1:5001", buildRepository: "slipway-build-env" } },
                ),
            ),
            [
                "slipway:apps.slipway: its build environment would go to the repository slipway-build-env, which holds the stage's build environment (slipway:registry.buildRepository); choose another name",
            ],
        );
        assert.deepEqual(problems(localWith({ "default-deny-ingress": goApp() })), [
            "slipway:apps.default-deny-ingress: is the name of the stage's default-deny NetworkPolicy; choose another name",
        ]);
        const egress = { dnsNamespace: "kube-system", allow: [] };
        assert.deepEqual(problems(localWith({ api: goApp({ egress, nodePort: 30082 }), "api-egress": goApp() })), [
            "slipway:apps.api-egress: is the name of api's egress NetworkPolicy; choose another name",
        ]);
        const ingress = (host: string) => ({ host, className: "nginx" });
        const withIngress = { app: { ...localWith({}).app, ingress: ingress("shop.example.com"), allowFrom: ["ingress-nginx"] } };
        assert.deepEqual(
            problems(localWith({ "hello-go": goApp({ ingress: ingress("shop.example.com"), allowFrom: ["ingress-nginx"] }) }, withIngress)),
            ["slipway:apps.hello-go.ingress.host: shop.example.com is also slipway:app.ingress.host; each app needs its own host"],
        );
        const prod = readStackConfig("prod") as Record<string, unknown>;
        const { pullRegistry: _named, ...unnamed } = prod;
        const elsewhere = goApp({ nodePort: undefined, image: { source: "pinned", ref: `registry.example.com/hello-go@${GO_DIGEST}` } });
        assert.deepEqual(
            problems({
                ...unnamed,
                app: { ...(prod.app as object), quota: { cpu: "20", memory: "20Gi", pods: 60 } },
                apps: { "hello-go": elsewhere },
            }),
            [
                "slipway:apps.hello-go.image.ref: is on registry.example.com, but slipway:image is on 123456789012.dkr.ecr.eu-west-1.amazonaws.com: a stage pulls every app from one registry (set slipway:pullRegistry to it)",
            ],
        );
    });

    it("the app contract holds for every app: a metrics port equal to the port is refused", () => {
        assert.deepEqual(problems(localWith({ "hello-go": goApp({ metricsPort: 8080 }) })), [
            "slipway:apps.hello-go.metricsPort: expected a port different from the app's port",
        ]);
    });

    it("a building stage warns once per app a rollback pinned", () => {
        const ref = `127.0.0.1:5001/hello-go@${GO_DIGEST}`;
        const warnings = pinnedBuildingStageWarnings(
            parseStackConfig(localWith({ "hello-go": goApp({ image: { source: "pinned", ref } }) })),
            "local",
        );
        assert.equal(warnings.length, 1);
        assert.match(
            warnings[0],
            new RegExp(`pins slipway:apps\\.hello-go\\.image to ${ref.replace(/[.]/g, "\\.")} .*builds none of hello-go's changes`),
        );
    });
});

describe("many apps per stage: every built app's Dockerfile has the targets its config names", () => {
    it("refuses a target the Dockerfile lacks and a Dockerfile that does not exist, naming the key, before any resource", async () => {
        const refusal = async (apps: Record<string, unknown>) => {
            const error = await evaluateStackFull("local", { config: { apps } }).then(
                () => undefined,
                (err: unknown) => err,
            );
            assert.ok(error instanceof StackConfigError, String(error));
            assert.deepEqual(registeredUrns(), [], "no resource was registered");
            return error.problems;
        };
        assert.deepEqual(
            await refusal({
                "hello-go": goApp({
                    image: { source: "build", context: "examples/hello-go", targets: { runtime: "final", test: "test" } },
                }),
            }),
            [
                "slipway:apps.hello-go.image.targets.runtime: examples/hello-go/Dockerfile has no stage final (its stages: compile, test, runtime, artifact); name one of them, or add FROM … AS final",
            ],
        );
        // The test target defaults to artifact, which hello-go's Dockerfile has; a misspelt one is refused too.
        assert.deepEqual(
            await refusal({ "hello-go": goApp({ image: { source: "build", context: "examples/hello-go", targets: { test: "tests" } } }) }),
            [
                "slipway:apps.hello-go.image.targets.test: examples/hello-go/Dockerfile has no stage tests (its stages: compile, test, runtime, artifact); name one of them, or add FROM … AS tests",
            ],
        );
        assert.deepEqual(await refusal({ "hello-go": goApp({ image: { source: "build", context: "examples/hello-rust" } }) }), [
            "slipway:apps.hello-go.image.dockerfile: examples/hello-rust/Dockerfile does not exist (image.context examples/hello-rust, dockerfile Dockerfile)",
        ]);
    });
});

describe("many apps per stage: the composed stage", () => {
    // local's own quota (2 cpu, 2Gi, 10 pods) has room for the Go app too.
    const twoApps = () => evaluateStackFull("local", { config: { apps: { "hello-go": goApp() } } });

    it("one namespace with one quota, limit range and default-deny policy; a Deployment and Service per app", async () => {
        const { resources } = await twoApps();
        assert.equal(ofType(resources, "kubernetes:core/v1:Namespace").length, 1);
        assert.equal(ofType(resources, "kubernetes:core/v1:ResourceQuota").length, 1);
        assert.equal(ofType(resources, "kubernetes:core/v1:LimitRange").length, 1);
        const deployments = ofType(resources, "kubernetes:apps/v1:Deployment");
        assert.deepEqual(deployments.map((d) => [d.inputs.metadata.name, d.inputs.metadata.namespace]).sort(), [
            ["hello", "hello-local"],
            ["hello-go", "hello-local"],
        ]);
        const services = ofType(resources, "kubernetes:core/v1:Service");
        assert.deepEqual(services.map((s) => [s.inputs.metadata.name, s.inputs.spec.ports[0].nodePort]).sort(), [
            ["hello", 30080],
            ["hello-go", 30081],
        ]);
        const policies = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((p) => p.inputs.metadata.name);
        assert.deepEqual(policies.sort(), ["default-deny-ingress", "hello", "hello-go"]);
        // The Go app's pods are selected by their own labels, never the first app's.
        const go = deployments.find((d) => d.inputs.metadata.name === "hello-go")!;
        assert.equal(go.inputs.spec.selector.matchLabels["app.kubernetes.io/name"], "hello-go");
        assert.deepEqual(
            go.inputs.spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort),
            [8080],
        );
    });

    it("each app builds its own image FROM its own build environment, in its own repositories", async () => {
        const { resources } = await twoApps();
        const images = ofType(resources, "docker-build:index:Image");
        const byName = Object.fromEntries(images.map((i) => [i.name, i.inputs]));
        assert.deepEqual(Object.keys(byName).sort(), ["app-hello-go-image", "app-image", "build-env", "build-env-hello-go"]);
        assert.deepEqual(byName["build-env-hello-go"].tags, ["127.0.0.1:5001/hello-go-build-env:1.0.0"]);
        assert.match(byName["build-env-hello-go"].context.location, /examples\/hello-go\/build-image$/);
        assert.match(byName["app-hello-go-image"].context.location, /examples\/hello-go$/);
        assert.ok(
            byName["app-hello-go-image"].tags.every((t: string) => t.startsWith("127.0.0.1:5001/hello-go:")),
            byName["app-hello-go-image"].tags,
        );
        assert.match(byName["app-hello-go-image"].buildArgs.BUILD_IMAGE, /^127\.0\.0\.1:5001\/hello-go-build-env@sha256:/);
        assert.match(byName["app-image"].buildArgs.BUILD_IMAGE, /^127\.0\.0\.1:5001\/slipway-build-env@sha256:/);
    });

    it("the apps output holds each app's image and Service; the first app's repeats the top-level outputs", async () => {
        const { outputs, resources } = await twoApps();
        const apps = (await valueOf(outputs.apps))!;
        assert.deepEqual(Object.keys(apps), ["hello", "hello-go"]);
        assert.equal(apps.hello.imageRef, await valueOf(outputs.appImageRef));
        assert.equal(apps.hello.imageDigest, await valueOf(outputs.appImageDigest));
        assert.match(apps["hello-go"].imageRef, /^127\.0\.0\.1:5001\/hello-go@sha256:[0-9a-f]{64}$/);
        assert.notEqual(apps["hello-go"].imageDigest, apps.hello.imageDigest);
        assert.equal(apps["hello-go"].serviceName, "hello-go");
        const go = single(
            ofType(resources, "kubernetes:apps/v1:Deployment").filter((d) => d.inputs.metadata.name === "hello-go"),
            "kubernetes:apps/v1:Deployment",
        );
        assert.equal(go.inputs.spec.template.spec.containers[0].image, apps["hello-go"].imageRef);
    });

    it("adding an app adds resources and changes no URN of the first app's", async () => {
        const one = (await evaluateStackFull("local")).urns;
        const two = (await twoApps()).urns;
        assert.deepEqual(
            one.filter((u) => !two.includes(u)),
            [],
        );
        const added = two.filter((u) => !one.includes(u));
        assert.ok(added.includes(`urn:pulumi:local::slipway::${ComponentType.AppDeployment}::app-hello-go`), added.join("\n"));
        assert.ok(added.includes(`urn:pulumi:local::slipway::${ComponentType.AppImage}::app-hello-go-image`), added.join("\n"));
        assert.ok(
            added.every((u) => u.includes("hello-go")),
            added.join("\n"),
        );
    });

    it("an app's own secretEnv becomes its own Secret, read by reference, kept secret; a name clash is refused", async () => {
        const { resources } = await evaluateStackFull("local", {
            config: { apps: { "hello-go": goApp({ secretEnv: { API_TOKEN: "t0ken" } }) } },
        });
        const secrets = ofType(resources, "kubernetes:core/v1:Secret");
        assert.equal(secrets.length, 1);
        assert.ok(isSecretInput(secrets[0]!.inputs.stringData), "the Secret's data is a Pulumi secret");
        assert.deepEqual(revealInput(secrets[0]!.inputs.stringData), { API_TOKEN: "t0ken" });
        const go = ofType(resources, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === "hello-go")!;
        const env = go.inputs.spec.template.spec.containers[0].env as { name: string; valueFrom?: { secretKeyRef?: { key: string } } }[];
        assert.equal(env.find((e) => e.name === "API_TOKEN")?.valueFrom?.secretKeyRef?.key, "API_TOKEN");
        const hello = ofType(resources, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === "hello")!;
        assert.ok(!JSON.stringify(hello.inputs.spec.template.spec.containers[0].env).includes("API_TOKEN"), "only hello-go reads it");
        assert.deepEqual(
            problems(localWith({ "hello-go": goApp({ env: { API_TOKEN: "x" }, secretEnv: { API_TOKEN: "t0ken", PORT: "1" } }) })),
            [
                "slipway:apps.hello-go.secretEnv.API_TOKEN: is also set in slipway:apps.hello-go.env; keep one",
                "slipway:apps.hello-go.secretEnv.PORT: is set by Slipway itself; choose another name",
            ],
        );
    });

    it("a pinned app builds nothing and runs exactly its digest", async () => {
        const ref = `127.0.0.1:5001/hello-go@${GO_DIGEST}`;
        const { resources, outputs } = await evaluateStackFull("local", {
            config: { apps: { "hello-go": goApp({ image: { source: "pinned", ref, buildNumber: "7" } }) } },
        });
        // Its build environment stays while its config does, as the first app's does (an immutable tag is not re-pushed).
        assert.deepEqual(
            ofType(resources, "docker-build:index:Image")
                .map((i) => i.name)
                .sort(),
            ["app-image", "build-env", "build-env-hello-go"],
        );
        const apps = (await valueOf(outputs.apps))!;
        assert.equal(apps["hello-go"].imageRef, ref);
        assert.equal(apps["hello-go"].buildNumber, "7");
    });
});
