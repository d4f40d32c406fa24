import { strict as assert } from "node:assert";
import { parse as parseYaml } from "yaml";
import {
    appEgressPolicySpec,
    appNetworkPolicySpec,
    containerEnv,
    deploymentCustomTimeouts,
    deploymentSpec,
    dockerConfigJson,
    labelValue,
    limitRangeSpec,
    podContractProblems,
    PodSettings,
    prometheusRuleSpec,
    renderConfigFile,
    serviceMonitorSpec,
    serviceSpec,
    terminationGracePeriodSeconds,
    TMP_SIZE_LIMIT,
} from "../../components/lib/manifests";
import { APP_DEFAULTS } from "../../components/defaults";

const IMAGE = `127.0.0.1:5001/hello@sha256:${"cd34".repeat(16)}`;

function settings(overrides: Partial<PodSettings> = {}): PodSettings & { replicas: number; rolloutTimeoutSeconds: number } {
    return {
        appName: "hello",
        stage: "qa",
        namespace: "hello-qa",
        image: IMAGE,
        buildNumber: "1042",
        versionLabel: "1042",
        gitBranch: "main",
        gitSha: "9f2c4e1a7b3d",
        port: 8080,
        metricsPort: 9464,
        probes: APP_DEFAULTS.probes,
        runAsUser: 10001,
        runAsGroup: 10001,
        env: { LOG_LEVEL: "info" },
        secretEnvNames: [],
        resources: {
            requests: { cpu: "100m", memory: "128Mi", ephemeralStorage: "100Mi" },
            limits: { cpu: "500m", memory: "256Mi", ephemeralStorage: "300Mi" },
        },
        preStopSeconds: 5,
        drainSeconds: 2,
        shutdownTimeoutSeconds: 10,
        topologySpread: "soft",
        replicas: 2,
        rolloutTimeoutSeconds: 300,
        ...overrides,
    };
}

describe("container resources", () => {
    it("request and limit ephemeral storage, which covers the /tmp volume", () => {
        const pod = deploymentSpec(settings()).template as any;
        assert.deepEqual(pod.spec.containers[0].resources, {
            requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "100Mi" },
            limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "300Mi" },
        });
        assert.equal(pod.spec.volumes.find((v: any) => v.name === "tmp").emptyDir.sizeLimit, TMP_SIZE_LIMIT);
    });

    it("give containers without their own (a debug pod) the same defaults, ephemeral storage included", () => {
        const range = limitRangeSpec(settings().resources, { cpu: "2", memory: "2Gi" }) as any;
        assert.deepEqual(range.limits[0].defaultRequest, { cpu: "100m", memory: "128Mi", "ephemeral-storage": "100Mi" });
        assert.deepEqual(range.limits[0].default, { cpu: "500m", memory: "256Mi", "ephemeral-storage": "300Mi" });
    });
});

describe("rollout timeout", () => {
    it("is the Deployment's progress deadline, and pulumi up waits a minute more for create and update", () => {
        assert.equal(deploymentSpec(settings()).progressDeadlineSeconds, 300);
        assert.equal(deploymentSpec({ ...settings(), rolloutTimeoutSeconds: 120 }).progressDeadlineSeconds, 120);
        assert.deepEqual(deploymentCustomTimeouts(120), { create: "180s", update: "180s" });
        assert.deepEqual(deploymentCustomTimeouts(3600), { create: "3660s", update: "3660s" });
    });
});

describe("deployment manifest", () => {
    const spec = deploymentSpec(settings()) as any;
    const pod = spec.template.spec;
    const container = pod.containers[0];

    it("rolls out with zero unavailable pods and selects by stable labels only", () => {
        assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        assert.deepEqual(spec.selector.matchLabels, { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello-qa" });
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) {
            assert.equal(spec.template.metadata.labels[k], v, `pod label ${k} must match the selector`);
        }
        assert.equal(spec.template.metadata.labels["app.kubernetes.io/version"], "1042");
        assert.equal(spec.replicas, 2);
    });

    it("runs the image by digest and records provenance in annotations", () => {
        assert.equal(container.image, IMAGE);
        assert.deepEqual(spec.template.metadata.annotations, {
            "slipway.dev/image": IMAGE,
            "slipway.dev/build-number": "1042",
            "slipway.dev/git-branch": "main",
            "slipway.dev/git-sha": "9f2c4e1a7b3d",
            "kubectl.kubernetes.io/default-container": "hello",
        });
    });

    it("probes named ports on the app's health endpoints", () => {
        assert.deepEqual(container.ports, [
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { name: "metrics", containerPort: 9464, protocol: "TCP" },
        ]);
        assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "http" });
        assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "http" });
        assert.deepEqual(container.startupProbe.httpGet, { path: "/healthz", port: "http" });
        assert.equal(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold, 30);
    });

    it("is restricted: non-root numeric user, read-only root, no privileges, RuntimeDefault seccomp, no token", () => {
        assert.deepEqual(pod.securityContext, {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        });
        assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(container.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    });

    it("stops gracefully: preStop sleep, then drain and shutdown inside the grace period", () => {
        assert.deepEqual(container.lifecycle, { preStop: { sleep: { seconds: 5 } } });
        assert.equal(pod.terminationGracePeriodSeconds, 22);
        assert.equal(terminationGracePeriodSeconds({ preStopSeconds: 0, drainSeconds: 0, shutdownTimeoutSeconds: 1 }), 6);
        const noPreStop = (deploymentSpec(settings({ preStopSeconds: 0 })) as any).template.spec.containers[0];
        assert.equal(noPreStop.lifecycle, undefined);
    });

    it("spreads pods over nodes and zones, hard on nodes when asked", () => {
        const soft = pod.topologySpreadConstraints.map((c: any) => [c.topologyKey, c.whenUnsatisfiable]);
        assert.deepEqual(soft, [
            ["kubernetes.io/hostname", "ScheduleAnyway"],
            ["topology.kubernetes.io/zone", "ScheduleAnyway"],
        ]);
        const hard = (deploymentSpec(settings({ topologySpread: "hard" })) as any).template.spec.topologySpreadConstraints;
        assert.equal(hard[0].whenUnsatisfiable, "DoNotSchedule");
        assert.deepEqual(hard[0].labelSelector.matchLabels, spec.selector.matchLabels);
    });

    it("mounts the config file's folder read-only from the ConfigMap and points CONFIG_FILE at it", () => {
        const withFile = (
            deploymentSpec(settings({ configFile: { path: "/etc/slipway/config.yaml", configMapName: "app-config-1a2b" } })) as any
        ).template.spec;
        assert.deepEqual(withFile.volumes[1], {
            name: "config",
            configMap: { name: "app-config-1a2b", items: [{ key: "config.yaml", path: "config.yaml" }] },
        });
        assert.deepEqual(withFile.containers[0].volumeMounts[1], { name: "config", mountPath: "/etc/slipway", readOnly: true });
        const env = withFile.containers[0].env.find((e: any) => e.name === "CONFIG_FILE");
        assert.equal(env.value, "/etc/slipway/config.yaml");
    });
});

describe("container environment", () => {
    it("sets Slipway's variables, then config, then secrets by Secret reference only", () => {
        const env = containerEnv(settings({ secretEnvNames: ["DB_PASSWORD", "API_TOKEN"], secretName: "app-env-9z8y" })) as any[];
        assert.deepEqual(
            env.map((e) => e.name),
            [
                "PORT",
                "METRICS_PORT",
                "SERVICE_NAME",
                "STAGE",
                "BUILD_NUMBER",
                "GIT_BRANCH",
                "GIT_SHA",
                "DRAIN_DELAY_MS",
                "SHUTDOWN_TIMEOUT_MS",
                "LOG_LEVEL",
                "API_TOKEN",
                "DB_PASSWORD",
            ],
        );
        assert.equal(env.find((e) => e.name === "DRAIN_DELAY_MS").value, "2000");
        assert.deepEqual(
            env.find((e) => e.name === "API_TOKEN"),
            { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "app-env-9z8y", key: "API_TOKEN" } } },
        );
        assert.ok(env.filter((e) => e.name.endsWith("PASSWORD") || e.name.endsWith("TOKEN")).every((e) => e.value === undefined));
    });

    it("refuses secret names without a Secret to read them from", () => {
        assert.throws(() => containerEnv(settings({ secretEnvNames: ["DB_PASSWORD"] })), /secret variable DB_PASSWORD needs a Secret/);
    });
});

describe("service and monitoring", () => {
    const id = { appName: "hello", stage: "prod", namespace: "hello-prod" };
    const monitoring = {
        namespace: "monitoring",
        path: "/metrics",
        interval: "15s",
        selectorLabels: { release: "kube-prometheus-stack" },
        alerts: { enabled: true, errorRateThreshold: 0.01, restartThreshold: 3 },
    };

    it("ServiceMonitor selects the Service's labels and a port name the Service defines", () => {
        const service = serviceSpec({ ...id, port: 8080, metricsPort: 9464 }) as any;
        const sm = serviceMonitorSpec(id, monitoring) as any;
        assert.deepEqual(sm.selector.matchLabels, service.selector);
        assert.deepEqual(sm.namespaceSelector, { matchNames: ["hello-prod"] });
        assert.deepEqual(sm.endpoints, [{ port: "metrics", path: "/metrics", interval: "15s", scheme: "http" }]);
        assert.ok(service.ports.some((p: any) => p.name === sm.endpoints[0].port));
        assert.deepEqual(service.ports[0], { name: "http", port: 80, targetPort: "http", protocol: "TCP" });
        assert.equal(service.type, "ClusterIP");
    });

    it("with a nodePort: a NodePort Service whose http port has it; the metrics port gets none", () => {
        const service = serviceSpec({ ...id, port: 8080, metricsPort: 9464, nodePort: 30080 }) as any;
        assert.equal(service.type, "NodePort");
        assert.deepEqual(service.ports, [
            { name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 },
            { name: "metrics", port: 9464, targetPort: "metrics", protocol: "TCP" },
        ]);
    });

    it("alerts on no ready replica, restarts and the 5xx ratio of the request counter the app names", () => {
        const sample = { requestsTotal: "http_request_duration_seconds_count", statusLabel: "status" };
        const rules = (prometheusRuleSpec(id, monitoring, sample) as any).groups[0].rules;
        assert.deepEqual(
            rules.map((r: any) => r.alert),
            ["HelloNoReadyReplicas", "HelloRestarting", "HelloHighErrorRate"],
        );
        assert.equal(rules[0].expr, 'kube_deployment_status_replicas_available{namespace="hello-prod",deployment="hello"} == 0');
        assert.equal(
            rules[2].expr,
            'sum(rate(http_request_duration_seconds_count{namespace="hello-prod",service="hello",status=~"5.."}[5m])) / ' +
                'clamp_min(sum(rate(http_request_duration_seconds_count{namespace="hello-prod",service="hello"}[5m])), 1e-9) > 0.01',
        );
        assert.equal(
            rules[1].expr,
            'increase(kube_pod_container_status_restarts_total{namespace="hello-prod",container="hello"}[15m]) > 3',
        );
        assert.ok(rules.every((r: any) => r.labels.severity === "critical"));
    });

    it("an app that names no request metric gets the kube-state-metrics alerts only; a named one is used with its label", () => {
        const named = (prometheusRuleSpec(id, monitoring) as any).groups[0].rules;
        assert.deepEqual(
            named.map((r: any) => r.alert),
            ["HelloNoReadyReplicas", "HelloRestarting"],
        );
        assert.ok(
            named.every((r: any) => /^(increase\()?kube_/.test(r.expr)),
            "only kube-state-metrics series",
        );
        const own = (
            prometheusRuleSpec(id, monitoring, { requestsTotal: "http_server_requests_seconds_count", statusLabel: "code" }) as any
        ).groups[0].rules[2];
        assert.equal(
            own.expr,
            'sum(rate(http_server_requests_seconds_count{namespace="hello-prod",service="hello",code=~"5.."}[5m])) / ' +
                'clamp_min(sum(rate(http_server_requests_seconds_count{namespace="hello-prod",service="hello"}[5m])), 1e-9) > 0.01',
        );
    });

    it("without a metrics port: no metrics port on the container or the Service, no METRICS_PORT, no metrics rule", () => {
        const pod = deploymentSpec(settings({ metricsPort: undefined })).template as any;
        const container = pod.spec.containers[0];
        assert.deepEqual(container.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
        assert.ok(!container.env.some((e: any) => e.name === "METRICS_PORT"));
        const service = serviceSpec({ ...id, port: 8080 }) as any;
        assert.deepEqual(
            service.ports.map((p: any) => p.name),
            ["http"],
        );
        const policy = appNetworkPolicySpec({ ...id, port: 8080, allowFrom: [], monitoringNamespace: "monitoring" }) as any;
        assert.equal(policy.ingress.length, 1, "no rule for a port that does not exist");
    });

    it("NetworkPolicy admits the app port from the namespace and allowed namespaces, metrics from monitoring only", () => {
        const policy = appNetworkPolicySpec({
            ...id,
            port: 8080,
            metricsPort: 9464,
            allowFrom: ["ingress-nginx"],
            monitoringNamespace: "monitoring",
        }) as any;
        assert.deepEqual(policy.policyTypes, ["Ingress"]);
        assert.deepEqual(policy.ingress, [
            {
                from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
                ports: [{ port: 8080, protocol: "TCP" }],
            },
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
                ports: [{ port: 9464, protocol: "TCP" }],
            },
        ]);
        const unmonitored = appNetworkPolicySpec({ ...id, port: 8080, metricsPort: 9464, allowFrom: [] }) as any;
        assert.equal(unmonitored.ingress.length, 1, "no metrics rule without monitoring");
    });

    it("restricts egress, when asked, to the cluster DNS and the declared dependencies", () => {
        const policy = appEgressPolicySpec(id, {
            dnsNamespace: "kube-system",
            allow: [
                { namespace: "postgres", port: 5432, protocol: "TCP" },
                { cidr: "10.20.0.0/16", port: 443, protocol: "TCP" },
            ],
        }) as any;
        assert.deepEqual(policy.policyTypes, ["Egress"]);
        assert.deepEqual(policy.podSelector, {
            matchLabels: { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello-prod" },
        });
        assert.deepEqual(policy.egress, [
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
            {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } } }],
                ports: [{ port: 5432, protocol: "TCP" }],
            },
            { to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ port: 443, protocol: "TCP" }] },
        ]);
    });

    it("opens only the app port to every source behind a NodePort; metrics stay with the monitoring namespace", () => {
        const policy = appNetworkPolicySpec({
            ...id,
            port: 8080,
            metricsPort: 9464,
            allowFrom: [],
            monitoringNamespace: "monitoring",
            openAppPort: true,
        }) as any;
        assert.deepEqual(policy.ingress[0], { ports: [{ port: 8080, protocol: "TCP" }] });
        assert.deepEqual(policy.ingress[1].from, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }]);
    });
});

describe("small manifest helpers", () => {
    it("renders a config mapping as YAML 1.1 (quoting yes/no/on) or as JSON by extension", () => {
        const yamlText = renderConfigFile("/etc/app/config.yaml", { greeting: "hi", mode: "on", nested: { n: 1 } });
        assert.equal(yamlText, 'greeting: hi\nmode: "on"\nnested:\n  "n": 1\n');
        assert.deepEqual(parseYaml(yamlText), { greeting: "hi", mode: "on", nested: { n: 1 } });
        assert.equal(renderConfigFile("/etc/app/config.json", { a: [1] }), '{\n  "a": [\n    1\n  ]\n}\n');
        assert.equal(renderConfigFile("/etc/app/raw.txt", "as is"), "as is");
    });

    it("makes label values valid", () => {
        assert.equal(labelValue("feature/login page"), "feature-login-page");
        assert.equal(labelValue("-x-".repeat(40)).length <= 63, true);
        assert.equal(labelValue("///"), "unknown");
    });

    it("builds a dockerconfigjson with basic auth", () => {
        const json = JSON.parse(dockerConfigJson({ server: "registry.example.com", username: "ci", password: "s3cret" }));
        assert.deepEqual(json, {
            auths: { "registry.example.com": { username: "ci", password: "s3cret", auth: Buffer.from("ci:s3cret").toString("base64") } },
        });
    });
});

describe("the app contract in the pod template", () => {
    it("renders the default probes exactly as before: startup without a timeout, the others with 2 s", () => {
        const c = (deploymentSpec(settings()) as any).template.spec.containers[0];
        assert.deepEqual(c.startupProbe, { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 1, failureThreshold: 30 });
        assert.deepEqual(c.readinessProbe, {
            httpGet: { path: "/readyz", port: "http" },
            periodSeconds: 5,
            failureThreshold: 2,
            timeoutSeconds: 2,
        });
        assert.deepEqual(c.livenessProbe, {
            httpGet: { path: "/healthz", port: "http" },
            periodSeconds: 10,
            failureThreshold: 3,
            timeoutSeconds: 2,
        });
    });

    it("takes an app's own probe paths and timings, its user and group", () => {
        const probes = {
            startup: { path: "/actuator/health/liveness", periodSeconds: 2, failureThreshold: 60, timeoutSeconds: 3 },
            readiness: { path: "/actuator/health/readiness", periodSeconds: 5, failureThreshold: 3 },
            liveness: { path: "/actuator/health/liveness", periodSeconds: 15, failureThreshold: 4, timeoutSeconds: 5 },
        };
        const pod = (deploymentSpec(settings({ probes, runAsUser: 65532, runAsGroup: 65533 })) as any).template.spec;
        const c = pod.containers[0];
        assert.deepEqual(c.startupProbe, {
            httpGet: { path: "/actuator/health/liveness", port: "http" },
            periodSeconds: 2,
            failureThreshold: 60,
            timeoutSeconds: 3,
        });
        assert.equal(c.readinessProbe.httpGet.path, "/actuator/health/readiness");
        assert.equal(c.readinessProbe.timeoutSeconds, undefined);
        assert.equal(c.livenessProbe.periodSeconds, 15);
        assert.deepEqual(
            [pod.securityContext.runAsUser, pod.securityContext.runAsGroup, pod.securityContext.fsGroup],
            [65532, 65533, 65533],
        );
    });

    it("names every broken rule of the contract at once, and none for the defaults", () => {
        const good = { port: 8080, metricsPort: 9464, probes: APP_DEFAULTS.probes, runAsUser: 10001, runAsGroup: 10001, env: {} };
        assert.deepEqual(podContractProblems(good), []);
        const problems = podContractProblems({
            ...good,
            port: 80,
            metricsPort: 80,
            probes: { ...APP_DEFAULTS.probes, readiness: { path: "readyz", periodSeconds: 0, failureThreshold: 2 } },
            runAsUser: 0,
            env: { PORT: "1", "bad-name": "x", APP_MODE: "fast" },
            secretEnv: { STAGE: "x" },
            requestMetric: { requestsTotal: "http-requests", statusLabel: "__status" },
        });
        assert.deepEqual(
            problems.map((p) => p.property),
            [
                "port",
                "metricsPort",
                "probes.readiness.path",
                "probes.readiness.periodSeconds",
                "runAsUser",
                "env.PORT",
                "env.bad-name",
                "secretEnv.STAGE",
                "metrics.requestsTotal",
                "metrics.statusLabel",
            ],
        );
        assert.match(problems.find((p) => p.property === "runAsUser")!.reason, /0 is root/);
        assert.deepEqual(
            podContractProblems({ ...good, metricsPort: undefined, requestMetric: { requestsTotal: "x_total", statusLabel: "code" } }).map(
                (p) => p.property,
            ),
            ["metrics"],
        );
        assert.deepEqual(
            podContractProblems({ ...good, port: 9464 }).map((p) => p.property),
            ["metricsPort"],
        );
    });
});
