import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { STACK_OUTPUTS } from "../contracts";
import { decodeProjectConfig, parseStackConfig, StackConfigError } from "../stacks/config";
import { NODE_24_BOOKWORM_SLIM, REGISTRY_2 } from "../components/defaults";
import { RecordingMocks, revealInput, settle } from "./support/mocks";
import { readStackConfig, REPO_ROOT, STACKS } from "./support/stacks";

const DIGEST = `sha256:${"ef56".repeat(16)}`;
const PROGRAM = path.join(REPO_ROOT, "stacks", "index.ts");

/** Runs the real program entry (stacks/index.ts) under fresh mocks with this config. */
async function runProgram(stack: string, raw: Record<string, unknown>): Promise<{ error?: Error; mocks: RecordingMocks }> {
    const mocks = new RecordingMocks();
    await pulumi.runtime.setMocks(mocks, "slipway", stack, false);
    // Pulumi hands the program every key as `project:key` with structured values as JSON text.
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(raw).map(([k, v]) => [`slipway:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
    );
    delete require.cache[require.resolve(PROGRAM)];
    try {
        require(PROGRAM);
        return { mocks };
    } catch (error) {
        return { error: error as Error, mocks };
    }
}

/**
 * The problems of a bad-config stop as the program reports it: a RunError carrying the StackConfigError's message, so
 * the engine prints the list without a stack trace (stacks/index.ts). Fails unless the error is exactly that.
 */
function configProblems(error: Error | undefined): string[] {
    assert.ok(error instanceof pulumi.RunError, `expected the program to stop with a RunError, got ${error}`);
    const [head, ...lines] = error.message.split("\n");
    assert.match(head, /^Invalid Slipway stack config \(\d+ problems?\):$/);
    return lines.map((l) => l.replace(/^ {2}/, ""));
}

describe("stack config: the shipped stack files", () => {
    for (const stack of STACKS) {
        it(`Pulumi.${stack}.yaml is valid and names its own stage`, () => {
            const config = parseStackConfig(readStackConfig(stack));
            assert.equal(config.stage, stack);
        });
    }

    it("local pushes to the open registry on 127.0.0.1:5001, with a NodePort and a short rollout timeout", () => {
        const local = parseStackConfig(readStackConfig("local"));
        assert.deepEqual(local.registry, { type: "external", server: "127.0.0.1:5001", buildRepository: "slipway-build-env" });
        assert.equal(local.registryPassword, undefined);
        assert.equal(local.build.builder, "slipway");
        assert.deepEqual([local.app.nodePort, local.app.rolloutTimeoutSeconds], [30080, 120]);
    });

    it("applies the documented defaults", () => {
        const local = parseStackConfig(readStackConfig("local"));
        const desktop = parseStackConfig({ ...readStackConfig("local"), registry: { type: "local" } });
        assert.deepEqual(desktop.registry, { type: "local", port: 5001, image: REGISTRY_2, buildRepository: "slipway-build-env" });
        const dev = parseStackConfig(readStackConfig("dev"));
        assert.equal(dev.app.rolloutTimeoutSeconds, 300);
        assert.equal(dev.app.nodePort, undefined, "ClusterIP unless a nodePort is asked for");
        assert.equal(local.buildImage?.baseImage, NODE_24_BOOKWORM_SLIM);
        assert.equal(local.image.source === "build" && local.image.runtimeBaseImage, NODE_24_BOOKWORM_SLIM);
        assert.deepEqual(
            [local.app.port, local.app.metricsPort, local.app.preStopSeconds, local.app.drainSeconds, local.app.shutdownTimeoutSeconds],
            [8080, 9464, 5, 2, 10],
        );
        assert.equal(local.monitoring.enabled, false);
    });

    it("qa and prod pin the image by digest; local and dev build it", () => {
        assert.deepEqual(
            STACKS.map((s) => parseStackConfig(readStackConfig(s)).image.source),
            ["build", "build", "pinned", "pinned"],
        );
    });

    it("decodes Pulumi's flat config map: JSON for structured values, text for plain strings, other projects ignored", () => {
        assert.deepEqual(
            decodeProjectConfig({
                "slipway:stage": "dev",
                "slipway:app": '{"replicas":2}',
                "aws:region": "eu-west-1",
                "slipway:flag": "true",
            }),
            { stage: "dev", app: { replicas: 2 }, flag: true },
        );
    });

    it("keeps text keys text: a digit-only registryPassword and stage are never JSON-decoded", () => {
        assert.deepEqual(
            decodeProjectConfig({ "slipway:registryPassword": "12345678", "slipway:stage": "dev", "slipway:app": '{"replicas":2}' }),
            {
                registryPassword: "12345678",
                stage: "dev",
                app: { replicas: 2 },
            },
        );
    });

    it("the program accepts a digit-only registry password, as Pulumi hands it over (plain text)", async () => {
        const { error, mocks } = await runProgram("dev", {
            ...readStackConfig("dev"),
            registry: { type: "external", server: "registry.example.com", username: "ci" },
            registryPassword: "12345678",
        });
        assert.equal(error, undefined);
        await settle();
        const pull = mocks.resources.find((r) => r.inputs.type === "kubernetes.io/dockerconfigjson");
        assert.ok(pull, "the pull secret exists");
        const auths = JSON.parse(
            revealInput<string>(revealInput<Record<string, unknown>>(pull.inputs.stringData)[".dockerconfigjson"]),
        ).auths;
        assert.equal(auths["registry.example.com"].password, "12345678");
    });

    it("the program entry exports exactly the contract's stack outputs, from the real local stack file", async () => {
        const { error, mocks } = await runProgram("local", readStackConfig("local"));
        assert.equal(error, undefined);
        await settle();
        const program = require(PROGRAM);
        assert.deepEqual(Object.keys(program).sort(), [...STACK_OUTPUTS].sort());
        assert.equal(program.stageName, "local");
        const ref = await new Promise<string>((resolve) => program.appImageRef.apply(resolve));
        assert.match(ref, /^127\.0\.0\.1:5001\/hello@sha256:[a-f0-9]{64}$/);
        assert.ok(mocks.resources.some((r) => r.type === "kubernetes:apps/v1:Deployment"));
    });
});

/** Builds a bad config from the real dev file with one change. */
function dev(change: (raw: any) => void): Record<string, unknown> {
    const raw = structuredClone(readStackConfig("dev")) as any;
    change(raw);
    return raw;
}

const BAD: { name: string; config: Record<string, unknown>; stack?: string; key: string; says: RegExp }[] = [
    { name: "unknown stage", config: dev((c) => (c.stage = "staging")), key: "slipway:stage", says: /one of: local, dev, qa, prod/ },
    { name: "missing stage", config: dev((c) => delete c.stage), key: "slipway:stage", says: /one of|required/ },
    { name: "misspelt top-level key", config: dev((c) => (c.replica = 2)), key: "slipway:replica", says: /unknown key/ },
    { name: "misspelt nested key", config: dev((c) => (c.app.replica = 2)), key: "slipway:app.replica", says: /unknown key/ },
    { name: "replicas as text", config: dev((c) => (c.app.replicas = "two")), key: "slipway:app.replicas", says: /expected number/ },
    { name: "zero replicas", config: dev((c) => (c.app.replicas = 0)), key: "slipway:app.replicas", says: /at least 1 replica/ },
    { name: "fractional replicas", config: dev((c) => (c.app.replicas = 1.5)), key: "slipway:app.replicas", says: /whole number/ },
    { name: "missing app", config: dev((c) => delete c.app), key: "slipway:app", says: /is required/ },
    { name: "bad app name", config: dev((c) => (c.app.name = "Hello_World")), key: "slipway:app.name", says: /DNS-1123/ },
    { name: "privileged port", config: dev((c) => (c.app.port = 80)), key: "slipway:app.port", says: />= 1024/ },
    {
        name: "metrics on the app port",
        config: dev((c) => (c.app.metricsPort = 8080)),
        key: "slipway:app.metricsPort",
        says: /different from app.port/,
    },
    {
        name: "bad env name",
        config: dev((c) => (c.app.env["LOG-LEVEL"] = "x")),
        key: "slipway:app.env.LOG-LEVEL",
        says: /environment variable name/,
    },
    { name: "env value not text", config: dev((c) => (c.app.env.RETRIES = 3)), key: "slipway:app.env.RETRIES", says: /expected string/ },
    { name: "port out of range", config: dev((c) => (c.app.port = 70000)), key: "slipway:app.port", says: /<= 65535/ },
    {
        name: "metrics port as text",
        config: dev((c) => (c.app.metricsPort = "none")),
        key: "slipway:app.metricsPort",
        says: /port number in 1024-65535, or false/,
    },
    {
        name: "probe path without a leading /",
        config: dev((c) => (c.app.probes = { readiness: { path: "readyz" } })),
        key: "slipway:app.probes.readiness.path",
        says: /starting with \//,
    },
    {
        name: "probe period of 0",
        config: dev((c) => (c.app.probes = { liveness: { periodSeconds: 0 } })),
        key: "slipway:app.probes.liveness.periodSeconds",
        says: /at least 1 second/,
    },
    { name: "runAsUser root", config: dev((c) => (c.app.runAsUser = 0)), key: "slipway:app.runAsUser", says: /0 is root/ },
    {
        name: "request metric without a metrics port",
        config: dev((c) => ((c.app.metricsPort = false), (c.app.metrics = { requestsTotal: "http_requests_total" }))),
        key: "slipway:app.metrics",
        says: /needs a metricsPort/,
    },
    {
        name: "request metric name",
        config: dev((c) => (c.app.metrics = { requestsTotal: "http-requests" })),
        key: "slipway:app.metrics.requestsTotal",
        says: /Prometheus metric name/,
    },
    {
        name: "build arg name",
        config: dev((c) => (c.image.buildArgs = { "GO-FLAGS": "-trimpath" })),
        key: "slipway:image.buildArgs.GO-FLAGS",
        says: /build arg name/,
    },
    {
        name: "build arg Slipway passes",
        config: dev((c) => (c.image.buildArgs = { BUILD_IMAGE: "x" })),
        key: "slipway:image.buildArgs.BUILD_IMAGE",
        says: /passed by Slipway itself/,
    },
    {
        name: "both image args under one name",
        config: dev((c) => ((c.image.buildImageArg = "BASE"), (c.image.runtimeBaseImageArg = "BASE"))),
        key: "slipway:image.runtimeBaseImageArg",
        says: /different from image.buildImageArg/,
    },
    {
        name: "target name",
        config: dev((c) => (c.image.targets = { runtime: "run time" })),
        key: "slipway:image.targets.runtime",
        says: /Dockerfile stage name/,
    },
    {
        name: "absolute Dockerfile path",
        config: dev((c) => (c.image.dockerfile = "/etc/Dockerfile")),
        key: "slipway:image.dockerfile",
        says: /relative to image.context/,
    },
    {
        name: "env shadows Slipway's",
        config: dev((c) => (c.app.env.PORT = "1")),
        key: "slipway:app.env.PORT",
        says: /set by Slipway itself/,
    },
    {
        name: "env also secret",
        config: dev((c) => ((c.app.env.API_TOKEN = "x"), (c.secretEnv = { API_TOKEN: "y" }))),
        key: "slipway:secretEnv.API_TOKEN",
        says: /also set in app.env/,
    },
    {
        name: "bad cpu quantity",
        config: dev((c) => (c.app.resources.limits.cpu = "half")),
        key: "slipway:app.resources.limits.cpu",
        says: /Kubernetes quantity/,
    },
    {
        name: "requests above limits",
        config: dev((c) => (c.app.resources.requests.memory = "1Gi")),
        key: "slipway:app.resources.requests.memory",
        says: /<= limits.memory/,
    },
    { name: "missing resources", config: dev((c) => delete c.app.resources), key: "slipway:app.resources", says: /is required/ },
    {
        name: "ephemeral storage request above its limit",
        config: dev((c) => ((c.app.resources.requests.ephemeralStorage = "1Gi"), (c.app.resources.limits.ephemeralStorage = "512Mi"))),
        key: "slipway:app.resources.requests.ephemeralStorage",
        says: /<= limits\.ephemeralStorage/,
    },
    {
        name: "ephemeral storage limit that /tmp alone fills",
        config: dev((c) => (c.app.resources.limits.ephemeralStorage = "64Mi")),
        key: "slipway:app.resources.limits.ephemeralStorage",
        says: /expected more than the 64Mi the \/tmp volume may fill/,
    },
    {
        name: "quota too small for a rollout",
        // One replica: the new pod, its surge pod and the old pod still draining count at once.
        config: dev((c) => (c.app.quota.pods = 2)),
        key: "slipway:app.quota.pods",
        says: /at least 3 pods \(during a rollout: max replicas \+ 1 surge pod \+ the old pods still draining\)/,
    },
    {
        name: "quota memory below a rollout's peak",
        config: dev((c) => (c.app.quota.memory = "700Mi")),
        key: "slipway:app.quota.memory",
        says: /3 x limits.memory \(256Mi\): a rollout at max replicas holds 3 pods/,
    },
    {
        name: "relative config file path",
        config: dev((c) => (c.app.configFile.path = "config.yaml")),
        key: "slipway:app.configFile.path",
        says: /absolute file path/,
    },
    {
        name: "config file content a number",
        config: dev((c) => (c.app.configFile.content = 5)),
        key: "slipway:app.configFile.content",
        says: /string or a YAML mapping/,
    },
    {
        name: "autoscaling min above max",
        config: dev((c) => (c.app.autoscaling = { minReplicas: 5, maxReplicas: 2 })),
        key: "slipway:app.autoscaling.minReplicas",
        says: /minReplicas <= maxReplicas/,
    },
    {
        name: "ingress without allowFrom",
        config: dev((c) => (c.app.ingress = { host: "hello.example.com" })),
        key: "slipway:app.allowFrom",
        says: /ingress controller's namespace/,
    },
    {
        name: "unknown registry type",
        config: dev((c) => (c.registry = { type: "gcr" })),
        key: "slipway:registry.type",
        says: /one of: local, ecr, external/,
    },
    {
        name: "external registry without password",
        config: dev((c) => (c.registry = { type: "external", server: "registry.example.com", username: "ci" })),
        key: "slipway:registryPassword",
        says: /--secret/,
    },
    {
        name: "egress dependency with both namespace and cidr",
        config: dev((c) => (c.app.egress = { allow: [{ namespace: "postgres", cidr: "10.0.0.0/8", port: 5432 }] })),
        key: "slipway:app.egress.allow.0",
        says: /expected exactly one of namespace or cidr/,
    },
    {
        name: "egress dependency with a bad CIDR",
        config: dev((c) => (c.app.egress = { allow: [{ cidr: "10.0.0.0", port: 443 }] })),
        key: "slipway:app.egress.allow.0.cidr",
        says: /expected a CIDR such as 10\.0\.0\.0\/16/,
    },
    {
        name: "nodePort outside the NodePort range",
        config: dev((c) => (c.app.nodePort = 8080)),
        key: "slipway:app.nodePort",
        says: /^slipway:app\.nodePort: expected a nodePort in 30000-32767/,
    },
    {
        name: "nodePort as text",
        config: dev((c) => (c.app.nodePort = "30080")),
        key: "slipway:app.nodePort",
        says: /^slipway:app\.nodePort: expected a nodePort number in 30000-32767/,
    },
    {
        name: "fractional nodePort",
        config: dev((c) => (c.app.nodePort = 30080.5)),
        key: "slipway:app.nodePort",
        says: /^slipway:app\.nodePort: expected a whole nodePort number/,
    },
    {
        name: "rollout timeout too short",
        config: dev((c) => (c.app.rolloutTimeoutSeconds = 10)),
        key: "slipway:app.rolloutTimeoutSeconds",
        says: /^slipway:app\.rolloutTimeoutSeconds: expected at least 30 seconds/,
    },
    {
        name: "rollout timeout too long",
        config: dev((c) => (c.app.rolloutTimeoutSeconds = 7200)),
        key: "slipway:app.rolloutTimeoutSeconds",
        says: /^slipway:app\.rolloutTimeoutSeconds: expected at most 3600 seconds/,
    },
    {
        name: "rollout timeout as text",
        config: dev((c) => (c.app.rolloutTimeoutSeconds = "5m")),
        key: "slipway:app.rolloutTimeoutSeconds",
        says: /^slipway:app\.rolloutTimeoutSeconds: expected a number of seconds in 30-3600/,
    },
    {
        name: "registry password without a registry user",
        config: dev((c) => ((c.registry = { type: "external", server: "127.0.0.1:5001" }), (c.registryPassword = "s3cret"))),
        key: "slipway:registryPassword",
        says: /is set but registry\.username is not: an open registry takes no credentials/,
    },
    {
        name: "registry password with ECR",
        config: dev((c) => (c.registryPassword = "s3cret")),
        key: "slipway:registryPassword",
        says: /only with registry\.type external and a registry\.username/,
    },
    {
        name: "registry host with scheme",
        config: dev((c) => (c.registry = { type: "external", server: "https://r.example.com", username: "ci" })),
        key: "slipway:registry.server",
        says: /registry host/,
    },
    {
        name: "lifecycle of zero days",
        config: dev((c) => (c.registry.lifecycle.untaggedExpiryDays = 0)),
        key: "slipway:registry.lifecycle.untaggedExpiryDays",
        says: /at least 1 day/,
    },
    {
        name: "base image by tag",
        config: dev((c) => (c.buildImage.baseImage = "node:24-bookworm-slim")),
        key: "slipway:buildImage.baseImage",
        says: /pinned by digest/,
    },
    {
        name: "build image version not a tag",
        config: dev((c) => (c.buildImage.version = "1.0 beta")),
        key: "slipway:buildImage.version",
        says: /tag such as 1.4.0/,
    },
    {
        name: "building without buildImage",
        config: dev((c) => delete c.buildImage),
        key: "slipway:buildImage",
        says: /required when image.source is "build"/,
    },
    {
        name: "runtime base by tag",
        config: dev((c) => (c.image.runtimeBaseImage = "node:24")),
        key: "slipway:image.runtimeBaseImage",
        says: /pinned by digest/,
    },
    {
        name: "unknown image source",
        config: dev((c) => (c.image = { source: "latest" })),
        key: "slipway:image.source",
        says: /one of: build, pinned/,
    },
    {
        name: "pinned ref by tag",
        config: { ...readStackConfig("qa"), image: { source: "pinned", ref: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello:latest" } },
        stack: "qa",
        key: "slipway:image.ref",
        says: /pinned by digest/,
    },
    {
        name: "pinned ref with short digest",
        config: { ...readStackConfig("qa"), image: { source: "pinned", ref: "r.example.com/hello@sha256:abc" } },
        stack: "qa",
        key: "slipway:image.ref",
        says: /pinned by digest/,
    },
    {
        name: "pin from another registry than the stage pulls from",
        config: { ...readStackConfig("qa"), image: { source: "pinned", ref: `ghcr.io/someone/hello@sha256:${"ab".repeat(32)}` } },
        stack: "qa",
        key: "slipway:image.ref",
        says: /^slipway:image\.ref: is on ghcr\.io, but slipway:pullRegistry says qa pulls from 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com: pin an image from there \(npm run promote -- --from dev --to qa\), or correct slipway:pullRegistry$/,
    },
    {
        name: "prod pinned to an image from another registry",
        config: { ...readStackConfig("prod"), pullRegistry: "registry.example.com" },
        stack: "prod",
        key: "slipway:image.ref",
        says: /says prod pulls from registry\.example\.com: pin an image from there \(npm run promote -- --from qa --to prod\)/,
    },
    {
        name: "pull registry in a stage that builds",
        config: dev((c) => (c.pullRegistry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com")),
        key: "slipway:pullRegistry",
        says: /is for stages that run a pinned image; a stage that builds pulls from its own slipway:registry/,
    },
    {
        name: "pull registry as a URL",
        config: { ...readStackConfig("qa"), pullRegistry: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com" },
        stack: "qa",
        key: "slipway:pullRegistry",
        says: /expected a registry host such as registry\.example\.com or host:5000/,
    },
    {
        name: "namespace that is not a DNS label",
        config: dev((c) => (c.kubernetes = { context: "acme-eks", namespace: "Hello_Dev" })),
        key: "slipway:kubernetes.namespace",
        says: /DNS-1123 label/,
    },
    {
        name: "namespace of Kubernetes itself",
        config: dev((c) => (c.kubernetes = { context: "acme-eks", namespace: "kube-system" })),
        key: "slipway:kubernetes.namespace",
        says: /kube-system is Kubernetes' own namespace: choose one for the stage/,
    },
    {
        name: "the default namespace",
        config: dev((c) => (c.kubernetes = { namespace: "default" })),
        key: "slipway:kubernetes.namespace",
        says: /default is Kubernetes' own namespace/,
    },
    {
        name: "prod rebuilding",
        config: { ...readStackConfig("prod"), image: { source: "build" }, registry: { type: "ecr" }, buildImage: { version: "1.0.0" } },
        stack: "prod",
        key: "slipway:image.source",
        says: /never a rebuild/,
    },
    {
        name: "build environment without a registry",
        config: { ...readStackConfig("qa"), buildImage: { version: "1.0.0" } },
        stack: "qa",
        key: "slipway:registry",
        says: /required with buildImage/,
    },
    {
        name: "rendered YAML with registry credentials",
        config: {
            ...readStackConfig("qa"),
            kubernetes: { renderYamlTo: "rendered/qa" },
            registry: { type: "external", server: "registry.example.com", username: "ci" },
            registryPassword: "s3cret",
        },
        stack: "qa",
        key: "slipway:kubernetes.renderYamlTo",
        says: /would write registry\.username ci's password in plain text to rendered\/qa/,
    },
    {
        name: "rendered YAML and a kube context",
        config: { ...readStackConfig("qa"), kubernetes: { renderYamlTo: "rendered/qa", context: "slipway-qa" } },
        stack: "qa",
        key: "slipway:kubernetes.context",
        says: /is not used with kubernetes\.renderYamlTo/,
    },
    {
        name: "rendered YAML with secret env",
        config: { ...readStackConfig("prod"), kubernetes: { renderYamlTo: "rendered/prod" }, secretEnv: { DB_PASSWORD: "s3cret" } },
        stack: "prod",
        key: "slipway:kubernetes.renderYamlTo",
        says: /would write secretEnv values in plain text to rendered\/prod/,
    },
    {
        name: "builder name with a space",
        config: dev((c) => (c.build = { builder: "my builder" })),
        key: "slipway:build.builder",
        says: /buildx builder name/,
    },
    {
        name: "monitoring interval",
        config: dev((c) => (c.monitoring.interval = "30 seconds")),
        key: "slipway:monitoring.interval",
        says: /Prometheus duration/,
    },
    {
        name: "error-rate threshold as percent",
        config: dev((c) => (c.monitoring.alerts = { errorRateThreshold: 5 })),
        key: "slipway:monitoring.alerts.errorRateThreshold",
        says: /expected number to be <1/,
    },
    {
        name: "secret env name",
        config: dev((c) => (c.secretEnv = { "db.password": "x" })),
        key: "slipway:secretEnv.db.password",
        says: /environment variable name/,
    },
];

describe("stack config: bad input is refused before any resource exists", () => {
    for (const bad of BAD) {
        it(`${bad.name}: names ${bad.key}`, async () => {
            const { error, mocks } = await runProgram(bad.stack ?? "dev", bad.config);
            const problems = configProblems(error);
            const line = problems.find((p) => p.startsWith(`${bad.key}: `));
            assert.ok(line, `no problem names ${bad.key}; got:\n${problems.join("\n")}`);
            assert.match(line, bad.says);
            assert.deepEqual(mocks.resources, [], "no resource may be registered");
        });
    }

    it("is a Pulumi RunError, which the engine prints as its message alone, without the program's stack trace", () => {
        const error = new StackConfigError(["slipway:app.replica: unknown key"]);
        assert.ok(pulumi.RunError.isInstance(error));
        assert.equal(error.message, "Invalid Slipway stack config (1 problem):\n  slipway:app.replica: unknown key");
    });

    it("lists every bad key in one error, not just the first", () => {
        const raw = dev((c) => {
            c.app.replicas = 0;
            c.app.port = 22;
            c.buildImage.baseImage = "node:24";
            c.monitoring.colour = "blue";
        });
        assert.throws(
            () => parseStackConfig(raw),
            (e: unknown) => {
                assert.ok(e instanceof StackConfigError);
                assert.deepEqual(e.problems.map((p) => p.split(": ")[0]).sort(), [
                    "slipway:app.port",
                    "slipway:app.replicas",
                    "slipway:buildImage.baseImage",
                    "slipway:monitoring.colour",
                ]);
                assert.match(e.message, /^Invalid Slipway stack config \(4 problems\):/);
                return true;
            },
        );
    });

    it("names each bad key of the app contract in one error: probe path, ports, Slipway's env names, build arg, root", () => {
        const raw = dev((c) => {
            c.app.probes = { startup: { path: "healthz" } };
            c.app.port = 70000;
            c.app.env.PORT = "1";
            c.app.env.GIT_SHA = "x";
            c.image.buildArgs = { "1ST": "x" };
            c.app.runAsUser = 0;
        });
        assert.throws(
            () => parseStackConfig(raw),
            (e: unknown) => {
                assert.ok(e instanceof StackConfigError);
                assert.deepEqual(e.problems.map((p) => p.split(": ")[0]).sort(), [
                    "slipway:app.env.GIT_SHA",
                    "slipway:app.env.PORT",
                    "slipway:app.port",
                    "slipway:app.probes.startup.path",
                    "slipway:app.runAsUser",
                    "slipway:image.buildArgs.1ST",
                ]);
                return true;
            },
        );
        const equal = dev((c) => ((c.app.port = 9000), (c.app.metricsPort = 9000), (c.app.env.STAGE = "x")));
        assert.throws(
            () => parseStackConfig(equal),
            (e: unknown) =>
                e instanceof StackConfigError &&
                e.problems
                    .map((p) => p.split(": ")[0])
                    .sort()
                    .join() === "slipway:app.env.STAGE,slipway:app.metricsPort",
        );
    });

    it("accepts a non-Node service's contract and keeps today's defaults where it says nothing", () => {
        const defaults = parseStackConfig(readStackConfig("dev"));
        assert.equal(defaults.app.runAsUser, 10001);
        assert.equal(defaults.app.runAsGroup, undefined);
        assert.deepEqual(defaults.app.probes.startup, { path: "/healthz", periodSeconds: 1, failureThreshold: 30 });
        assert.deepEqual(defaults.app.probes.readiness, { path: "/readyz", periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 });
        assert.ok(defaults.image.source === "build");
        assert.deepEqual(
            [defaults.image.dockerfile, defaults.image.targets, defaults.image.buildImageArg, defaults.image.runtimeBaseImageArg],
            ["Dockerfile", { runtime: "runtime", artifact: "artifact", test: "artifact" }, "BUILD_IMAGE", "RUNTIME_BASE_IMAGE"],
        );
        const go = parseStackConfig(
            dev((c) => {
                c.app.port = 8000;
                c.app.metricsPort = false;
                delete c.app.metrics;
                c.app.probes = {
                    readiness: { path: "/ready" },
                    liveness: { path: "/live", timeoutSeconds: 1 },
                    startup: { path: "/live" },
                };
                c.app.runAsUser = 65532;
                c.app.env = { GOMAXPROCS: "2", log_format: "json" };
                c.image = {
                    source: "build",
                    context: "examples/go",
                    dockerfile: "build/Dockerfile",
                    targets: { runtime: "final", test: "test" },
                    buildArgs: { GO_VERSION: "1.26" },
                    buildImageArg: "BUILDER",
                    runtimeBaseImageArg: "BASE",
                };
            }),
        );
        assert.equal(go.app.metricsPort, false);
        assert.deepEqual(go.app.probes.readiness, { path: "/ready", periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 });
        assert.deepEqual(go.app.probes.liveness.timeoutSeconds, 1);
        assert.ok(go.image.source === "build");
        assert.deepEqual(go.image.targets, { runtime: "final", artifact: "artifact", test: "test" });
    });

    it("keeps provenance set by hand with `config set --path` (stored as numbers) as text", () => {
        const config = parseStackConfig({
            ...readStackConfig("qa"),
            pullRegistry: "r.example.com",
            image: { source: "pinned", ref: `r.example.com/hello@${DIGEST}`, buildNumber: 41, gitBranch: "main", gitSha: 1234567 },
        });
        assert.equal(config.image.source === "pinned" && config.image.buildNumber, "41");
        assert.equal(config.image.source === "pinned" && config.image.gitSha, "1234567");
    });

    it("accepts a pinned ref with a readable tag kept beside the digest", () => {
        const config = parseStackConfig({
            ...readStackConfig("qa"),
            pullRegistry: "r.example.com",
            image: { source: "pinned", ref: `r.example.com/hello:build-7@${DIGEST}` },
        });
        assert.equal(config.image.source === "pinned" && config.image.ref, `r.example.com/hello:build-7@${DIGEST}`);
    });
});
