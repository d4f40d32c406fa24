import { strict as assert } from "node:assert";
import { pdbAllowsEviction, replicasHighlyAvailable, allowedDisruptions } from "../../policy/rules/availability";
import { namespaceIsolation, selectorsMatchPods, serviceMonitorTargetsService, serviceTargetsWorkload } from "../../policy/rules/wiring";
import { selectorMatches } from "../../policy/lib/kube";
import { TestResource, runStack } from "./harness";
import { NAMESPACE, POD_LABELS, goodDeployment, goodService, goodStack, isolation, podSpec } from "./fixtures";

const DEPLOYMENT = `Deployment "hello" in namespace "${NAMESPACE}"`;

/** The good stack with one resource (found by name) replaced or removed. */
function stackWith(name: string, replacement?: (r: TestResource) => void): TestResource[] {
    const stack = goodStack();
    const index = stack.findIndex((r) => r.name === name);
    assert.ok(index >= 0, name);
    if (replacement) replacement(stack[index]);
    else stack.splice(index, 1);
    return stack;
}

describe("policy: slipway-service-targets-workload (stack)", () => {
    it("passes a Service selecting the pods on named ports", async () => {
        assert.deepEqual(await runStack(serviceTargetsWorkload, goodStack()), { violations: [] });
    });

    it("rejects a Deployment without a Service, a dangling Service, and an undeclared targetPort", async () => {
        const stack = stackWith("app-service", (s) => {
            s.props.spec.selector = { "app.kubernetes.io/name": "helo" };
        });
        const second = goodService();
        second.name = "second";
        second.props.metadata.name = "hello-admin";
        second.props.spec.ports = [{ name: "admin", port: 81, targetPort: "admin" }];
        stack.push(second);
        assert.deepEqual((await runStack(serviceTargetsWorkload, stackWith("app-service"))).violations, [
            `${DEPLOYMENT} has no Service selecting its pod labels {"app.kubernetes.io/name":"hello","app.kubernetes.io/instance":"hello-prod"}. Fix: create a Service in namespace "${NAMESPACE}" whose spec.selector is a subset of those labels.`,
        ]);
        assert.deepEqual((await runStack(serviceTargetsWorkload, stack)).violations, [
            `Service "hello" in namespace "${NAMESPACE}" selects {"app.kubernetes.io/name":"helo"}, which matches no pod template in its namespace. Fix: make spec.selector a subset of the Deployment's pod template labels.`,
            `Service "hello-admin" in namespace "${NAMESPACE}" port "admin" targets "admin", which the selected pods do not declare. Fix: set targetPort to the name of a containerPort (e.g. "http" or "metrics").`,
        ]);
    });

    it("is not applicable without Deployments", async () => {
        assert.equal((await runStack(serviceTargetsWorkload, [goodService()])).notApplicable, "no Deployments or StatefulSets");
    });
});

describe("policy: slipway-servicemonitor-targets-service (stack)", () => {
    it("passes a ServiceMonitor on the Service's metrics port name", async () => {
        assert.deepEqual((await runStack(serviceMonitorTargetsService, goodStack())).violations, []);
    });

    it("rejects a renamed port: the Service no longer defines what the ServiceMonitor scrapes", async () => {
        const stack = stackWith("app-service", (s) => {
            s.props.spec.ports[1].name = "prometheus";
        });
        assert.deepEqual((await runStack(serviceMonitorTargetsService, stack)).violations, [
            `ServiceMonitor "hello" in namespace "${NAMESPACE}" scrapes port "metrics", but Service "hello" in namespace "${NAMESPACE}" defines only "http", "prometheus". Fix: name the Service's metrics port and use that name in endpoints[].port.`,
        ]);
    });

    it("rejects a ServiceMonitor that selects nothing, which also leaves the Deployment unmonitored", async () => {
        const stack = stackWith("app-servicemonitor", (m) => {
            m.props.spec.selector = { matchLabels: { app: "hello" } };
        });
        assert.deepEqual((await runStack(serviceMonitorTargetsService, stack)).violations, [
            `ServiceMonitor "hello" in namespace "${NAMESPACE}" selects {"matchLabels":{"app":"hello"}}, which matches no Service's labels, so Prometheus scrapes nothing. Fix: copy the Service's metadata.labels into spec.selector.matchLabels.`,
            `${DEPLOYMENT} is not monitored: no ServiceMonitor selects its Service "hello". Fix: enable slipway:monitoring (requires the Prometheus Operator CRDs), or set requireServiceMonitor: false for this stage in the policy config.`,
        ]);
    });

    it("rejects an endpoint by targetPort, honours namespaceSelector, and can be relaxed per stage", async () => {
        const byTargetPort = stackWith("app-servicemonitor", (m) => {
            m.props.spec.endpoints = [{ targetPort: 9464 }];
        });
        assert.deepEqual((await runStack(serviceMonitorTargetsService, byTargetPort)).violations, [
            `ServiceMonitor "hello" in namespace "${NAMESPACE}" has an endpoint without a port name (it uses the deprecated targetPort). Fix: set endpoints[].port to the Service's metrics port name.`,
        ]);
        const elsewhere = stackWith("app-servicemonitor", (m) => {
            m.props.metadata.namespace = "monitoring";
            m.props.spec.namespaceSelector = { matchNames: [NAMESPACE] };
        });
        assert.deepEqual((await runStack(serviceMonitorTargetsService, elsewhere)).violations, []);
        const none = stackWith("app-servicemonitor");
        assert.equal((await runStack(serviceMonitorTargetsService, none)).violations.length, 1);
        assert.deepEqual((await runStack(serviceMonitorTargetsService, none, { requireServiceMonitor: false })).violations, []);
    });

    it("requires no ServiceMonitor for an app without a metrics port (app.metricsPort: false): nothing to scrape", async () => {
        const stack = stackWith("app-servicemonitor");
        const service = stack.find((r) => r.name === "app-service")!;
        service.props.spec.ports = service.props.spec.ports.filter((p: any) => p.name !== "metrics");
        assert.deepEqual((await runStack(serviceMonitorTargetsService, stack)).violations, []);
    });
});

describe("policy: slipway-selectors-match-pods (stack)", () => {
    it("passes selectors built from the pod labels", async () => {
        assert.deepEqual((await runStack(selectorsMatchPods, goodStack())).violations, []);
    });

    it("rejects a Deployment selector, PDB, NetworkPolicy and HPA that miss their pods", async () => {
        const stack = goodStack();
        const find = (name: string) => stack.find((r) => r.name === name)!;
        find("app-deployment").props.spec.selector = { matchLabels: { app: "hello" } };
        find("app-pdb").props.spec.selector = { matchLabels: { app: "hello" } };
        find("app-netpol").props.spec.podSelector = { matchExpressions: [{ key: "tier", operator: "Exists" }] };
        find("app-hpa").props.spec.scaleTargetRef.name = "helo";
        assert.deepEqual((await runStack(selectorsMatchPods, stack)).violations, [
            `${DEPLOYMENT} spec.selector {"matchLabels":{"app":"hello"}} does not match its own pod template labels {"app.kubernetes.io/name":"hello","app.kubernetes.io/instance":"hello-prod"}; the API server rejects it. Fix: use the same label map for both.`,
            `PodDisruptionBudget "hello" in namespace "${NAMESPACE}" selects no pods, so it protects nothing during node drains. Fix: set spec.selector.matchLabels to the Deployment's pod labels.`,
            `NetworkPolicy "hello" in namespace "${NAMESPACE}" podSelector matches no pods, so the pods it meant to isolate are open. Fix: set spec.podSelector.matchLabels to the pod labels (or {} for a namespace-wide default deny).`,
            `HorizontalPodAutoscaler "hello" in namespace "${NAMESPACE}" scales Deployment "helo", which is not in the stack. Fix: set scaleTargetRef to the Deployment's apiVersion, kind and metadata.name.`,
        ]);
    });
});

describe("policy: slipway-namespace-isolation (stack)", () => {
    it("passes default deny, a quota and a LimitRange", async () => {
        assert.deepEqual((await runStack(namespaceIsolation, goodStack())).violations, []);
    });

    it("rejects a namespace without NetworkPolicy, ResourceQuota and LimitRange", async () => {
        const stack = [goodDeployment(), goodService()];
        assert.deepEqual((await runStack(namespaceIsolation, stack)).violations, [
            `${DEPLOYMENT} is not covered by an ingress NetworkPolicy, so any pod in the cluster can reach it. Fix: add a default-deny NetworkPolicy (podSelector: {}, policyTypes: ["Ingress"]) and allow only the app port and the monitoring namespace.`,
            `namespace "${NAMESPACE}" has no ResourceQuota, so one app can take the whole cluster. Fix: add a ResourceQuota (requests/limits for cpu and memory, pod count) to the namespace.`,
            `namespace "${NAMESPACE}" has no LimitRange, so a container without resources gets no defaults. Fix: add a LimitRange with default requests and limits for containers.`,
        ]);
    });

    it("does not count an egress-only policy", async () => {
        const stack = [
            goodDeployment(),
            ...isolation().filter((r) => !r.type.endsWith("NetworkPolicy")),
            {
                type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                name: "egress",
                props: { metadata: { namespace: NAMESPACE }, spec: { podSelector: {}, policyTypes: ["Egress"] } },
            },
        ];
        assert.equal((await runStack(namespaceIsolation, stack)).violations.length, 1);
    });
});

describe("policy: slipway-replicas-ha (stack)", () => {
    it("passes enough replicas, or an HPA with enough minReplicas", async () => {
        assert.deepEqual((await runStack(replicasHighlyAvailable, goodStack())).violations, []);
        const single = stackWith("app-deployment", (d) => {
            d.props.spec.replicas = 1;
        });
        assert.deepEqual((await runStack(replicasHighlyAvailable, single)).violations, [], "the HPA's minReplicas 3 counts");
    });

    it("rejects a single replica, and an HPA that may scale to one", async () => {
        const single = stackWith("app-hpa");
        single[0].props.spec.replicas = 1;
        assert.deepEqual((await runStack(replicasHighlyAvailable, single)).violations, [
            `${DEPLOYMENT} can run with 1 replica(s) (spec.replicas); one node failure takes the service down. Fix: set slipway:app.replicas (or app.autoscaling.minReplicas) to at least 2.`,
        ]);
        const hpa = stackWith("app-hpa", (h) => {
            h.props.spec.minReplicas = 2;
        });
        assert.deepEqual((await runStack(replicasHighlyAvailable, hpa, { minReplicas: 3 })).violations, [
            `${DEPLOYMENT} can run with 2 replica(s) (its HorizontalPodAutoscaler's minReplicas); one node failure takes the service down. Fix: set slipway:app.replicas (or app.autoscaling.minReplicas) to at least 3.`,
        ]);
    });
});

describe("policy: slipway-pdb-allows-eviction (stack)", () => {
    it("passes maxUnavailable 1, and minAvailable below the replica floor", async () => {
        assert.deepEqual((await runStack(pdbAllowsEviction, goodStack())).violations, []);
        const min = stackWith("app-pdb", (p) => {
            p.props.spec = { minAvailable: "50%", selector: { matchLabels: POD_LABELS } };
        });
        assert.deepEqual((await runStack(pdbAllowsEviction, min)).violations, []);
    });

    it("rejects a missing PDB and one that blocks every eviction at the HPA floor", async () => {
        const missing = stackWith("app-pdb");
        assert.deepEqual((await runStack(pdbAllowsEviction, missing)).violations, [
            `${DEPLOYMENT} has no PodDisruptionBudget, so a node drain may evict all its pods at once. Fix: run at least 2 replicas (AppDeployment then creates a PDB) with maxUnavailable: 1.`,
        ]);
        const blocking = stackWith("app-pdb", (p) => {
            p.props.spec = { minAvailable: 3, selector: { matchLabels: POD_LABELS } };
        });
        assert.deepEqual((await runStack(pdbAllowsEviction, blocking)).violations, [
            `PodDisruptionBudget "hello" in namespace "${NAMESPACE}" allows 0 evictions when ${DEPLOYMENT} runs 3 replica(s) (its HorizontalPodAutoscaler's minReplicas), so node drains block forever. Fix: use maxUnavailable: 1 (and at least 2 replicas) instead of a minAvailable equal to the replica count.`,
        ]);
        const zero = stackWith("app-pdb", (p) => {
            p.props.spec.maxUnavailable = "0%";
        });
        assert.match((await runStack(pdbAllowsEviction, zero)).violations[0], /allows 0 evictions/);
    });

    it("computes allowed disruptions like Kubernetes", () => {
        assert.equal(allowedDisruptions({ maxUnavailable: "10%" }, 3), 1);
        assert.equal(allowedDisruptions({ minAvailable: "50%" }, 3), 1);
        assert.equal(allowedDisruptions({ minAvailable: 1 }, 1), 0);
        assert.equal(allowedDisruptions({}, 3), undefined);
    });
});

describe("label selectors", () => {
    it("follow Kubernetes semantics", () => {
        const labels = { app: "hello", tier: "web" };
        assert.equal(selectorMatches({}, labels), true);
        assert.equal(selectorMatches(undefined, labels), false);
        assert.equal(
            selectorMatches(
                { matchLabels: { app: "hello" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }] },
                labels,
            ),
            true,
        );
        assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, labels), false);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, labels), true);
        assert.equal(selectorMatches({ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, labels), false);
    });

    it("covers StatefulSets like Deployments", async () => {
        const sts = goodDeployment();
        sts.type = "kubernetes:apps/v1:StatefulSet";
        delete podSpec(sts).topologySpreadConstraints;
        const run = await runStack(serviceTargetsWorkload, [sts]);
        assert.match(run.violations[0], /^StatefulSet "hello" in namespace "hello-prod" has no Service selecting its pod labels/);
    });
});
