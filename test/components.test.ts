import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { AppDeployment, AppDeploymentArgs } from "../components/app-deployment";
import { AppImage } from "../components/app-image";
import { BuildImage, BuildImageArgs } from "../components/build-image";
import { Registry } from "../components/registry";
import { NODE_24_BOOKWORM_SLIM, REGISTRY_2 } from "../components/defaults";
import {
    CapturedResource,
    FAKE_ECR_SERVER,
    isSecret,
    isSecretInput,
    RecordingMocks,
    recordOptions,
    revealInput,
    settle,
    valueOf,
} from "./support/mocks";
import { ofType, single } from "./support/stacks";

const DIGEST = `sha256:${"1a2b".repeat(16)}`;
const BUILD_REF = `127.0.0.1:5001/slipway-build-env@${DIGEST}`;

async function withMocks<T>(body: () => T, preview = false): Promise<{ resources: CapturedResource[]; result: T; mocks: RecordingMocks }> {
    const mocks = new RecordingMocks(preview);
    await pulumi.runtime.setMocks(mocks, "slipway", "test", preview);
    const result = body();
    await settle();
    return { resources: mocks.resources, result, mocks };
}

describe("Registry", () => {
    it("ecr: immutable tags (moving pointers excluded), scan on push, KMS, lifecycle policy, secret push credentials", async () => {
        const { resources, result } = await withMocks(
            () =>
                new Registry("reg", {
                    type: "ecr",
                    appRepository: "hello",
                    buildRepository: "slipway-build-env",
                    lifecycle: { untaggedExpiryDays: 3, keepLastPerPrefix: 10, tagPrefixes: ["build-"] },
                    forceDelete: false,
                }),
        );
        const repos = ofType(resources, "aws:ecr/repository:Repository");
        assert.deepEqual(repos.map((r) => r.inputs.name).sort(), ["hello", "slipway-build-env"]);
        for (const repo of repos) {
            assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE_WITH_EXCLUSION");
            assert.deepEqual(repo.inputs.imageTagMutabilityExclusionFilters, [
                { filter: "sha-*", filterType: "WILDCARD" },
                { filter: "branch-*", filterType: "WILDCARD" },
                { filter: "buildcache*", filterType: "WILDCARD" },
            ]);
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
        }
        const policies = ofType(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
        assert.deepEqual(policies.map((p) => p.inputs.repository).sort(), ["hello", "slipway-build-env"]);
        const policy = JSON.parse(policies[0].inputs.policy);
        assert.deepEqual(policy.rules[0].selection, {
            tagStatus: "untagged",
            countType: "sinceImagePushed",
            countUnit: "days",
            countNumber: 3,
        });
        assert.deepEqual(policy.rules[1].selection.tagPrefixList, ["build-"]);
        assert.equal(await valueOf(result.server), FAKE_ECR_SERVER);
        assert.equal(await valueOf(result.appRepositoryUrl), `${FAKE_ECR_SERVER}/hello`);
        const push = result.pushCredentials ?? assert.fail("ECR has push credentials");
        assert.deepEqual(await valueOf(push), { server: FAKE_ECR_SERVER, username: "AWS", password: "ecr-token-value" });
        assert.equal(await isSecret(push), true);
        assert.equal(result.pullCredentials, undefined, "nodes pull from ECR with their IAM role");
    });

    it("local: registry:2 by digest, published on 127.0.0.1 only, with a data volume", async () => {
        const { resources, result } = await withMocks(
            () => new Registry("reg", { type: "local", port: 5055, image: REGISTRY_2, appRepository: "hello", buildRepository: "env" }),
        );
        assert.equal(single(resources, "docker:index/remoteImage:RemoteImage").inputs.name, REGISTRY_2);
        const container = single(resources, "docker:index/container:Container");
        assert.deepEqual(container.inputs.ports, [{ internal: 5000, external: 5055, ip: "127.0.0.1" }]);
        assert.equal(container.inputs.volumes[0].containerPath, "/var/lib/registry");
        // The container mounts the volume the provider created, by the name it was given.
        assert.equal(container.inputs.volumes[0].volumeName, single(resources, "docker:index/volume:Volume").state.name);
        assert.equal(container.inputs.restart, "unless-stopped");
        assert.equal(await valueOf(result.buildRepositoryUrl), "127.0.0.1:5055/env");
        assert.equal(ofType(resources, "aws:ecr/repository:Repository").length, 0);
    });

    it("local: refuses a registry image by tag before creating anything", async () => {
        const { resources } = await withMocks(() =>
            assert.throws(
                () => new Registry("reg", { type: "local", port: 5055, image: "registry:2", appRepository: "a", buildRepository: "b" }),
                /local registry image must be pinned by digest/,
            ),
        );
        assert.deepEqual(
            resources.map((r) => r.type),
            ["slipway:registry:Registry"],
        );
    });

    it("external: creates nothing, pull and push credentials are the same secret", async () => {
        const { resources, result } = await withMocks(
            () =>
                new Registry("reg", {
                    type: "external",
                    server: "registry.example.com",
                    username: "ci",
                    password: pulumi.secret("hunter2"),
                    appRepository: "team/hello",
                    buildRepository: "team/env",
                }),
        );
        assert.deepEqual(
            resources.map((r) => r.type),
            ["slipway:registry:Registry"],
        );
        assert.equal(await valueOf(result.appRepositoryUrl), "registry.example.com/team/hello");
        const pull = result.pullCredentials ?? assert.fail("an external registry with a user has pull credentials");
        assert.deepEqual(await valueOf(pull), { server: "registry.example.com", username: "ci", password: "hunter2" });
        assert.equal(await isSecret(pull), true);
        assert.equal(result.pushCredentials, result.pullCredentials);
    });
});

describe("Registry: an open external registry (no username)", () => {
    const open = { type: "external" as const, server: "127.0.0.1:5001", appRepository: "hello" };

    it("has no push or pull credentials and creates nothing", async () => {
        const { resources, result } = await withMocks(() => new Registry("reg", open));
        assert.deepEqual(
            resources.map((r) => r.type),
            ["slipway:registry:Registry"],
        );
        assert.equal(result.pushCredentials, undefined);
        assert.equal(result.pullCredentials, undefined);
        assert.equal(await valueOf(result.buildRepositoryUrl), "127.0.0.1:5001/slipway-build-env");
    });

    it("refuses a password without a username, and a username without a password", async () => {
        await withMocks(() => {
            assert.throws(() => new Registry("a", { ...open, password: pulumi.secret("x") }), /a password without a username/);
            assert.throws(() => new Registry("b", { ...open, username: "ci" }), /username ci needs a password/);
        });
    });
});

describe("BuildImage", () => {
    it("builds FROM the pinned base, tags the version, pushes with registry cache, exposes repo@digest", async () => {
        const { resources, result } = await withMocks(
            () =>
                new BuildImage("env", {
                    repositoryUrl: "127.0.0.1:5001/slipway-build-env",
                    version: "1.4.0",
                    baseImage: NODE_24_BOOKWORM_SLIM,
                    context: "build-image",
                    platforms: ["linux/amd64"],
                    buildOnPreview: false,
                }),
        );
        const image = single(resources, "docker-build:index:Image");
        assert.deepEqual(image.inputs.buildArgs, { BASE_IMAGE: NODE_24_BOOKWORM_SLIM, BUILD_IMAGE_VERSION: "1.4.0" });
        assert.deepEqual(image.inputs.tags, ["127.0.0.1:5001/slipway-build-env:1.4.0"]);
        assert.equal(image.inputs.push, true);
        assert.equal(image.inputs.buildOnPreview, false);
        assert.deepEqual(image.inputs.context, { location: "build-image" });
        assert.deepEqual(image.inputs.dockerfile, { location: "build-image/Dockerfile" });
        assert.deepEqual(image.inputs.cacheFrom, [{ registry: { ref: "127.0.0.1:5001/slipway-build-env:buildcache" } }]);
        assert.deepEqual(image.inputs.cacheTo, [
            { registry: { ref: "127.0.0.1:5001/slipway-build-env:buildcache", mode: "max", imageManifest: true, ociMediaTypes: true } },
        ]);
        assert.deepEqual(image.inputs.registries, []);
        assert.deepEqual(image.inputs.labels, {
            "org.opencontainers.image.title": "slipway-build-env",
            "org.opencontainers.image.version": "1.4.0",
        });
        const ref = await valueOf(result.ref);
        assert.match(ref!, /^127\.0\.0\.1:5001\/slipway-build-env@sha256:[a-f0-9]{64}$/);
        assert.equal(ref!.split("@")[1], await valueOf(result.digest));
    });

    for (const [what, args, says] of [
        ["a tag-only base", { baseImage: "node:24-bookworm-slim" }, /baseImage must be pinned by digest/],
        ["a version that is no tag", { version: "v 1" }, /version must be a valid image tag/],
    ] as [string, Partial<BuildImageArgs>, RegExp][]) {
        it(`refuses ${what}`, async () => {
            await withMocks(() =>
                assert.throws(
                    () =>
                        new BuildImage("env", {
                            repositoryUrl: "r/env",
                            version: "1.0.0",
                            baseImage: NODE_24_BOOKWORM_SLIM,
                            context: "build-image",
                            platforms: ["linux/amd64"],
                            buildOnPreview: false,
                            ...args,
                        }),
                    says,
                ),
            );
        });
    }
});

describe("AppImage", () => {
    const build = {
        source: "build" as const,
        repositoryUrl: "127.0.0.1:5001/hello",
        buildImageRef: BUILD_REF,
        runtimeBaseImage: NODE_24_BOOKWORM_SLIM,
        context: "app",
        metadata: { buildNumber: "1042", gitBranch: "feature/login page", gitSha: "9f2c4e1a7b3d5f6e" },
        platforms: ["linux/amd64" as const],
        buildOnPreview: false,
    };

    it("build: runtime target FROM the build image's digest, three sanitised tags, labels, cache", async () => {
        const { resources, result } = await withMocks(() => new AppImage("app", build));
        const image = single(resources, "docker-build:index:Image");
        assert.equal(image.inputs.target, "runtime");
        assert.deepEqual(image.inputs.buildArgs, {
            BUILD_IMAGE: BUILD_REF,
            RUNTIME_BASE_IMAGE: NODE_24_BOOKWORM_SLIM,
            BUILD_NUMBER: "1042",
            GIT_BRANCH: "feature/login page",
            GIT_SHA: "9f2c4e1a7b3d5f6e",
        });
        assert.deepEqual(image.inputs.tags, [
            "127.0.0.1:5001/hello:build-1042",
            "127.0.0.1:5001/hello:sha-9f2c4e1",
            "127.0.0.1:5001/hello:branch-feature-login-page",
        ]);
        assert.equal(image.inputs.labels["org.opencontainers.image.revision"], "9f2c4e1a7b3d5f6e");
        assert.equal(image.inputs.push, true);
        assert.equal(image.inputs.cacheFrom[0].registry.ref, "127.0.0.1:5001/hello:buildcache");
        const ref = await valueOf(result.ref);
        assert.equal(ref, `127.0.0.1:5001/hello@${await valueOf(result.digest)}`);
        assert.deepEqual(await valueOf(result.tags), image.inputs.tags);
    });

    it("build with artifact export: a second image of the artifact target exported to a folder, never pushed", async () => {
        const { resources } = await withMocks(() => new AppImage("app", { ...build, exportArtifactsTo: "dist-artifacts" }));
        const artifacts = ofType(resources, "docker-build:index:Image").find((r) => r.name === "app-artifacts")!;
        assert.equal(artifacts.inputs.target, "artifact");
        assert.deepEqual(artifacts.inputs.exports, [{ local: { dest: "dist-artifacts" } }]);
        assert.equal(artifacts.inputs.push, false);
        assert.equal(artifacts.inputs.tags, undefined);
    });

    it("a Dockerfile of the app's own: its path, targets, build args and image arg names", async () => {
        const { resources } = await withMocks(
            () =>
                new AppImage("app", {
                    ...build,
                    context: "services/api",
                    dockerfile: "build/Dockerfile",
                    target: "final",
                    artifactTarget: "dist",
                    buildArgs: { GO_VERSION: "1.26" },
                    buildImageArg: "BUILDER",
                    runtimeBaseImageArg: "BASE",
                    exportArtifactsTo: "out",
                }),
        );
        const images = ofType(resources, "docker-build:index:Image");
        const image = images.find((r) => r.name === "app")!;
        const artifacts = images.find((r) => r.name === "app-artifacts")!;
        assert.equal(image.inputs.dockerfile.location, "services/api/build/Dockerfile");
        assert.deepEqual([image.inputs.target, artifacts.inputs.target], ["final", "dist"]);
        assert.deepEqual(image.inputs.buildArgs, {
            GO_VERSION: "1.26",
            BUILDER: BUILD_REF,
            BASE: NODE_24_BOOKWORM_SLIM,
            BUILD_NUMBER: "1042",
            GIT_BRANCH: "feature/login page",
            GIT_SHA: "9f2c4e1a7b3d5f6e",
        });
        assert.deepEqual(artifacts.inputs.buildArgs, image.inputs.buildArgs);
    });

    it("refuses bad build-arg names and targets, naming each, before any build", async () => {
        const { resources } = await withMocks(() =>
            assert.throws(
                () => new AppImage("app", { ...build, target: "run time", buildArgs: { "GO-VERSION": "1", GIT_SHA: "x" } }),
                (e: unknown) => {
                    assert.ok(e instanceof pulumi.InputPropertyError);
                    assert.match(e.message, /buildArgs\.GO-VERSION: expected a build arg name/);
                    assert.match(e.message, /buildArgs\.GIT_SHA: is passed by Slipway itself/);
                    assert.match(e.message, /target: expected a Dockerfile stage name/);
                    return true;
                },
            ),
        );
        assert.equal(ofType(resources, "docker-build:index:Image").length, 0);
    });

    it("names the buildx builder on every image when one is configured", async () => {
        const { resources } = await withMocks(() => new AppImage("app", { ...build, builder: "slipway", exportArtifactsTo: "out" }));
        assert.deepEqual(
            ofType(resources, "docker-build:index:Image").map((r) => r.inputs.builder),
            [{ name: "slipway" }, { name: "slipway" }],
        );
        const { resources: current } = await withMocks(() => new AppImage("app", build));
        assert.equal(single(current, "docker-build:index:Image").inputs.builder, undefined);
    });

    it("pinned: no build resources at all; ref and digest straight from config", async () => {
        const ref = `${FAKE_ECR_SERVER}/hello@${DIGEST}`;
        const { resources, result } = await withMocks(() => new AppImage("app", { source: "pinned", ref }));
        assert.deepEqual(
            resources.map((r) => r.type),
            ["slipway:image:AppImage"],
        );
        assert.equal(await valueOf(result.ref), ref);
        assert.equal(await valueOf(result.digest), DIGEST);
        assert.deepEqual(await valueOf(result.tags), []);
    });

    it("pinned: refuses a tag", async () => {
        await withMocks(() =>
            assert.throws(
                () => new AppImage("app", { source: "pinned", ref: `${FAKE_ECR_SERVER}/hello:latest` }),
                /ref must be <repository>@sha256/,
            ),
        );
    });

    it("preview without building: the digest is unknown and nothing breaks", async () => {
        const { result } = await withMocks(() => new AppImage("app", build), true);
        assert.equal(await valueOf(result.ref), undefined);
        assert.deepEqual(await valueOf(result.tags), [
            "127.0.0.1:5001/hello:build-1042",
            "127.0.0.1:5001/hello:sha-9f2c4e1",
            "127.0.0.1:5001/hello:branch-feature-login-page",
        ]);
    });
});

describe("AppDeployment", () => {
    const args: AppDeploymentArgs = {
        appName: "hello",
        stage: "prod",
        namespace: "hello-prod",
        image: `${FAKE_ECR_SERVER}/hello@${DIGEST}`,
        buildNumber: "1042",
        gitBranch: "main",
        gitSha: "9f2c4e1",
        replicas: 3,
        port: 8080,
        metricsPort: 9464,
        env: { LOG_LEVEL: "warn" },
        secretEnv: { DB_PASSWORD: pulumi.secret("correct horse battery staple") },
        configFile: { path: "/etc/slipway/config.yaml", content: { greeting: "Hello" } },
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuUtilization: 70 },
        preStopSeconds: 5,
        drainSeconds: 2,
        shutdownTimeoutSeconds: 10,
        allowFrom: ["ingress-nginx"],
        ingress: { host: "hello.example.com", className: "nginx", tlsSecretName: "hello-tls" },
        topologySpread: "hard",
        quota: { cpu: "8", memory: "4Gi", pods: 20 },
        monitoring: {
            namespace: "monitoring",
            path: "/metrics",
            interval: "15s",
            selectorLabels: { release: "kube-prometheus-stack" },
            alerts: { enabled: true, errorRateThreshold: 0.01, restartThreshold: 3 },
        },
        imagePullCredentials: pulumi.secret({ server: "registry.example.com", username: "ci", password: "pull-pass" }),
    };

    it("creates the full set of objects for a prod stage", async () => {
        const { resources } = await withMocks(() => new AppDeployment("app", args));
        assert.deepEqual(
            resources
                .filter((r) => r.type.startsWith("kubernetes:"))
                .map((r) => r.type)
                .sort(),
            [
                "kubernetes:apps/v1:Deployment",
                "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                "kubernetes:core/v1:ConfigMap",
                "kubernetes:core/v1:LimitRange",
                "kubernetes:core/v1:Namespace",
                "kubernetes:core/v1:ResourceQuota",
                "kubernetes:core/v1:Secret",
                "kubernetes:core/v1:Secret",
                "kubernetes:core/v1:Service",
                "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
                "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
                "kubernetes:networking.k8s.io/v1:Ingress",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "kubernetes:policy/v1:PodDisruptionBudget",
            ],
        );
        const ns = single(resources, "kubernetes:core/v1:Namespace");
        assert.equal(ns.inputs.metadata.name, "hello-prod");
        assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        const deployment = single(resources, "kubernetes:apps/v1:Deployment");
        assert.equal(deployment.inputs.spec.replicas, 3);
        assert.equal(deployment.inputs.metadata.annotations["slipway.dev/image"], args.image);
    });

    it("wires the auto-named ConfigMap, the env Secret and the pull secret into the pod by their generated names", async () => {
        const { resources } = await withMocks(() => new AppDeployment("app", args));
        const configMap = single(resources, "kubernetes:core/v1:ConfigMap");
        assert.equal(configMap.inputs.metadata.name, undefined, "auto-named so a content change rolls the pods");
        assert.deepEqual(configMap.inputs.data, { "config.yaml": "greeting: Hello\n" });
        const secrets = ofType(resources, "kubernetes:core/v1:Secret");
        const env = secrets.find((s) => s.inputs.type === "Opaque")!;
        const pull = secrets.find((s) => s.inputs.type === "kubernetes.io/dockerconfigjson")!;
        assert.equal(isSecretInput(env.inputs.stringData), true, "secret values reach the provider marked secret");
        assert.deepEqual(revealInput(env.inputs.stringData), { DB_PASSWORD: "correct horse battery staple" });
        const dockerConfig = revealInput<Record<string, unknown>>(pull.inputs.stringData);
        assert.equal(isSecretInput(pull.inputs.stringData) || isSecretInput(dockerConfig[".dockerconfigjson"]), true);
        assert.equal(
            JSON.parse(revealInput<string>(dockerConfig[".dockerconfigjson"])).auths["registry.example.com"].password,
            "pull-pass",
        );
        const pod = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
        // Auto-named objects: the pod refers to the names the three objects got, which nothing in the program knows.
        const names = [configMap, env, pull].map((r) => r.state.metadata.name);
        assert.equal(new Set(names).size, 3, `three distinct generated names: ${names.join(", ")}`);
        assert.equal(pod.volumes[1].configMap.name, configMap.state.metadata.name);
        assert.equal(pod.containers[0].env.find((e: any) => e.name === "DB_PASSWORD").valueFrom.secretKeyRef.name, env.state.metadata.name);
        assert.deepEqual(pod.imagePullSecrets, [{ name: pull.state.metadata.name }]);
    });

    it("no PDB for a single replica; no HPA, Ingress or monitoring unless asked", async () => {
        const { resources } = await withMocks(
            () =>
                new AppDeployment("app", {
                    ...args,
                    replicas: 1,
                    autoscaling: undefined,
                    ingress: undefined,
                    monitoring: undefined,
                    secretEnv: {},
                    imagePullCredentials: undefined,
                }),
        );
        for (const absent of [
            "kubernetes:policy/v1:PodDisruptionBudget",
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "kubernetes:networking.k8s.io/v1:Ingress",
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
            "kubernetes:core/v1:Secret",
        ]) {
            assert.equal(ofType(resources, absent).length, 0, absent);
        }
        const netpol = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => r.inputs.metadata.name === "hello")!;
        assert.equal(netpol.inputs.spec.ingress.length, 1, "no metrics port opened without monitoring");
    });

    it("an app without a metrics port or a named request metric: no ServiceMonitor, no metrics port, the kube-state alerts", async () => {
        const { resources } = await withMocks(
            () =>
                new AppDeployment("app", {
                    ...args,
                    metricsPort: false,
                    probes: {
                        readiness: { path: "/ready" },
                        liveness: { path: "/live" },
                        startup: { path: "/live", failureThreshold: 60 },
                    },
                    runAsUser: 65532,
                }),
        );
        assert.equal(ofType(resources, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").length, 0);
        const rules = single(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs.spec.groups[0].rules;
        assert.deepEqual(
            rules.map((r: any) => r.alert),
            ["HelloNoReadyReplicas", "HelloRestarting"],
        );
        const service = single(resources, "kubernetes:core/v1:Service");
        assert.deepEqual(
            service.inputs.spec.ports.map((p: any) => p.name),
            ["http"],
        );
        const pod = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
        const container = pod.containers[0];
        assert.deepEqual(
            container.ports.map((p: any) => p.name),
            ["http"],
        );
        assert.ok(!container.env.some((e: any) => e.name === "METRICS_PORT"));
        assert.deepEqual(
            [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path, container.startupProbe.failureThreshold],
            ["/ready", "/live", 60],
        );
        assert.deepEqual([pod.securityContext.runAsUser, pod.securityContext.runAsGroup], [65532, 65532]);
        const netpol = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => r.inputs.metadata.name === "hello")!;
        assert.equal(netpol.inputs.spec.ingress.length, 1, "no metrics port to open to the monitoring namespace");
    });

    it("with a named request metric: the error-rate alert on that metric and status label", async () => {
        const { resources } = await withMocks(
            () =>
                new AppDeployment("app", {
                    ...args,
                    metrics: { requestsTotal: "http_server_requests_seconds_count", statusLabel: "code" },
                }),
        );
        const rules = single(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs.spec.groups[0].rules;
        assert.match(rules[2].expr, /^sum\(rate\(http_server_requests_seconds_count\{namespace="hello-prod",service="hello",code=~"5.."\}/);
    });

    it("refuses a broken app contract, naming each bad argument, before any Kubernetes object", async () => {
        const { resources } = await withMocks(() =>
            assert.throws(
                () =>
                    new AppDeployment("app", {
                        ...args,
                        metricsPort: 8080,
                        probes: { readiness: { path: "readyz" } },
                        runAsUser: 0,
                        env: { PORT: "1", SERVICE_NAME: "x" },
                    }),
                (e: unknown) => {
                    assert.ok(e instanceof pulumi.InputPropertyError);
                    for (const key of ["metricsPort", "probes.readiness.path", "runAsUser", "env.PORT", "env.SERVICE_NAME"]) {
                        assert.match(e.message, new RegExp(`${key.replace(".", "\\.")}: `), key);
                    }
                    return true;
                },
            ),
        );
        assert.equal(resources.filter((r) => r.type.startsWith("kubernetes:")).length, 0);
    });

    for (const image of ["hello:latest", "registry.example.com/hello:1.0", "hello"]) {
        it(`refuses image ${JSON.stringify(image)} before creating any Kubernetes object`, async () => {
            const { resources } = await withMocks(() =>
                assert.throws(() => new AppDeployment("app", { ...args, image }), /image must be referenced by digest/),
            );
            assert.equal(resources.filter((r) => r.type.startsWith("kubernetes:")).length, 0);
        });
    }

    it("makes a build number that arrives as an Output a valid version label, not Output's toString text", async () => {
        const { resources } = await withMocks(() => new AppDeployment("app", { ...args, buildNumber: pulumi.output("build 42/main") }));
        const pod = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template;
        assert.equal(pod.metadata.labels["app.kubernetes.io/version"], "build-42-main");
        assert.equal(pod.metadata.annotations["slipway.dev/build-number"], "build 42/main");
    });

    it("egress: off unless asked; then one Egress NetworkPolicy over the app's pods", async () => {
        const { resources: open } = await withMocks(() => new AppDeployment("app", args));
        assert.ok(
            ofType(open, "kubernetes:networking.k8s.io/v1:NetworkPolicy").every((r) => !r.inputs.spec.policyTypes.includes("Egress")),
        );
        const { resources } = await withMocks(
            () =>
                new AppDeployment("app", {
                    ...args,
                    egress: { dnsNamespace: "kube-system", allow: [{ namespace: "postgres", port: 5432, protocol: "TCP" }] },
                }),
        );
        const egress = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((r) =>
            r.inputs.spec.policyTypes.includes("Egress"),
        );
        assert.deepEqual(
            egress.map((r) => [r.name, r.inputs.metadata.name, r.inputs.metadata.namespace, r.inputs.spec.egress.length]),
            [["app-egress", "hello-egress", "hello-prod", 2]],
        );
    });

    it("nodePort: a NodePort Service on that port, the app port open to every source", async () => {
        const { resources } = await withMocks(() => new AppDeployment("app", { ...args, nodePort: 30080 }));
        const service = single(resources, "kubernetes:core/v1:Service").inputs.spec;
        assert.equal(service.type, "NodePort");
        assert.deepEqual(
            service.ports.map((p: any) => [p.name, p.nodePort]),
            [
                ["http", 30080],
                ["metrics", undefined],
            ],
        );
        const netpol = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((r) => r.inputs.metadata.name === "hello")!;
        assert.deepEqual(netpol.inputs.spec.ingress[0], { ports: [{ port: 8080, protocol: "TCP" }] });
    });

    it("rolloutTimeoutSeconds: the progress deadline, and custom timeouts a minute longer on the Deployment only", async () => {
        for (const [given, deadline, wait] of [
            [undefined, 300, "360s"],
            [120, 120, "180s"],
        ] as const) {
            const mocks = new RecordingMocks();
            await pulumi.runtime.setMocks(mocks, "slipway", "test", false);
            const sent = recordOptions();
            new AppDeployment("app", { ...args, rolloutTimeoutSeconds: given });
            await settle();
            assert.equal(single(mocks.resources, "kubernetes:apps/v1:Deployment").inputs.spec.progressDeadlineSeconds, deadline);
            assert.deepEqual(sent.get("kubernetes:apps/v1:Deployment::app-deployment")?.customTimeouts, {
                create: wait,
                update: wait,
                delete: "",
            });
            assert.deepEqual(sent.get("kubernetes:core/v1:Service::app-service")?.customTimeouts, { create: "", update: "", delete: "" });
        }
    });

    it("applies its documented defaults to what it is not given", async () => {
        const { resources } = await withMocks(
            () =>
                new AppDeployment("app", {
                    appName: "hello",
                    stage: "dev",
                    image: args.image,
                    buildNumber: "7",
                    gitBranch: "main",
                    gitSha: "9f2c4e1",
                    resources: args.resources,
                    quota: args.quota,
                }),
        );
        assert.equal(single(resources, "kubernetes:core/v1:Namespace").inputs.metadata.name, "hello-dev");
        const spec = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec;
        const container = spec.template.spec.containers[0];
        assert.equal(spec.replicas, 1);
        assert.deepEqual(
            container.ports.map((p: any) => p.containerPort),
            [8080, 9464],
        );
        assert.deepEqual(container.lifecycle.preStop, { sleep: { seconds: 5 } });
        assert.equal(spec.template.spec.terminationGracePeriodSeconds, 5 + 2 + 10 + 5);
        assert.equal(spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable, "ScheduleAnyway");
        assert.equal(ofType(resources, "kubernetes:core/v1:Secret").length, 0);
    });

    it("refuses a tag that arrives as an Output when it resolves", async () => {
        const mocks = new RecordingMocks();
        await pulumi.runtime.setMocks(mocks, "slipway", "test", false);
        const deployment = new AppDeployment("app", { ...args, image: pulumi.output("hello:latest") });
        await assert.rejects(
            new Promise((resolve, reject) => (deployment.image as any).promise().then(resolve, reject)),
            /image must be referenced by digest/,
        );
    });
});
