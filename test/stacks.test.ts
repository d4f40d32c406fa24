import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isDigestPinned } from "../components/lib/image-ref";
import { APP_DEFAULTS } from "../components/defaults";
import { PINNED_STAGES } from "../contracts";
import { parseStackConfig } from "../stacks/config";
import { defineStage, pinnedBuildingStageWarnings } from "../stacks/stage";
import {
    CapturedResource,
    isSecret,
    isSecretInput,
    isUnknownInput,
    recordOptions,
    RecordingMocks,
    revealInput,
    settle,
    valueOf,
} from "./support/mocks";
import { evaluateStack, evaluateStackFull, ofType, readStackConfig, single, STACKS, TEST_BUILD } from "./support/stacks";

const BUILD_TYPES = ["docker-build:index:Image", "slipway:image:BuildImage", "slipway:registry:Registry", "aws:ecr/repository:Repository"];

/** Containers of every pod-bearing object. */
function containers(resources: CapturedResource[]): { owner: string; image: unknown }[] {
    return ofType(resources, "kubernetes:apps/v1:Deployment").flatMap((d) =>
        [...(d.inputs.spec.template.spec.initContainers ?? []), ...d.inputs.spec.template.spec.containers].map((c: any) => ({
            owner: d.name,
            image: c.image,
        })),
    );
}

describe("stacks, each evaluated from its own Pulumi.<stack>.yaml", () => {
    for (const stack of STACKS) {
        describe(stack, () => {
            let resources: CapturedResource[];
            before(async () => {
                resources = await evaluateStack(stack);
            });

            it("runs every container by digest", () => {
                const found = containers(resources);
                assert.ok(found.length >= 1);
                for (const c of found) {
                    assert.equal(typeof c.image, "string");
                    assert.ok(isDigestPinned(c.image as string), `${c.owner} runs ${c.image}`);
                }
            });

            it("requests and limits ephemeral storage for the container", () => {
                const { resources: amounts } = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0];
                assert.deepEqual(
                    [amounts.requests["ephemeral-storage"], amounts.limits["ephemeral-storage"]],
                    [APP_DEFAULTS.ephemeralStorage.request, APP_DEFAULTS.ephemeralStorage.limit],
                );
            });

            it("has a Service selecting the Deployment's pods by labels the pods carry", () => {
                const deployment = single(resources, "kubernetes:apps/v1:Deployment");
                const service = single(resources, "kubernetes:core/v1:Service");
                const podLabels = deployment.inputs.spec.template.metadata.labels;
                for (const [key, value] of Object.entries(service.inputs.spec.selector)) {
                    assert.equal(podLabels[key], value, `pods lack ${key}=${value}`);
                }
                assert.deepEqual(deployment.inputs.spec.selector.matchLabels, service.inputs.spec.selector);
            });

            it("monitors the Service when monitoring is on: labels and a port name the Service defines", () => {
                const config = parseStackConfig(readStackConfig(stack));
                const monitors = ofType(resources, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
                if (!config.monitoring.enabled) {
                    assert.equal(monitors.length, 0, "no CRD object where the CRDs may be missing");
                    return;
                }
                const service = single(resources, "kubernetes:core/v1:Service");
                const [monitor] = monitors;
                assert.equal(monitors.length, 1);
                for (const [key, value] of Object.entries(monitor.inputs.spec.selector.matchLabels)) {
                    assert.equal(service.inputs.metadata.labels[key], value, `Service lacks label ${key}=${value}`);
                }
                assert.deepEqual(monitor.inputs.spec.namespaceSelector.matchNames, [service.inputs.metadata.namespace]);
                const portNames = service.inputs.spec.ports.map((p: any) => p.name);
                for (const endpoint of monitor.inputs.spec.endpoints) {
                    assert.ok(portNames.includes(endpoint.port), `Service has no port named ${endpoint.port}`);
                }
                assert.equal(monitor.inputs.metadata.labels.release, "kube-prometheus-stack");
            });

            it("puts every namespaced object in the stage's own namespace", () => {
                const namespaced = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace");
                assert.ok(namespaced.length >= 6);
                for (const r of namespaced) {
                    assert.equal(r.inputs.metadata.namespace, `hello-${stack}`, r.name);
                }
            });

            it("uses an explicit Kubernetes provider for every Kubernetes object", () => {
                const provider = single(resources, "pulumi:providers:kubernetes");
                for (const r of resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                    // A provider reference is `<provider urn>::<provider id>`.
                    assert.ok(
                        r.provider?.endsWith(`::pulumi:providers:kubernetes::${provider.name}::${provider.name}-id`),
                        `${r.name} uses ${r.provider}`,
                    );
                }
            });
        });
    }

    it("gives every stage a distinct namespace", async () => {
        const namespaces = [];
        for (const stack of STACKS) {
            namespaces.push(single(await evaluateStack(stack), "kubernetes:core/v1:Namespace").inputs.metadata.name);
        }
        assert.deepEqual(namespaces, ["hello-local", "hello-dev", "hello-qa", "hello-prod"]);
    });

    describe("one cluster for every stage: the stages share a kube context, each has its own namespace", () => {
        const SHARED = { context: "acme-eks" };
        /** What identifies a Kubernetes object in a cluster: kind, namespace (none: cluster-scoped) and name. */
        const identities = (resources: CapturedResource[]) =>
            resources
                .filter((r) => r.type.startsWith("kubernetes:"))
                .map((r) => `${r.type} ${r.inputs.metadata.namespace ?? "(cluster)"}/${r.inputs.metadata.name ?? r.state.metadata.name}`);

        it("dev, qa and prod on one context: distinct namespaces, and no object of one stage is an object of another", async () => {
            const seen = new Map<string, string>();
            for (const stack of ["dev", "qa", "prod"] as const) {
                const resources = await evaluateStack(stack, { config: { kubernetes: SHARED } });
                assert.equal(single(resources, "pulumi:providers:kubernetes").inputs.context, "acme-eks");
                const namespace = single(resources, "kubernetes:core/v1:Namespace").inputs.metadata.name;
                assert.equal(namespace, `hello-${stack}`);
                const objects = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace");
                assert.ok(objects.length >= 6);
                for (const r of objects) {
                    assert.equal(r.inputs.metadata.namespace, namespace, `${stack} ${r.name} is namespaced, in the stage's namespace`);
                }
                for (const identity of identities(resources)) {
                    assert.equal(seen.get(identity), undefined, `${identity} of ${stack} is also ${seen.get(identity)}'s`);
                    seen.set(identity, stack);
                }
            }
            assert.ok(seen.size >= 24);
        });

        it("kubernetes.namespace names a stage's namespace; every object moves there and no URN changes", async () => {
            const named = await evaluateStackFull("qa", { config: { kubernetes: { ...SHARED, namespace: "web-qa" } } });
            const defaulted = await evaluateStackFull("qa", { config: { kubernetes: SHARED } });
            assert.equal(single(named.resources, "kubernetes:core/v1:Namespace").inputs.metadata.name, "web-qa");
            const objects = named.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace");
            assert.deepEqual([...new Set(objects.map((r) => r.inputs.metadata.namespace))], ["web-qa"]);
            assert.equal(await valueOf(named.outputs.namespace), "web-qa");
            assert.equal(await valueOf(defaulted.outputs.namespace), "hello-qa");
            assert.deepEqual(named.urns, defaulted.urns);
            // Two stages on one cluster, each in a namespace of the team's naming: still apart.
            const prod = await evaluateStack("prod", { config: { kubernetes: { ...SHARED, namespace: "web-prod" } } });
            assert.equal(single(prod, "kubernetes:core/v1:Namespace").inputs.metadata.name, "web-prod");
            const shared = identities(objects).filter((i) => identities(prod).includes(i));
            assert.deepEqual(shared, []);
        });
    });

    for (const stack of PINNED_STAGES) {
        it(`${stack} builds nothing and deploys exactly the configured digest`, async () => {
            const { resources, outputs } = await evaluateStackFull(stack);
            const config = readStackConfig(stack) as any;
            for (const type of BUILD_TYPES) {
                assert.equal(ofType(resources, type).length, 0, `${stack} must not contain ${type}`);
            }
            const deployment = single(resources, "kubernetes:apps/v1:Deployment");
            assert.equal(deployment.inputs.spec.template.spec.containers[0].image, config.image.ref);
            assert.equal(await valueOf(outputs.appImageRef), config.image.ref);
            assert.equal(await valueOf(outputs.appImageDigest), config.image.ref.split("@")[1]);
            assert.equal(deployment.inputs.spec.template.metadata.annotations["slipway.dev/build-number"], config.image.buildNumber);
            assert.equal(outputs.buildImageRef, undefined);
            assert.equal(await valueOf(outputs.registryServer), "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
            assert.equal(await valueOf(outputs.registryServer), config.pullRegistry, "the registry the stack file says it pulls from");
        });

        it(`${stack} as a 0.2.0 stack file wrote it (no pullRegistry): the same resources, the registry of its pin`, async () => {
            const { pullRegistry, ...v020 } = readStackConfig(stack);
            assert.equal(typeof pullRegistry, "string");
            const before = await evaluateStackFull(stack, { config: { ...v020, pullRegistry: undefined } });
            const now = await evaluateStackFull(stack);
            assert.deepEqual(before.urns, now.urns);
            assert.equal(await valueOf(before.outputs.registryServer), "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
        });
    }

    it("a stage that builds, pinned by a rollback, is told its changes are not built; qa and prod are not", () => {
        const ref = `127.0.0.1:5001/hello@sha256:${"7e".repeat(32)}`;
        // local and dev as a rollback leaves them; qa and prod as they ship, pinned.
        const pinned = (stack: "local" | "dev" | "qa" | "prod") => {
            const file = readStackConfig(stack);
            const config = parseStackConfig(stack === "local" || stack === "dev" ? { ...file, image: { source: "pinned", ref } } : file);
            assert.equal(config.imageSource, "pinned");
            return pinnedBuildingStageWarnings(config, stack);
        };
        for (const stack of ["local", "dev"] as const) {
            const [warning, ...more] = pinned(stack);
            assert.deepEqual(more, []);
            assert.ok(warning?.includes(`pins slipway:image to ${ref}`), `${stack}: ${warning}`);
            assert.ok(warning?.includes("builds none of your changes"), `${stack}: ${warning}`);
            assert.ok(warning?.includes(`git checkout <commit before it> -- Pulumi.${stack}.yaml`), `${stack}: ${warning}`);
        }
        assert.deepEqual(pinned("qa"), []);
        assert.deepEqual(pinned("prod"), []);
        assert.deepEqual(pinnedBuildingStageWarnings(parseStackConfig(readStackConfig("local")), "local"), []);
    });

    it("dev pinned by a rollback keeps its registry and build environment, and builds no app image", async () => {
        const ref = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello@sha256:${"7e".repeat(32)}`;
        const resources = await evaluateStack("dev", { config: { image: { source: "pinned", ref, buildNumber: "1041" } } });
        assert.deepEqual(
            ofType(resources, "aws:ecr/repository:Repository")
                .map((r) => r.inputs.name)
                .sort(),
            ["hello", "slipway-build-env"],
        );
        assert.deepEqual(
            ofType(resources, "docker-build:index:Image").map((r) => r.name),
            ["build-env"],
        );
        assert.equal(single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0].image, ref);
        // Identical build-env inputs: pinning the app must not rebuild (and re-push) the build environment.
        const building = single(
            ofType(await evaluateStack("dev"), "docker-build:index:Image").filter((r) => r.name === "build-env"),
            "docker-build:index:Image",
        );
        assert.deepEqual(single(resources, "docker-build:index:Image").inputs, building.inputs);
    });

    it("dev builds the app image FROM the build image's digest and deploys the pushed digest", async () => {
        const { resources, outputs } = await evaluateStackFull("dev");
        const images = ofType(resources, "docker-build:index:Image");
        const buildEnv = images.find((i) => i.name === "build-env")!;
        const app = images.find((i) => i.name === "app-image")!;
        const buildRef = await valueOf(outputs.buildImageRef!);
        assert.equal(app.inputs.buildArgs.BUILD_IMAGE, buildRef);
        assert.match(buildRef!, /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/slipway-build-env@sha256:[a-f0-9]{64}$/);
        assert.equal(buildEnv.inputs.buildOnPreview, false);
        assert.equal(app.inputs.buildOnPreview, false);
        const deployed: string = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0].image;
        assert.equal(deployed, await valueOf(outputs.appImageRef));
        assert.equal(deployed.split("@")[0], "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello");
        assert.deepEqual(
            [await valueOf(outputs.buildNumber), await valueOf(outputs.gitBranch), await valueOf(outputs.gitSha)],
            [TEST_BUILD.buildNumber, TEST_BUILD.gitBranch, TEST_BUILD.gitSha],
        );
    });

    it("the app image's options: provenance-only changes ignored, any other change a replacement, a replaced image retained", async () => {
        // What these options do on the real engine (one build for a changed app, none for the other): e2e 8-adopt.
        await pulumi.runtime.setMocks(new RecordingMocks(), "slipway", "dev", false);
        const sent = recordOptions();
        defineStage(parseStackConfig(readStackConfig("dev")), TEST_BUILD);
        await settle();
        const options = sent.get("docker-build:index:Image::app-image")!;
        assert.deepEqual(options.ignoreChanges, [
            "buildArgs.BUILD_NUMBER",
            "buildArgs.GIT_BRANCH",
            "buildArgs.GIT_SHA",
            "labels",
            "tags",
            "buildOnPreview",
            "builder",
        ]);
        // Any other change (the context's files, a base by digest, the repository the tags name) is a new build.
        assert.deepEqual(options.replaceOnChanges, ["*"]);
        assert.equal(options.retainOnDelete, true);
        // The build environment is tagged by its version, not by a commit: it keeps the default behaviour.
        assert.deepEqual(sent.get("docker-build:index:Image::build-env")!.ignoreChanges, []);
    });

    it("local opted into registry.type local (Docker Desktop): Slipway runs registry:2 by digest on 127.0.0.1", async () => {
        const { resources, outputs } = await evaluateStackFull("local", { config: { registry: { type: "local", port: 5001 } } });
        const container = single(resources, "docker:index/container:Container");
        assert.deepEqual(container.inputs.ports, [{ internal: 5000, external: 5001, ip: "127.0.0.1" }]);
        assert.ok(isDigestPinned(single(resources, "docker:index/remoteImage:RemoteImage").inputs.name));
        assert.equal(await valueOf(outputs.registryServer), "127.0.0.1:5001");
        assert.match((await valueOf(outputs.appImageRef))!, /^127\.0\.0\.1:5001\/hello@sha256:/);
        assert.equal(ofType(resources, "kubernetes:core/v1:Secret").length, 0);
    });

    it("local as shipped uses no Docker provider resource at all (it runs where Docker Desktop cannot)", async () => {
        const resources = await evaluateStack("local");
        assert.deepEqual(
            resources.filter((r) => r.type.startsWith("docker:")).map((r) => r.type),
            [],
        );
        assert.equal(single(resources, "kubernetes:core/v1:Service").inputs.spec.type, "NodePort");
    });

    it("dev on an open registry on loopback: no credentials anywhere, no pull Secret", async () => {
        const { resources, outputs } = await evaluateStackFull("dev", {
            config: { registry: { type: "external", server: "127.0.0.1:5001" } },
        });
        assert.equal(ofType(resources, "aws:ecr/repository:Repository").length, 0);
        const builds = ofType(resources, "docker-build:index:Image");
        assert.deepEqual(
            builds.map((b) => [b.name, b.inputs.registries]),
            [
                ["build-env", []],
                ["app-image", []],
            ],
        );
        assert.ok(builds.every((b) => b.inputs.tags.every((t: string) => t.startsWith("127.0.0.1:5001/"))));
        assert.equal(ofType(resources, "kubernetes:core/v1:Secret").length, 0);
        assert.equal(single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.imagePullSecrets, undefined);
        assert.equal(await valueOf(outputs.registryServer), "127.0.0.1:5001");
    });

    it("resolves build contexts against the project root: the working directory, or the one defineStage is given", async () => {
        const contexts = (resources: CapturedResource[]) =>
            ofType(resources, "docker-build:index:Image").map((b) => [b.name, path.resolve(b.inputs.context.location)]);
        assert.deepEqual(contexts(await evaluateStack("dev")), [
            ["build-env", path.resolve("build-image")],
            ["app-image", path.resolve("app")],
        ]);
        // Another project's folder, with its own app's Dockerfile (the stage checks the targets in it).
        const theirs = mkdtempSync(path.join(tmpdir(), "slipway-their-project-"));
        mkdirSync(path.join(theirs, "app"));
        writeFileSync(path.join(theirs, "app", "Dockerfile"), "FROM scratch AS artifact\nFROM scratch AS runtime\n");
        assert.deepEqual(contexts(await evaluateStack("dev", { projectRoot: theirs })), [
            ["build-env", path.join(theirs, "build-image")],
            ["app-image", path.join(theirs, "app")],
        ]);
    });

    it("points the Kubernetes provider at the stage's context, or renders YAML for GitOps hand-off", async () => {
        const dev = single(await evaluateStack("dev"), "pulumi:providers:kubernetes");
        assert.equal(dev.inputs.context, "slipway-dev");
        assert.equal(dev.inputs.renderYamlToDirectory, undefined);
        // With KUBECONFIG set, as on any machine with a cluster: the SDK would copy it into the provider's kubeconfig,
        // which the real provider refuses beside renderYamlToDirectory.
        const saved = process.env.KUBECONFIG;
        process.env.KUBECONFIG = "/home/someone/.kube/config";
        let rendered;
        try {
            rendered = single(
                await evaluateStack("prod", { config: { kubernetes: { renderYamlTo: "rendered/prod" } } }),
                "pulumi:providers:kubernetes",
            );
        } finally {
            if (saved === undefined) delete process.env.KUBECONFIG;
            else process.env.KUBECONFIG = saved;
        }
        assert.equal(rendered.inputs.renderYamlToDirectory, "rendered/prod");
        assert.equal(rendered.inputs.context, undefined);
        assert.equal(rendered.inputs.kubeconfig, "");
    });

    it("prod runs at least 3 replicas with an HPA, a PDB, hard spreading and an Ingress", async () => {
        const resources = await evaluateStack("prod");
        const deployment = single(resources, "kubernetes:apps/v1:Deployment");
        assert.ok(deployment.inputs.spec.replicas >= 3);
        assert.ok(single(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs.spec.minReplicas >= 3);
        assert.equal(single(resources, "kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.maxUnavailable, 1);
        assert.equal(deployment.inputs.spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable, "DoNotSchedule");
        assert.equal(single(resources, "kubernetes:networking.k8s.io/v1:Ingress").inputs.spec.rules[0].host, "hello.example.com");
        assert.equal(
            single(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs.spec.groups[0].rules[0].labels.severity,
            "critical",
        );
    });
});

describe("the app contract from stack config (a service that is not Node.js)", () => {
    const dev = readStackConfig("dev") as { app: Record<string, unknown>; image: Record<string, unknown> };
    const goService = {
        app: {
            ...dev.app,
            name: "api",
            port: 8000,
            metricsPort: 9100,
            probes: { startup: { path: "/livez" }, readiness: { path: "/readyz", timeoutSeconds: 1 }, liveness: { path: "/livez" } },
            runAsUser: 65532,
            env: { GOMAXPROCS: "2" },
            metrics: { requestsTotal: "http_requests_total", statusLabel: "code" },
        },
        image: {
            source: "build",
            context: "examples/go-api",
            targets: { runtime: "final", test: "test" },
            buildArgs: { GO_VERSION: "1.26" },
            buildImageArg: "BUILDER",
            runtimeBaseImageArg: "BASE",
        },
    };

    // The service's project: its Dockerfile's stages are what the stage checks the targets against.
    const goProject = mkdtempSync(path.join(tmpdir(), "slipway-go-api-"));
    mkdirSync(path.join(goProject, "examples", "go-api"), { recursive: true });
    writeFileSync(
        path.join(goProject, "examples", "go-api", "Dockerfile"),
        "ARG BUILDER\nARG BASE\nFROM ${BUILDER} AS test\nFROM ${BASE} AS final\n",
    );

    it("reaches the image build, the pod, the Service, the ServiceMonitor and the alerts", async () => {
        const resources = await evaluateStack("dev", { config: goService, projectRoot: goProject });
        const app = ofType(resources, "docker-build:index:Image").find((r) => r.name === "app-image")!;
        assert.equal(app.inputs.target, "final");
        assert.equal(app.inputs.dockerfile.location.replace(/\\/g, "/").endsWith("examples/go-api/Dockerfile"), true);
        assert.deepEqual(Object.keys(app.inputs.buildArgs).sort(), [
            "BASE",
            "BUILDER",
            "BUILD_NUMBER",
            "GIT_BRANCH",
            "GIT_SHA",
            "GO_VERSION",
        ]);
        const pod = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
        const container = pod.containers[0];
        assert.deepEqual(container.ports, [
            { name: "http", containerPort: 8000, protocol: "TCP" },
            { name: "metrics", containerPort: 9100, protocol: "TCP" },
        ]);
        assert.deepEqual(container.startupProbe, { httpGet: { path: "/livez", port: "http" }, periodSeconds: 1, failureThreshold: 30 });
        assert.equal(container.readinessProbe.timeoutSeconds, 1);
        assert.equal(pod.securityContext.runAsUser, 65532);
        assert.equal(container.env.find((e: any) => e.name === "GOMAXPROCS").value, "2");
        const rules = single(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs.spec.groups[0].rules;
        assert.match(rules[2].expr, /http_requests_total\{namespace="api-dev",service="api",code=~"5.."\}/);
    });

    it("without a metrics port or a request metric: no ServiceMonitor, and the alerts read kube-state-metrics only", async () => {
        const { metrics: _named, ...app } = goService.app;
        const resources = await evaluateStack("dev", {
            config: { ...goService, app: { ...app, metricsPort: false } },
            projectRoot: goProject,
        });
        assert.equal(ofType(resources, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").length, 0);
        const rules = single(resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs.spec.groups[0].rules;
        assert.deepEqual(
            rules.map((r: any) => r.alert),
            ["ApiNoReadyReplicas", "ApiRestarting"],
        );
        assert.deepEqual(
            single(resources, "kubernetes:core/v1:Service").inputs.spec.ports.map((p: any) => p.name),
            ["http"],
        );
    });
});

describe("secrets never appear in plain text", () => {
    const SECRET = "s3cr3t-Value-4242";
    const REGISTRY_PASSWORD = "registry-Pass-9191";

    /** Paths of plain (not secret-marked) strings containing a secret. */
    function plainLeaks(value: unknown, path: string, found: string[]): void {
        if (isSecretInput(value)) {
            return;
        }
        if (typeof value === "string") {
            if (
                value.includes(SECRET) ||
                value.includes(REGISTRY_PASSWORD) ||
                value.includes(Buffer.from(`ci:${REGISTRY_PASSWORD}`).toString("base64"))
            ) {
                found.push(path);
            }
        } else if (value !== null && typeof value === "object") {
            for (const [k, v] of Object.entries(value)) {
                plainLeaks(v, `${path}.${k}`, found);
            }
        }
    }

    /** Where each secret sits in a stack's inputs: plain (a leak) or inside secret-marked values. */
    function secretPaths(resources: CapturedResource[]): { plain: string[]; marked: string[] } {
        const plain: string[] = [];
        const marked: string[] = [];
        const holdsSecret = (text: string) =>
            text.includes(SECRET) ||
            text.includes(REGISTRY_PASSWORD) ||
            text.includes(Buffer.from(`ci:${REGISTRY_PASSWORD}`).toString("base64"));
        for (const r of resources) {
            plainLeaks(r.inputs, `${r.type} ${r.name}`, plain);
            const walk = (value: unknown, path: string): void => {
                if (isSecretInput(value)) {
                    if (holdsSecret(JSON.stringify(revealInput(value)))) {
                        marked.push(path);
                    }
                } else if (value !== null && typeof value === "object") {
                    for (const [k, v] of Object.entries(value)) {
                        walk(v, `${path}.${k}`);
                    }
                }
            };
            walk(r.inputs, `${r.type} ${r.name}`);
        }
        return { plain, marked };
    }

    /** Every secret path in use: a secret env var, and an external registry with a user and a password. */
    const withSecrets = {
        secretEnv: { DB_PASSWORD: SECRET },
        registry: { type: "external", server: "registry.example.com", username: "ci" },
        registryPassword: REGISTRY_PASSWORD,
    };

    for (const stack of STACKS) {
        it(`${stack}: secret env and registry password only inside secret-marked values`, async () => {
            const { resources, outputs } = await evaluateStackFull(stack, { config: withSecrets });
            const { plain, marked } = secretPaths(resources);
            assert.deepEqual(plain, []);
            // The secrets did reach the resources (so the check above saw them): the env Secret, the pull Secret and,
            // where images are built, the registry logins of both builds.
            const building = (readStackConfig(stack) as any).image.source === "build";
            assert.deepEqual(
                marked.map((p) => p.split(" ")[0]).sort(),
                [
                    ...(building ? ["docker-build:index:Image", "docker-build:index:Image"] : []),
                    "kubernetes:core/v1:Secret",
                    "kubernetes:core/v1:Secret",
                ],
                marked.join("\n"),
            );
            const deployment = single(resources, "kubernetes:apps/v1:Deployment");
            const env = deployment.inputs.spec.template.spec.containers[0].env.find((e: any) => e.name === "DB_PASSWORD");
            assert.equal(env.value, undefined);
            assert.equal(env.valueFrom.secretKeyRef.key, "DB_PASSWORD");
            for (const [name, output] of Object.entries(outputs)) {
                if (output && typeof output === "object" && "apply" in output) {
                    const value = JSON.stringify(await valueOf(output as any));
                    if (value?.includes(SECRET) || value?.includes(REGISTRY_PASSWORD)) {
                        assert.equal(await isSecret(output as any), true, `output ${name} shows a secret`);
                    }
                }
            }
        });
    }

    it("the check finds a secret put where it must not be (a plain env value, a config file)", async () => {
        const base = readStackConfig("dev") as any;
        const app = { ...base.app, env: { ...base.app.env, API_KEY: SECRET }, configFile: { content: { message: REGISTRY_PASSWORD } } };
        const { plain } = secretPaths(await evaluateStack("dev", { config: { ...withSecrets, app } }));
        assert.deepEqual(plain.map((p) => p.split(".")[0]).sort(), [
            "kubernetes:apps/v1:Deployment app-deployment",
            "kubernetes:core/v1:ConfigMap app-config",
        ]);
    });
});

describe("preview (pulumi preview without building)", () => {
    for (const stack of ["local", "dev"] as const) {
        it(`${stack}: digests are unknown, yet every resource is still planned`, async () => {
            const planned = await evaluateStackFull(stack, {
                preview: true,
                config: { build: { buildOnPreview: false } },
            });
            const applied = await evaluateStack(stack);
            assert.deepEqual(planned.resources.map((r) => `${r.type} ${r.name}`).sort(), applied.map((r) => `${r.type} ${r.name}`).sort());
            assert.equal(await valueOf(planned.outputs.appImageRef), undefined);
            assert.equal(await valueOf(planned.outputs.buildImageRef!), undefined);
            const deployment = single(planned.resources, "kubernetes:apps/v1:Deployment");
            // The container is planned, and its image is unknown until the build pushes a digest: never a tag, which is
            // known at preview time (the tags AppImage pushes are computed from build metadata).
            const container = deployment.inputs.spec.template.spec.containers[0];
            assert.equal(container.name, "hello");
            assert.ok(isUnknownInput(container.image), `image is ${JSON.stringify(container.image)}`);
            assert.equal(single(planned.resources, "kubernetes:core/v1:Service").inputs.metadata.name, "hello");
            const tags = await valueOf(planned.outputs.appImageTags);
            assert.ok(tags!.every((t) => /:(build|sha|branch)-/.test(t)));
        });
    }

    it("qa: a pinned stage previews with its digest fully known", async () => {
        const planned = await evaluateStackFull("qa", { preview: true });
        assert.equal(await valueOf(planned.outputs.appImageRef), (readStackConfig("qa") as any).image.ref);
    });
});
