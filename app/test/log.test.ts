import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { levelFilter, type Logger } from "../src/log.ts";

describe("levelFilter", () => {
    it("drops lines below the configured level and passes the rest unchanged", () => {
        const seen: unknown[][] = [];
        const sink: Logger = (level, msg, fields) => seen.push([level, msg, fields]);
        const log = levelFilter("warn", sink);
        log("info", "listening");
        log("warn", "slow", { ms: 900 });
        log("error", "failed");
        assert.deepEqual(seen, [
            ["warn", "slow", { ms: 900 }],
            ["error", "failed", undefined],
        ]);
    });
});
