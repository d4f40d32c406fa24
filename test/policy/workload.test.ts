import { strict as assert } from "node:assert";
import {
    containerResources,
    imageDigest,
    noDuplicateEnv,
    noHostAccess,
    probes,
    restrictedSecurityContext,
    topologySpread,
    zeroDowntimeRollout,
} from "../../policy/rules/workload";
import { TestResource, runResource } from "./harness";
import { APP_IMAGE, container, goodContainer, goodDeployment, goodService, podSpec } from "./fixtures";

/** The same pod spec wrapped in every pod controller the rules cover. */
function inEveryController(spec: Record<string, any>): TestResource[] {
    const template = { metadata: { labels: { app: "x" } }, spec };
    return [
        { type: "kubernetes:apps/v1:Deployment", name: "deploy", props: { spec: { template } } },
        { type: "kubernetes:apps/v1:StatefulSet", name: "sts", props: { spec: { template } } },
        { type: "kubernetes:apps/v1:DaemonSet", name: "ds", props: { spec: { template } } },
        { type: "kubernetes:apps/v1:ReplicaSet", name: "rs", props: { spec: { template } } },
        { type: "kubernetes:batch/v1:Job", name: "job", props: { spec: { template } } },
        { type: "kubernetes:batch/v1:CronJob", name: "cron", props: { spec: { schedule: "@daily", jobTemplate: { spec: { template } } } } },
        { type: "kubernetes:core/v1:Pod", name: "pod", props: spec.containers ? { metadata: template.metadata, spec } : {} },
    ];
}

describe("policy: slipway-image-digest", () => {
    it("passes digest-pinned images", async () => {
        assert.deepEqual(await runResource(imageDigest, goodDeployment()), { violations: [] });
    });

    it("rejects tags, latest and bare names in every pod controller, init containers included", async () => {
        const spec = {
            initContainers: [{ ...goodContainer(), name: "migrate", image: "hello:1.2.3" }],
            containers: [
                { ...goodContainer(), image: "registry.example.com/hello:latest" },
                { ...goodContainer(), name: "side", image: "busybox" },
            ],
        };
        for (const resource of inEveryController(spec)) {
            const run = await runResource(imageDigest, resource);
            assert.deepEqual(
                run.violations,
                [
                    'container "hello" runs "registry.example.com/hello:latest", which floats on the latest tag. Fix: reference the image as <repository>@sha256:<64 hex> (AppImage\'s ref output, or promote a digest into slipway:image.ref).',
                    'container "side" runs "busybox", which floats on the latest tag. Fix: reference the image as <repository>@sha256:<64 hex> (AppImage\'s ref output, or promote a digest into slipway:image.ref).',
                    'initContainer "migrate" runs "hello:1.2.3" by tag, which can be re-pushed to different content. Fix: reference the image as <repository>@sha256:<64 hex> (AppImage\'s ref output, or promote a digest into slipway:image.ref).',
                ],
                resource.type,
            );
        }
    });

    it("rejects a malformed digest", async () => {
        const d = goodDeployment();
        container(d).image = `${APP_IMAGE.slice(0, -1)}`;
        const run = await runResource(imageDigest, d);
        assert.equal(run.violations.length, 1);
        assert.match(run.violations[0], /^container "hello" runs ".*@sha256:[a-f0-9]{63}" by tag/);
    });

    it("is not applicable to other types", async () => {
        assert.deepEqual(await runResource(imageDigest, goodService()), { violations: [], notApplicable: "not a pod controller" });
    });
});

describe("policy: slipway-container-resources", () => {
    it("passes requests and limits", async () => {
        assert.deepEqual((await runResource(containerResources, goodDeployment())).violations, []);
    });

    it("names each missing request and limit", async () => {
        const d = goodDeployment();
        container(d).resources = { requests: { cpu: "100m" } };
        assert.deepEqual((await runResource(containerResources, d)).violations, [
            'container "hello" has no resources.requests.memory, resources.limits.cpu, resources.limits.memory. Fix: set requests and limits for cpu and memory (slipway:app.resources) so the scheduler can place the pod and one service cannot starve its neighbours.',
        ]);
    });

    it("rejects a request above its limit and an unparsable quantity", async () => {
        const d = goodDeployment();
        container(d).resources = { requests: { cpu: "2", memory: "256MB" }, limits: { cpu: "500m", memory: "256Mi" } };
        assert.deepEqual((await runResource(containerResources, d)).violations, [
            'container "hello" requests more cpu (2) than its limit (500m). Fix: lower the request or raise the limit.',
            'container "hello" has an unparsable memory quantity (request "256MB", limit "256Mi"). Fix: use Kubernetes quantities such as "250m" or "256Mi".',
        ]);
    });
});

describe("policy: slipway-probes", () => {
    it("passes readiness and liveness on the named app port", async () => {
        assert.deepEqual((await runResource(probes, goodDeployment())).violations, []);
    });

    it("rejects missing probes and a probe on an undeclared port", async () => {
        const d = goodDeployment();
        delete container(d).livenessProbe;
        container(d).readinessProbe = { httpGet: { path: "/readyz", port: "web" } };
        assert.deepEqual((await runResource(probes, d)).violations, [
            'container "hello" readinessProbe targets port "web", which the container does not declare in ports. Fix: probe a declared port by its name.',
            'container "hello" has no livenessProbe. Fix: add a livenessProbe (httpGet on the app port: /readyz for readiness, /healthz for liveness).',
        ]);
    });

    it("rejects identical readiness and liveness probes", async () => {
        const d = goodDeployment();
        container(d).livenessProbe = structuredClone(container(d).readinessProbe);
        assert.deepEqual((await runResource(probes, d)).violations, [
            'container "hello" uses the same probe for readiness and liveness, so a busy pod is restarted instead of taken out of rotation. Fix: point liveness at /healthz and readiness at /readyz.',
        ]);
    });

    it("accepts numeric ports and does not apply to Jobs", async () => {
        const d = goodDeployment();
        container(d).livenessProbe = { tcpSocket: { port: 8080 } };
        assert.deepEqual((await runResource(probes, d)).violations, []);
        const job: TestResource = {
            type: "kubernetes:batch/v1:Job",
            props: { spec: { template: { spec: { containers: [{ name: "once", image: APP_IMAGE }] } } } },
        };
        assert.deepEqual(await runResource(probes, job), { violations: [], notApplicable: "run-to-completion workload" });
    });
});

describe("policy: slipway-restricted-security-context", () => {
    it("passes the restricted profile (runAsNonRoot/seccomp may come from the pod)", async () => {
        const d = goodDeployment();
        delete container(d).securityContext.runAsNonRoot;
        delete container(d).securityContext.seccompProfile;
        assert.deepEqual((await runResource(restrictedSecurityContext, d)).violations, []);
    });

    it("lists every gap of a container in one message", async () => {
        const d = goodDeployment();
        podSpec(d).securityContext = {};
        container(d).securityContext = { runAsUser: 0, privileged: true, capabilities: { add: ["NET_ADMIN", "NET_BIND_SERVICE"] } };
        assert.deepEqual((await runResource(restrictedSecurityContext, d)).violations, [
            'container "hello": runAsNonRoot is not true; runAsUser is 0 (root); readOnlyRootFilesystem is not true; allowPrivilegeEscalation is not false; privileged is true; capabilities.drop does not include ALL; capabilities.add has NET_ADMIN; seccompProfile.type is unset. Fix: set securityContext { runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } } and mount an emptyDir where the process must write.',
        ]);
    });

    it("checks init containers too, and rejects seccomp Unconfined", async () => {
        const d = goodDeployment();
        podSpec(d).initContainers = [
            {
                ...goodContainer(),
                name: "migrate",
                securityContext: { ...goodContainer().securityContext, seccompProfile: { type: "Unconfined" } },
            },
        ];
        const run = await runResource(restrictedSecurityContext, d);
        assert.equal(run.violations.length, 1);
        assert.match(run.violations[0], /^initContainer "migrate": seccompProfile.type is Unconfined\. Fix: /);
    });
});

describe("policy: slipway-no-host-access", () => {
    it("passes a pod that keeps to itself", async () => {
        assert.deepEqual((await runResource(noHostAccess, goodDeployment())).violations, []);
    });

    it("rejects host namespaces, hostPath and hostPort", async () => {
        const d = goodDeployment();
        Object.assign(podSpec(d), { hostNetwork: true, hostPID: true, hostIPC: false });
        podSpec(d).volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
        container(d).ports[0].hostPort = 80;
        assert.deepEqual((await runResource(noHostAccess, d)).violations, [
            "the pod sets hostNetwork: true, which shares the node's namespace with every app on it. Fix: remove hostNetwork; expose the app through its Service.",
            "the pod sets hostPID: true, which shares the node's namespace with every app on it. Fix: remove hostPID; expose the app through its Service.",
            'volume "docker" mounts hostPath "/var/run/docker.sock" from the node. Fix: use an emptyDir, ConfigMap, Secret or PersistentVolumeClaim instead.',
            'container "hello" binds hostPort 80 on the node. Fix: drop hostPort and reach the pod through its Service (or an Ingress).',
        ]);
    });
});

describe("policy: slipway-no-duplicate-env", () => {
    it("passes distinct names", async () => {
        assert.deepEqual((await runResource(noDuplicateEnv, goodDeployment())).violations, []);
    });

    it("names the duplicated variables", async () => {
        const d = goodDeployment();
        container(d).env.push({ name: "PORT", value: "9090" }, { name: "STAGE", value: "a" }, { name: "STAGE", value: "b" });
        assert.deepEqual((await runResource(noDuplicateEnv, d)).violations, [
            'container "hello" defines PORT, STAGE more than once; Kubernetes silently keeps the last value. Fix: define each variable once (a name in slipway:app.env must not repeat one from slipway:secretEnv or the built-in STAGE/PORT/… variables).',
        ]);
    });
});

describe("policy: slipway-topology-spread", () => {
    it("passes a hostname spread over the pod's own labels, or pod anti-affinity", async () => {
        assert.deepEqual((await runResource(topologySpread, goodDeployment())).violations, []);
        const d = goodDeployment();
        delete podSpec(d).topologySpreadConstraints;
        podSpec(d).affinity = {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: { matchLabels: { "app.kubernetes.io/name": "hello" } },
                        },
                    },
                ],
            },
        };
        assert.deepEqual((await runResource(topologySpread, d)).violations, []);
    });

    it("rejects a missing spread, and a spread that selects other pods", async () => {
        const message = (why: string) =>
            `the pod template ${why}, so all replicas may land on one node. Fix: add topologySpreadConstraints [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: <the pod's app.kubernetes.io labels> } }].`;
        const none = goodDeployment();
        delete podSpec(none).topologySpreadConstraints;
        assert.deepEqual((await runResource(topologySpread, none)).violations, [
            message("has no topologySpreadConstraints or podAntiAffinity"),
        ]);
        const wrong = goodDeployment();
        podSpec(wrong).topologySpreadConstraints[0].labelSelector = { matchLabels: { app: "other" } };
        assert.deepEqual((await runResource(topologySpread, wrong)).violations, [
            message(
                "has spread rules, but none uses one of the topology keys kubernetes.io/hostname, topology.kubernetes.io/zone with a labelSelector that matches its own pod labels",
            ),
        ]);
    });

    it("honours configured topology keys", async () => {
        const run = await runResource(topologySpread, goodDeployment(), { topologyKeys: ["topology.kubernetes.io/zone"] });
        assert.equal(run.violations.length, 1);
    });
});

describe("policy: slipway-zero-downtime-rollout", () => {
    it("passes RollingUpdate with maxUnavailable 0 and a preStop drain", async () => {
        assert.deepEqual((await runResource(zeroDowntimeRollout, goodDeployment())).violations, []);
    });

    it("rejects Recreate and a missing preStop", async () => {
        const d = goodDeployment();
        d.props.spec.strategy = { type: "Recreate" };
        delete container(d).lifecycle;
        assert.deepEqual((await runResource(zeroDowntimeRollout, d)).violations, [
            'strategy.type is Recreate, which stops every old pod before new ones are ready. Fix: use strategy { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }.',
            'container "hello" has no lifecycle.preStop, so it gets SIGTERM while endpoints still route to it. Fix: add preStop { sleep: { seconds: 5 } } (the drain delay) and keep terminationGracePeriodSeconds above it.',
        ]);
    });

    it("rejects the default maxUnavailable, maxSurge 0 and a drain longer than the grace period", async () => {
        const d = goodDeployment();
        d.props.spec.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 0 } };
        container(d).lifecycle = { preStop: { exec: { command: ["/bin/sh", "-c", "sleep 40"] } } };
        assert.deepEqual((await runResource(zeroDowntimeRollout, d)).violations, [
            "rollingUpdate.maxUnavailable is unset (Kubernetes defaults to 25%), so a rollout may take serving pods away before their replacements are ready. Fix: set maxUnavailable: 0.",
            "rollingUpdate.maxSurge is 0 and maxUnavailable must be 0, so the rollout cannot make progress. Fix: set maxSurge: 1 (or 25%).",
            'container "hello" sleeps 40s in preStop but terminationGracePeriodSeconds is 30, so the pod is killed before it finishes draining. Fix: raise terminationGracePeriodSeconds above the preStop delay plus the app\'s shutdown time.',
        ]);
    });
});
