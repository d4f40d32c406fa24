/**
 * The contracts (contracts/) hold each shape that crosses the program, the tools and CI once. These tests check
 * that both sides of each seam really use them: a pin the tools write is a pin the program accepts, and the tags
 * rollback looks up are tags AppImage pushed.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ComponentType, IMAGE_CONFIG_KEY, IMAGE_LABELS, metadataFromLabels, PINNED_STAGES, STACK_OUTPUTS, STAGES } from "../contracts";
import { parseStackConfig } from "../stacks/config";
import { deployedImage } from "../tools/history";
import { pinnedImageConfig } from "../tools/pin";
import { promote } from "../tools/promote";
import { rollback } from "../tools/rollback";
import { evaluateStackFull, readStackConfig, REPO_ROOT, single, TEST_BUILD } from "./support/stacks";
import { digest, fakeContext, FakeRegistry, FakeStageStack, outputsFor, REPO, startedAt, update } from "./tools/fake-stage-stack";

/** The stack's config with `slipway:image` replaced by what the tools wrote. */
function withImage(stack: (typeof STAGES)[number], written: FakeStageStack): Record<string, unknown> {
    const image = written.object(IMAGE_CONFIG_KEY);
    assert.ok(image, `the tool wrote ${IMAGE_CONFIG_KEY}`);
    return { ...readStackConfig(stack), image };
}

describe("contracts: both sides of each seam", () => {
    it("image labels: AppImage and app/Dockerfile set the build metadata under the names rollback reads back", async () => {
        const { resources } = await evaluateStackFull("dev");
        const image = resources.find((r) => r.type === "docker-build:index:Image" && r.name === "app-image")!;
        assert.deepEqual(metadataFromLabels(image.inputs.labels), TEST_BUILD);
        const dockerfile = readFileSync(path.join(REPO_ROOT, "app", "Dockerfile"), "utf8");
        for (const label of Object.values(IMAGE_LABELS)) {
            assert.match(dockerfile, new RegExp(`${label.replace(/\./g, "\\.")}="\\$\\{[A-Z_]+\\}"`), `app/Dockerfile labels ${label}`);
        }
    });

    describe("the pinned image", () => {
        for (const stage of PINNED_STAGES) {
            it(`a pin promote writes into ${stage} passes the program's config schema unchanged`, async () => {
                const from = new FakeStageStack("source", {
                    outputs: outputsFor(digest("a"), { buildNumber: "1042", gitBranch: "main" }),
                    history: [update({ version: 3, pin: { digest: digest("a") } })],
                });
                const target = new FakeStageStack(stage, { config: { [IMAGE_CONFIG_KEY]: readStackConfig(stage).image } });
                await promote(fakeContext([from, target]).ctx, { from: "source", to: stage, yes: false });
                const config = parseStackConfig(withImage(stage, target));
                assert.deepEqual(config.image, target.object(IMAGE_CONFIG_KEY));
                assert.equal(config.image.source === "pinned" && config.image.ref, `${REPO}@${digest("a")}`);
            });
        }

        it("a pin rollback writes into a building stage (dev) passes the schema: no build-only key survives", async () => {
            const dev = new FakeStageStack("dev", {
                config: { [IMAGE_CONFIG_KEY]: readStackConfig("dev").image },
                outputs: outputsFor(digest("e")),
                history: [
                    update({ version: 2, stage: "dev", build: { gitSha: "2".repeat(40), buildNumber: "90" } }),
                    update({ version: 1, stage: "dev", build: { gitSha: "1".repeat(40) } }),
                ],
                // Update 1 is found by the digest its own state recorded (it has no CI build number).
                stateOutputs: { [startedAt(1)]: outputsFor(digest("1")) },
            });
            await rollback(fakeContext([dev], new FakeRegistry()).ctx, { stack: "dev", dryRun: false, registryCheck: true });
            const config = parseStackConfig(withImage("dev", dev));
            assert.deepEqual(config.image, {
                source: "pinned",
                ref: `${REPO}@${digest("1")}`,
                buildNumber: "unknown",
                gitBranch: "main",
                gitSha: "1".repeat(40),
            });
        });

        it("the tools refuse to build a pin the program would refuse", () => {
            assert.throws(() => pinnedImageConfig({ ref: `${REPO}:latest` }), /pinned by digest/);
        });
    });

    describe("image tags", () => {
        it("the tag rollback resolves for a dev update is the unique build tag AppImage pushed for that build", async () => {
            const { outputs } = await evaluateStackFull("dev");
            const pushed = (await new Promise<string[]>((resolve) => outputs.appImageTags.apply(resolve))).map((ref) =>
                ref.split(":").pop(),
            );
            // What the Pulumi CLI records for the update that ran this build (CI sets both from the same run).
            const recorded = update({
                version: 7,
                stage: "dev",
                build: { gitSha: TEST_BUILD.gitSha, buildNumber: TEST_BUILD.buildNumber },
            });
            const image = deployedImage(recorded);
            assert.equal(image.kind, "built");
            const tag = image.kind === "built" ? image.buildTag : undefined;
            assert.equal(tag, "build-1042");
            assert.ok(pushed.includes(tag), `rollback looks up ${tag}, AppImage pushed ${pushed.join(", ")}`);
        });
    });

    describe("stack outputs", () => {
        it("docs/CONTRACTS.md lists exactly the contract's outputs", () => {
            const doc = readFileSync(path.join(REPO_ROOT, "docs", "CONTRACTS.md"), "utf8");
            const section = doc.split(/^## /m).find((s) => s.startsWith("Stack outputs"));
            assert.ok(section, "docs/CONTRACTS.md has a Stack outputs section");
            const body = section.split("\n").slice(1).join("\n");
            const listed = [...body.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]).filter((name) => /^[a-z][A-Za-z]+$/.test(name));
            assert.deepEqual([...new Set(listed)].sort(), [...STACK_OUTPUTS].sort());
        });
    });

    describe("component type tokens", () => {
        it("the components register exactly the exported tokens", async () => {
            const registered = new Set<string>();
            for (const stage of ["local", "dev"] as const) {
                for (const r of (await evaluateStackFull(stage)).resources.filter((r) => r.type.startsWith("slipway:"))) {
                    registered.add(r.type);
                }
            }
            assert.deepEqual([...registered].sort(), Object.values(ComponentType).sort());
            single((await evaluateStackFull("dev")).resources, ComponentType.BuildImage);
        });
    });
});
