import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lifecycle, type Phase } from "../src/lifecycle.ts";

describe("Lifecycle", () => {
    it("goes starting → ready → draining and reports each change", () => {
        const lifecycle = new Lifecycle();
        const seen: Phase[] = [];
        lifecycle.onChange((phase) => seen.push(phase));
        assert.equal(lifecycle.phase, "starting");
        assert.equal(lifecycle.ready, false);
        lifecycle.markReady();
        assert.equal(lifecycle.ready, true);
        lifecycle.markDraining();
        assert.equal(lifecycle.ready, false);
        assert.deepEqual(seen, ["ready", "draining"]);
    });

    it("never becomes ready again once draining", () => {
        const lifecycle = new Lifecycle();
        lifecycle.markDraining();
        lifecycle.markReady();
        assert.equal(lifecycle.phase, "draining");
    });
});
