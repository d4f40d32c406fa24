/**
 * Resource identity is public API. A resource's URN is its stack, its parent chain's type tokens and its name; change
 * any of them (drop `{ parent: this }`, rename a child or a component, change a type token) and the next `pulumi up`
 * replaces the resource, in prod too: the Namespace and everything in it. This suite compares every URN of every
 * shipped stack with the committed snapshot, so such a change fails until it is made on purpose, with `aliases`.
 *
 * Update the snapshot deliberately: `npm run test:urns:update`, then review the diff of test/snapshots/urns.json.
 */
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { AppDeployment } from "../components/app-deployment";
import { Registry } from "../components/registry";
import { ComponentType, STAGES, type Stage } from "../contracts";
import { parseStackConfig } from "../stacks/config";
import { defineStage } from "../stacks/stage";
import { RecordingMocks, recordAliases, registeredUrns, settle } from "./support/mocks";
import { evaluateStackFull, readStackConfig, REPO_ROOT } from "./support/stacks";

const SNAPSHOT = path.join(REPO_ROOT, "test", "snapshots", "urns.json");
/** The URNs of the last release's stacks (0.2.0), frozen: every one must still be a URN or be claimed by an alias. */
const RELEASED = path.join(REPO_ROOT, "test", "snapshots", "urns-0.2.0.json");
const UPDATE = process.env.SLIPWAY_UPDATE_URNS === "1";

function readSnapshot(): Record<Stage, string[]> {
    return JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<Stage, string[]>;
}

describe("resource identity: every URN of every stack is the committed one", () => {
    before(async () => {
        if (UPDATE) {
            const urns: Record<string, string[]> = {};
            for (const stack of STAGES) {
                urns[stack] = (await evaluateStackFull(stack)).urns;
            }
            writeFileSync(SNAPSHOT, JSON.stringify(urns, null, 2) + "\n");
        }
    });

    for (const stack of STAGES) {
        it(`${stack}: URNs (type tokens, parent chain, names) match test/snapshots/urns.json`, async () => {
            const actual = (await evaluateStackFull(stack)).urns;
            const expected = readSnapshot()[stack];
            const added = actual.filter((u) => !expected.includes(u));
            const removed = expected.filter((u) => !actual.includes(u));
            assert.ok(
                added.length === 0 && removed.length === 0,
                `${stack}'s resource identity changed: the next pulumi up replaces these resources.\n` +
                    `  gone (deleted):   ${removed.join("\n                    ") || "-"}\n` +
                    `  new (created):    ${added.join("\n                    ") || "-"}\n` +
                    "Keep the old identity with `aliases` on the renamed resource, or, when the replacement is intended, " +
                    "run `npm run test:urns:update` and commit the snapshot.",
            );
        });
    }

    it("every child of a component is parented to it (the snapshot records the chain)", () => {
        const snapshot = readSnapshot();
        const components = Object.values(ComponentType) as string[];
        for (const stack of STAGES) {
            for (const urn of snapshot[stack]) {
                const [, , qualifiedType, name] = urn.split("::");
                const chain = qualifiedType.split("$");
                const type = chain[chain.length - 1];
                if (type.startsWith("pulumi:providers:") || components.includes(type)) {
                    assert.equal(chain.length, 1, `${urn} is top-level`);
                } else {
                    assert.ok(components.includes(chain[0]), `${urn} has a Slipway component as parent`);
                    assert.ok(/^[a-z0-9-]+$/.test(name), urn);
                }
            }
        }
    });
});

describe("resource identity: a stack of the last release (0.2.0) updates in place", () => {
    /** Runs one stack's program under mocks that record alias URNs; returns its URNs and every alias URN it sent. */
    async function urnsAndAliases(stack: Stage): Promise<{ urns: string[]; aliases: string[] }> {
        await pulumi.runtime.setMocks(new RecordingMocks(), "slipway", stack, false);
        const sent = recordAliases();
        defineStage(parseStackConfig(readStackConfig(stack)), { buildNumber: "1", gitBranch: "main", gitSha: "0".repeat(40) });
        await settle();
        return { urns: registeredUrns(), aliases: [...sent.values()].flatMap((o) => o.aliases) };
    }
    const released = JSON.parse(readFileSync(RELEASED, "utf8")) as Record<Stage, string[]>;

    for (const stack of STAGES) {
        it(`${stack}: every URN 0.2.0 made is still made, or an alias of the resource that took its place claims it`, async () => {
            const { urns, aliases } = await urnsAndAliases(stack);
            const lost = released[stack].filter((urn) => !urns.includes(urn) && !aliases.includes(urn));
            assert.deepEqual(lost, [], `${stack}: the next pulumi up of a 0.2.0 stack would replace these`);
        });
    }

    it("the namespace-wide objects moved to the StageNamespace component: their 0.2.0 URNs are claimed only by aliases", async () => {
        const { urns, aliases } = await urnsAndAliases("qa");
        const moved = released.qa.filter((urn) => !urns.includes(urn));
        assert.deepEqual(
            moved.map((urn) => urn.split("::").pop()).sort(),
            ["app-deny-all", "app-limits", "app-ns", "app-quota"],
            "the namespace, its quota, limits and default-deny policy moved, and nothing else",
        );
        for (const urn of moved) assert.ok(aliases.includes(urn), `no alias keeps ${urn}`);
    });
});

describe("resource identity: every namespace-wide object keeps its 0.2.0 URN through an alias", () => {
    const appUrn = (stack: string, type: string, name: string) =>
        `urn:pulumi:${stack}::slipway::${ComponentType.AppDeployment}$${type}::${name}`;

    it("the image pull secret of a registry with credentials: stage-pull is aliased to app-pull", async () => {
        await pulumi.runtime.setMocks(new RecordingMocks(), "slipway", "local", false);
        const sent = recordAliases();
        const local = readStackConfig("local");
        const registry = { type: "external", server: "registry.example.com", username: "ci" };
        defineStage(parseStackConfig({ ...local, registry, registryPassword: "s3cret" }), {
            buildNumber: "1",
            gitBranch: "main",
            gitSha: "0".repeat(40),
        });
        await settle();
        assert.deepEqual(sent.get("kubernetes:core/v1:Secret::stage-pull")?.aliases, [
            appUrn("local", "kubernetes:core/v1:Secret", "app-pull"),
        ]);
    });

    it("an AppDeployment on its own (a library user's, 0.2.0 style) keeps its namespace's URNs under its own name", async () => {
        await pulumi.runtime.setMocks(new RecordingMocks(), "slipway", "dev", false);
        const sent = recordAliases();
        new AppDeployment("web", {
            appName: "web",
            stage: "dev",
            image: `registry.example.com/web@sha256:${"ab".repeat(32)}`,
            buildNumber: "1",
            gitBranch: "main",
            gitSha: "0".repeat(40),
            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
            quota: { cpu: "2", memory: "2Gi", pods: 10 },
        });
        await settle();
        for (const [type, suffix] of [
            ["kubernetes:core/v1:Namespace", "ns"],
            ["kubernetes:core/v1:ResourceQuota", "quota"],
            ["kubernetes:core/v1:LimitRange", "limits"],
            ["kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny-all"],
        ]) {
            // (The Kubernetes SDK adds aliases of its own, for a kind's older API groups.)
            assert.ok(sent.get(`${type}::web-${suffix}`)?.aliases.includes(appUrn("dev", type, `web-${suffix}`)), `${type} web-${suffix}`);
        }
    });
});

describe("resource identity: an aliased rename keeps every URN", () => {
    const stack = "dev";
    const config = parseStackConfig(readStackConfig(stack));
    const registry = config.registry?.type === "ecr" ? config.registry : assert.fail("dev's registry is ECR");

    /** Registers dev's Registry under a new name, and returns each resource's URN and the alias URNs it sent. */
    async function renamedRegistry(opts: pulumi.ComponentResourceOptions): Promise<{ urns: string[]; aliases: string[] }> {
        await pulumi.runtime.setMocks(new RecordingMocks(), "slipway", stack, false);
        const sent = recordAliases();
        const renamed = new Registry(
            "image-registry",
            {
                type: "ecr",
                lifecycle: registry.lifecycle,
                forceDelete: registry.forceDelete,
                appRepository: config.app.name,
                buildRepository: registry.buildRepository,
            },
            opts,
        );
        await settle();
        // The component's own aliases (it has no parent, so the SDK keeps them on the resource, not the request).
        const own = await Promise.all(((renamed as unknown as { __aliases: pulumi.Output<string>[] }).__aliases ?? []).map(valueOfAlias));
        return { urns: registeredUrns(), aliases: [...own, ...[...sent.values()].flatMap((o) => o.aliases)] };
    }

    const valueOfAlias = (alias: pulumi.Output<string>) => new Promise<string>((resolve) => alias.apply(resolve));
    const registrySubtree = () => readSnapshot()[stack].filter((urn) => urn.split("::")[2].startsWith(ComponentType.Registry));

    it("without an alias, renaming the Registry would replace it and every repository under it", async () => {
        const before = registrySubtree();
        assert.ok(before.length >= 5, before.join("\n"));
        const { urns, aliases } = await renamedRegistry({});
        for (const urn of before) {
            assert.ok(!urns.includes(urn) && !aliases.includes(urn), `${urn} would survive a plain rename`);
        }
    });

    it("with aliases: [{ name: <old name> }], every old URN of the Registry and its children is claimed by an alias", async () => {
        const { urns, aliases } = await renamedRegistry({ aliases: [{ name: "registry" }] });
        for (const urn of registrySubtree()) {
            assert.ok(!urns.includes(urn), `${urn} is the new URN too`);
            assert.ok(aliases.includes(urn), `no alias keeps ${urn}`);
        }
    });
});
