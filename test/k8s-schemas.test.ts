import { strict as assert } from "node:assert";
import { kubernetesObjects, schemaErrors, unknownFields } from "./support/k8s-schema";
import { evaluateStack, readStackConfig, STACKS } from "./support/stacks";

describe("every Kubernetes object validates against the official schemas", () => {
    for (const stack of STACKS) {
        it(`${stack}: schema-valid, with no field the schema does not define`, async () => {
            const objects = kubernetesObjects(await evaluateStack(stack));
            assert.ok(objects.length >= 8, `expected the full set of objects, got ${objects.length}`);
            const problems: string[] = [];
            for (const { resource, object } of objects) {
                for (const error of await schemaErrors(object)) {
                    problems.push(`${resource.type} ${resource.name}: ${error}`);
                }
                for (const field of await unknownFields(object)) {
                    problems.push(`${resource.type} ${resource.name}: unknown field ${field}`);
                }
            }
            assert.deepEqual(problems, []);
        });
    }

    it("dev with egress restricted and a NodePort: the extra objects are schema-valid too", async () => {
        const base = readStackConfig("dev") as { app: Record<string, unknown> };
        const app = {
            ...base.app,
            nodePort: 30080,
            egress: {
                allow: [
                    { namespace: "postgres", port: 5432 },
                    { cidr: "10.20.0.0/16", port: 443 },
                ],
            },
        };
        const objects = kubernetesObjects(await evaluateStack("dev", { config: { app } }));
        assert.ok(objects.some((o) => o.object.kind === "NetworkPolicy" && (o.object as any).spec.policyTypes.includes("Egress")));
        const problems: string[] = [];
        for (const { resource, object } of objects) {
            problems.push(...(await schemaErrors(object)).map((e) => `${resource.name}: ${e}`));
            problems.push(...(await unknownFields(object)).map((f) => `${resource.name}: unknown field ${f}`));
        }
        assert.deepEqual(problems, []);
    });

    it("the checks catch a wrong type, a bad quantity and a misspelt field", async () => {
        const [{ object }] = kubernetesObjects(await evaluateStack("dev")).filter((o) => o.object.kind === "Deployment");
        const broken = structuredClone(object) as any;
        const container = broken.spec.template.spec.containers[0];
        broken.spec.replicas = "three";
        container.resources.limits.memory = "lots";
        container.readinesProbe = container.readinessProbe;
        container.securityContext.runAsNonroot = true;
        assert.deepEqual(await schemaErrors(broken), [
            "/spec/replicas must be integer",
            "/spec/template/spec/containers/0/resources/limits/memory must be number",
            '/spec/template/spec/containers/0/resources/limits/memory must match format "quantity"',
            '/spec/template/spec/containers/0/resources/limits/memory must match exactly one schema in "oneOf"',
        ]);
        assert.deepEqual(await unknownFields(broken), [
            "/spec/template/spec/containers/0/securityContext/runAsNonroot",
            "/spec/template/spec/containers/0/readinesProbe",
        ]);
    });

    it("catches a ServiceMonitor endpoint field that does not exist", async () => {
        const [{ object }] = kubernetesObjects(await evaluateStack("prod")).filter((o) => o.object.kind === "ServiceMonitor");
        const broken = structuredClone(object) as any;
        broken.spec.endpoints[0].intervall = "30s";
        assert.deepEqual(await unknownFields(broken), ["/spec/endpoints/0/intervall"]);
        assert.deepEqual(await schemaErrors(object), []);
    });
});
