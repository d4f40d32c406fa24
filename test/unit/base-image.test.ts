/**
 * SLIPWAY_BASE_IMAGE (stacks/config/base-image.ts): the local loop's offline base reaches the program through the
 * environment, so the tracked Pulumi.local.yaml stays as committed; the stack file still wins.
 */
import { strict as assert } from "node:assert";
import { NODE_24_BOOKWORM_SLIM } from "../../components/defaults";
import { parseStackConfig, StackConfigError, withBaseImageFromEnv } from "../../stacks/config";
import { readStackConfig } from "../support/stacks";

const OFFLINE = `127.0.0.1:5001/slipway/node-base@sha256:${"a".repeat(64)}`;

describe("SLIPWAY_BASE_IMAGE: the local loop's base image from the environment", () => {
    it("sets both bases of the shipped local stack, which leaves them at the default", () => {
        const raw = readStackConfig("local");
        const config = parseStackConfig(withBaseImageFromEnv(raw, { SLIPWAY_BASE_IMAGE: OFFLINE }));
        assert.ok(config.image.source === "build" && config.buildImage);
        assert.equal(config.buildImage.baseImage, OFFLINE);
        assert.equal(config.image.runtimeBaseImage, OFFLINE);
        // Unset or empty: the defaults, unchanged.
        for (const env of [{}, { SLIPWAY_BASE_IMAGE: "" }]) {
            const plain = parseStackConfig(withBaseImageFromEnv(raw, env));
            assert.ok(plain.image.source === "build" && plain.buildImage);
            assert.equal(plain.buildImage.baseImage, NODE_24_BOOKWORM_SLIM);
            assert.equal(plain.image.runtimeBaseImage, NODE_24_BOOKWORM_SLIM);
        }
    });

    it("never overrides a base the stack file sets, nor touches a pinned stack", () => {
        const own = `registry.example.com/base@sha256:${"b".repeat(64)}`;
        const raw = { buildImage: { version: "1.0.0", baseImage: own }, image: { source: "build", runtimeBaseImage: own } };
        assert.deepEqual(withBaseImageFromEnv(raw, { SLIPWAY_BASE_IMAGE: OFFLINE }), raw);
        const prod = readStackConfig("prod");
        assert.deepEqual(withBaseImageFromEnv(prod, { SLIPWAY_BASE_IMAGE: OFFLINE }), prod);
    });

    it("refuses a base that is not pinned by digest, naming the variable", () => {
        assert.throws(
            () => withBaseImageFromEnv(readStackConfig("local"), { SLIPWAY_BASE_IMAGE: "node:24-bookworm-slim" }),
            (err: unknown) =>
                err instanceof StackConfigError &&
                /^SLIPWAY_BASE_IMAGE \(environment\): .*got "node:24-bookworm-slim"$/.test(err.problems[0]),
        );
    });
});
