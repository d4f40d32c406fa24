import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { STAGES, effectiveEnforcement, policies } from "../../policy/policies";
import { stagePolicyConfig } from "./harness";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

/** The few JSON-schema features the pack's config schemas use, checked the way the CLI would. */
function schemaErrors(schema: PolicyConfigJSONSchema, value: unknown, at: string): string[] {
    const type = schema.type;
    const ok =
        type === "array"
            ? Array.isArray(value)
            : type === "integer"
              ? Number.isInteger(value)
              : type === undefined
                ? true
                : typeof value === type;
    if (!ok) return [`${at}: expected ${type}, got ${JSON.stringify(value)}`];
    if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) return [`${at}: below ${schema.minimum}`];
    if (Array.isArray(value) && typeof schema.items === "object" && !Array.isArray(schema.items)) {
        const items = schema.items;
        return value.flatMap((v, i) => schemaErrors(items, v, `${at}[${i}]`));
    }
    return [];
}

describe("policy pack", () => {
    it("has unique kebab-case names prefixed slipway-, each with description and remediation", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of policies) {
            assert.match(p.name, /^slipway-[a-z0-9-]+$/);
            assert.ok(p.description.length > 20 && p.remediationSteps, p.name);
            assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel!), p.name);
        }
    });

    for (const stage of STAGES) {
        it(`config/${stage}.json names only real policies, valid levels and schema-valid options`, () => {
            const config = stagePolicyConfig(stage);
            for (const [name, entry] of Object.entries(config)) {
                const policy = policies.find((p) => p.name === name);
                assert.ok(name === "all" || policy, `unknown policy ${name}`);
                const { enforcementLevel, ...properties } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
                assert.ok(enforcementLevel === undefined || LEVELS.includes(enforcementLevel), `${name}: ${enforcementLevel}`);
                for (const [key, value] of Object.entries(properties)) {
                    const schema = policy?.configSchema?.properties[key];
                    assert.ok(schema && typeof schema === "object", `${name}.${key} is not in the policy's configSchema`);
                    assert.deepEqual(schemaErrors(schema, value, `${name}.${key}`), []);
                }
            }
        });
    }

    it("prod makes every rule mandatory; the other stages keep exactly the prod-only rules advisory", () => {
        const prodOnly = [
            "slipway-ecr-no-force-delete",
            "slipway-topology-spread",
            "slipway-zero-downtime-rollout",
            "slipway-replicas-ha",
            "slipway-pdb-allows-eviction",
        ];
        for (const stage of STAGES) {
            const config = stagePolicyConfig(stage);
            const advisory = policies.filter((p) => effectiveEnforcement(p.name, config) === "advisory").map((p) => p.name);
            assert.deepEqual(advisory.sort(), stage === "prod" ? [] : [...prodOnly].sort(), stage);
        }
    });

    it("README's rule table matches the policies and the enforcement the stage configs produce", () => {
        const readme = readFileSync(path.resolve(__dirname, "..", "..", "policy", "README.md"), "utf8");
        const rows = readme
            .split("\n")
            .filter((l) => l.startsWith("| `slipway-"))
            .map((l) => l.split("|").map((c) => c.trim()));
        assert.deepEqual(
            rows.map((r) => r[1].replace(/`/g, "")),
            policies.map((p) => p.name),
        );
        for (const row of rows) {
            const name = row[1].replace(/`/g, "");
            const kind = "validateStack" in policies.find((p) => p.name === name)! ? "S" : "R";
            assert.equal(row[2], kind, `${name} kind`);
            STAGES.forEach((stage, i) => {
                const documented = row[3 + i].split(" ")[0];
                assert.equal(
                    documented,
                    effectiveEnforcement(name, stagePolicyConfig(stage)) === "mandatory" ? "M" : "A",
                    `${name} in ${stage}`,
                );
            });
        }
    });
});
