/**
 * What the API server itself says about Slipway's objects (issue 9 d–f): every object of all four stacks, rendered
 * by the real engine, accepted by `kubectl apply --dry-run=server` with the Prometheus Operator CRDs installed and
 * PSA `restricted` on; the HPA and `ignoreChanges: spec.replicas` under server-side apply; the alert rules under
 * `promtool test rules`.
 */
import * as assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseAllDocuments, stringify as toYaml } from "yaml";
import { prometheusRuleSpec } from "../../components/lib/manifests";
import { parseStackConfig } from "../../stacks/config";
import { readStackConfig } from "../support/stacks";
import { kubectl, kubectlOk } from "./support/machine";
import { stackFile, stackHistory, stackOutputs, workspace } from "./support/shared";
import { fromEnv, ok, run } from "./support/workspace";

const ws = workspace();
const STAGES = ["local", "dev", "qa", "prod"] as const;

/** Every YAML file under a folder, recursively. */
function yamlFiles(dir: string): string[] {
    return readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => path.join(dir, f));
}

describe("issue 9: the API server's verdict on every object", function () {
    let pinnedRef = "";

    before(async () => {
        pinnedRef = String((await stackOutputs(ws, "local")).appImageRef);
    });

    it("renders all four stacks with the real engine and the API server accepts every object (dry-run=server, PSA restricted)", async () => {
        const rendered: Record<string, string> = {};
        for (const stage of STAGES) {
            const config = structuredClone(stackFile(ws, stage)) as Record<string, any>;
            const dir = path.join(ws.dir, ".slipway", "rendered", stage);
            config["slipway:kubernetes"] = { renderYamlTo: dir };
            if (stage === "dev") {
                // dev's ECR repositories need the AWS provider, which cannot be installed here. Its Kubernetes
                // objects do not depend on them: render dev as a rollback pins it, on this machine's registry.
                config["slipway:registry"] = { type: "external", server: fromEnv("SLIPWAY_E2E_REGISTRY") };
                delete config["slipway:buildImage"];
            }
            if (stage === "local" || stage === "dev") {
                config["slipway:image"] = { source: "pinned", ref: pinnedRef };
            }
            const stack = `render-${stage}`;
            writeFileSync(path.join(ws.dir, `Pulumi.${stack}.yaml`), toYaml({ config }));
            ok(await ws.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"]), `stack init ${stack}`);
            ok(await ws.pulumi(["up", "--stack", stack, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `render ${stack}`);
            rendered[stage] = dir;
        }
        for (const stage of STAGES) {
            const files = yamlFiles(rendered[stage]);
            const docs = files.flatMap((f) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()));
            const kinds = docs.map((d) => d.kind).sort();
            assert.ok(kinds.includes("Deployment") && kinds.includes("Service"), `${stage}: ${kinds.join(", ")}`);
            if (stage !== "local") assert.ok(kinds.includes("ServiceMonitor") && kinds.includes("PrometheusRule"), `${stage}: ${kinds}`);
            // Namespaces first, for real (a dry-run cannot create the namespace its other objects live in).
            const namespaces = docs.filter((d) => d.kind === "Namespace");
            assert.equal(namespaces.length, 1);
            // --force-conflicts: the local and qa objects also run for real here, owned by Pulumi's field manager; this
            // asks the API server whether it admits these objects, not who should own them.
            await kubectlOk(["apply", "--server-side", "--force-conflicts", "--field-manager", "e2e", "-f", "-"], toYaml(namespaces[0]));
            const others = files.filter((f) => !readFileSync(f, "utf8").includes("kind: Namespace"));
            const applied = await kubectl([
                "apply",
                "--dry-run=server",
                "--server-side",
                "--force-conflicts",
                "--field-manager",
                "e2e",
                ...others.flatMap((f) => ["-f", f]),
            ]);
            assert.equal(applied.code, 0, `${stage}: ${applied.stderr}`);
            assert.equal(applied.stderr.trim(), "", `${stage}: the API server warned: ${applied.stderr}`);
            assert.equal(applied.stdout.trim().split("\n").length, others.length, applied.stdout);
        }
    });

    it("PSA restricted admits the pods of a real rollout, and refuses a pod that is not restricted", async () => {
        const events = JSON.parse(await kubectlOk(["-n", "hello-local", "get", "events", "-o", "json"])) as { items: any[] };
        const failed = events.items.filter((e) => e.reason === "FailedCreate").map((e) => e.message);
        assert.deepEqual(failed, [], "a ReplicaSet could not create pods");
        const labels = await kubectlOk([
            "get",
            "ns",
            "hello-local",
            "-o",
            "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
        ]);
        assert.equal(labels, "restricted");
        // The same namespace refuses a root pod: the admission is real, not a label nobody reads.
        const refused = await kubectl([
            "-n",
            "hello-local",
            "run",
            "root-shell",
            "--image",
            pinnedRef,
            "--restart=Never",
            "--dry-run=server",
        ]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /violates PodSecurity "restricted/);
    });

    it("the HPA and ignoreChanges: spec.replicas survive a hand scale and a later up under server-side apply", async () => {
        const stack = "e2e-prod";
        const prod = structuredClone(stackFile(ws, "prod")) as Record<string, any>;
        prod["slipway:image"] = { source: "pinned", ref: pinnedRef, buildNumber: "1", gitBranch: "main", gitSha: "unknown" };
        // It pulls from this machine's registry, as the local stage pushed there.
        prod["slipway:pullRegistry"] = fromEnv("SLIPWAY_E2E_REGISTRY");
        delete prod["slipway:kubernetes"];
        // One node: a hard spread would leave two of three pods pending.
        prod["slipway:app"].topologySpread = "soft";
        delete prod["slipway:app"].ingress;
        prod["slipway:app"].allowFrom = [];
        writeFileSync(path.join(ws.dir, `Pulumi.${stack}.yaml`), toYaml({ config: prod }));
        ok(await ws.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"]), `stack init ${stack}`);
        ok(await ws.pulumi(["up", "--stack", stack, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `up ${stack}`);
        assert.equal(await kubectlOk(["-n", "hello-prod", "get", "deploy", "hello", "-o", "jsonpath={.spec.replicas}"]), "3");

        // What the HPA does: write the scale subresource.
        await kubectlOk(["-n", "hello-prod", "scale", "deploy", "hello", "--replicas", "5"]);
        await kubectlOk(["-n", "hello-prod", "rollout", "status", "deploy/hello", "--timeout", "180s"]);
        const up = await ws.pulumi(["up", "--stack", stack, "--yes", "--skip-preview", "--refresh"], { timeoutSeconds: 600 });
        ok(up, "up after the hand scale");
        assert.equal(await kubectlOk(["-n", "hello-prod", "get", "deploy", "hello", "-o", "jsonpath={.spec.replicas}"]), "5");
        const [last] = await stackHistory(ws, stack);
        assert.equal(last.result, "succeeded");
        assert.equal(last.resourceChanges?.update ?? 0, 0, `up changed something: ${JSON.stringify(last.resourceChanges)}`);
        // Nobody but the scaler owns spec.replicas now: Pulumi's field manager let go of it.
        const managed = JSON.parse(await kubectlOk(["-n", "hello-prod", "get", "deploy", "hello", "--show-managed-fields", "-o", "json"]));
        const owners = managed.metadata.managedFields
            .filter((f: any) => JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"'))
            .map((f: any) => f.manager);
        assert.ok(!owners.some((m: string) => m.startsWith("pulumi")), `spec.replicas owned by ${owners.join(", ")}`);
        ok(await ws.pulumi(["destroy", "--stack", stack, "--yes", "--skip-preview"], { timeoutSeconds: 600 }), `destroy ${stack}`);
    });

    // The alerts any app gets (kube-state-metrics only), as promtool unit tests: fire on a broken Deployment, stay pending
    // inside `for`, ignore another namespace.
    const kubeStateTests = (ns: string) => [
        {
            interval: "1m",
            input_series: [
                { series: `kube_deployment_status_replicas_available{${ns},deployment="hello"}`, values: "0x10" },
                { series: `kube_deployment_status_replicas_available{namespace="other",deployment="hello"}`, values: "3x10" },
            ],
            alert_rule_test: [
                { eval_time: "1m", alertname: "HelloNoReadyReplicas", exp_alerts: [] }, // pending: `for: 2m`
                { eval_time: "5m", alertname: "HelloNoReadyReplicas", exp_alerts: [{ namespace: "hello-prod", deployment: "hello" }] },
            ],
        },
        {
            interval: "1m",
            input_series: [
                { series: `kube_pod_container_status_restarts_total{${ns},container="hello",pod="a"}`, values: "0+1x30" },
                { series: `kube_pod_container_status_restarts_total{${ns},container="hello",pod="b"}`, values: "0+0x30" },
            ],
            alert_rule_test: [
                { eval_time: "25m", alertname: "HelloRestarting", exp_alerts: [{ namespace: "hello-prod", container: "hello", pod: "a" }] },
            ],
        },
    ];

    /**
     * Runs promtool's rule tests on `spec`; `exp_alerts` entries hold only the series labels, completed here with the
     * rule's own labels and annotations. Then the same tests against rules that never fire must fail (promtool checks).
     */
    async function promtool(name: string, spec: { groups: { rules: any[] }[] }, tests: any[]): Promise<void> {
        const dir = path.join(ws.dir, ".slipway", "promtool", name);
        mkdirSync(dir, { recursive: true });
        const rule = (alert: string) => spec.groups[0].rules.find((r) => r.alert === alert);
        const complete = tests.map((t) => ({
            ...t,
            alert_rule_test: t.alert_rule_test.map((a: any) => ({
                ...a,
                exp_alerts: a.exp_alerts.map((extra: Record<string, string>) => ({
                    exp_labels: { ...rule(a.alertname).labels, ...extra },
                    exp_annotations: rule(a.alertname).annotations,
                })),
            })),
        }));
        writeFileSync(path.join(dir, "rules.yaml"), toYaml(spec));
        writeFileSync(path.join(dir, "tests.yaml"), toYaml({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: complete }));
        const ran = await run("promtool", ["test", "rules", "tests.yaml"], { cwd: dir });
        assert.equal(ran.code, 0, ran.stdout + ran.stderr);
        assert.match(ran.stdout, /SUCCESS/);

        const broken = structuredClone(spec);
        broken.groups[0].rules.forEach((r) => (r.expr = `${r.expr} and on() vector(0) > 1`));
        writeFileSync(path.join(dir, "rules.yaml"), toYaml(broken));
        const refused = await run("promtool", ["test", "rules", "tests.yaml"], { cwd: dir });
        assert.notEqual(refused.code, 0);
    }

    const id = { appName: "hello", stage: "prod", namespace: "hello-prod" };
    const monitoring = {
        namespace: "monitoring",
        path: "/metrics",
        interval: "30s",
        selectorLabels: {},
        alerts: { enabled: true, errorRateThreshold: 0.01, restartThreshold: 3 },
    };
    const ns = 'namespace="hello-prod"';

    it("promtool, an app that names its request counter (the sample): each alert fires when it should, and only then", async () => {
        // The counter prod names (Pulumi.prod.yaml app.metrics), with its status label.
        const named = parseStackConfig(readStackConfig("prod")).app.metrics;
        assert.ok(named, "prod names the sample's request counter");
        const spec = prometheusRuleSpec(id, monitoring, named) as { groups: { rules: any[] }[] };
        const requests = (status: string) => `${named.requestsTotal}{${ns},service="hello",${named.statusLabel}="${status}"}`;
        await promtool("named", spec, [
            ...kubeStateTests(ns),
            {
                interval: "1m",
                input_series: [
                    { series: requests("200"), values: "0+100x30" },
                    { series: requests("500"), values: "0+5x30" },
                ],
                alert_rule_test: [{ eval_time: "20m", alertname: "HelloHighErrorRate", exp_alerts: [{}] }],
            },
            {
                interval: "1m",
                input_series: [
                    { series: requests("200"), values: "0+1000x30" },
                    { series: requests("500"), values: "0+5x30" },
                ],
                // 0.5 % of requests fail: under prod's 1 % threshold.
                alert_rule_test: [{ eval_time: "20m", alertname: "HelloHighErrorRate", exp_alerts: [] }],
            },
        ]);
    });

    it("promtool, an app that names no metric: the kube-state-metrics alerts fire, and 5xx series raise nothing", async () => {
        const spec = prometheusRuleSpec(id, monitoring) as { groups: { rules: any[] }[] };
        assert.deepEqual(
            spec.groups[0].rules.map((r) => r.alert),
            ["HelloNoReadyReplicas", "HelloRestarting"],
        );
        const requests = (status: string) => `http_requests_total{${ns},service="hello",code="${status}"}`;
        await promtool("unnamed", spec, [
            ...kubeStateTests(ns),
            {
                interval: "1m",
                input_series: [
                    { series: requests("200"), values: "0+10x30" },
                    { series: requests("500"), values: "0+50x30" },
                ],
                alert_rule_test: [
                    { eval_time: "20m", alertname: "HelloHighErrorRate", exp_alerts: [] },
                    { eval_time: "20m", alertname: "HelloNoReadyReplicas", exp_alerts: [] },
                ],
            },
        ]);
    });
});
