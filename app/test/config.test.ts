import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "slipway-config-"));
function file(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
}

describe("loadConfig (environment)", () => {
    it("applies the contract's defaults: ports 8080 and 9464, stage local", () => {
        const config = loadConfig({});
        assert.equal(config.PORT, 8080);
        assert.equal(config.METRICS_PORT, 9464);
        assert.equal(config.STAGE, "local");
        assert.equal(config.DRAIN_DELAY_MS, 5000);
        assert.equal(config.file.message, "Hello from Slipway");
    });

    it("coerces numbers and keeps build metadata", () => {
        const config = loadConfig({ PORT: "3000", DRAIN_DELAY_MS: "250", GIT_SHA: "abc1234", STAGE: "prod" });
        assert.equal(config.PORT, 3000);
        assert.equal(config.DRAIN_DELAY_MS, 250);
        assert.equal(config.GIT_SHA, "abc1234");
        assert.equal(config.STAGE, "prod");
    });

    it("reads LOG_LEVEL, info by default, and names it when it is not a level", () => {
        assert.equal(loadConfig({}).LOG_LEVEL, "info");
        assert.equal(loadConfig({ LOG_LEVEL: "warn" }).LOG_LEVEL, "warn");
        assert.throws(() => loadConfig({ LOG_LEVEL: "debug" }), /LOG_LEVEL: /);
    });

    it("treats an empty variable as unset", () => {
        assert.equal(loadConfig({ PORT: "", SERVICE_NAME: "" }).PORT, 8080);
    });

    it("rejects a bad port with a message naming PORT", () => {
        assert.throws(
            () => loadConfig({ PORT: "http" }),
            (err: unknown) => {
                assert.ok(err instanceof ConfigError);
                assert.match(err.message, /^invalid configuration:\n {2}PORT: /);
                return true;
            },
        );
    });

    it("names every bad variable at once", () => {
        assert.throws(
            () => loadConfig({ METRICS_PORT: "70000", STAGE: "staging", DRAIN_DELAY_MS: "-1" }),
            (err: Error) => {
                for (const name of ["METRICS_PORT", "STAGE", "DRAIN_DELAY_MS"]) assert.match(err.message, new RegExp(`\\b${name}: `));
                assert.equal(err.message.split("\n").length, 4);
                return true;
            },
        );
    });
});

describe("loadConfig (CONFIG_FILE)", () => {
    it("reads JSON", () => {
        const path = file("app.json", JSON.stringify({ message: "from json", features: { beta: true } }));
        const config = loadConfig({ CONFIG_FILE: path });
        assert.equal(config.file.message, "from json");
        assert.deepEqual(config.file.features, { beta: true });
    });

    it("reads YAML (.yaml and .yml)", () => {
        for (const name of ["app.yaml", "app.yml"]) {
            const path = file(name, "message: from yaml\nresponseDelayMs: 25\nfeatures:\n  beta: false\n");
            const config = loadConfig({ CONFIG_FILE: path });
            assert.equal(config.file.message, "from yaml");
            assert.equal(config.file.responseDelayMs, 25);
            assert.deepEqual(config.file.features, { beta: false });
        }
    });

    it("treats an empty file as all defaults", () => {
        assert.equal(loadConfig({ CONFIG_FILE: file("empty.yaml", "") }).file.message, "Hello from Slipway");
    });

    it("rejects unknown keys, naming the key and the file", () => {
        const path = file("typo.yaml", "mesage: hi\n");
        assert.throws(
            () => loadConfig({ CONFIG_FILE: path }),
            (err: Error) => {
                assert.ok(err instanceof ConfigError);
                assert.ok(err.message.includes(`CONFIG_FILE (${path})`));
                assert.match(err.message, /mesage/);
                return true;
            },
        );
    });

    it("rejects a wrongly typed value", () => {
        const path = file("types.json", JSON.stringify({ features: { beta: "yes" } }));
        assert.throws(() => loadConfig({ CONFIG_FILE: path }), /features\.beta: /);
    });

    it("rejects a missing file and malformed JSON, naming CONFIG_FILE", () => {
        assert.throws(() => loadConfig({ CONFIG_FILE: join(dir, "nope.yaml") }), /CONFIG_FILE .*ENOENT/);
        assert.throws(() => loadConfig({ CONFIG_FILE: file("bad.json", "{ nope") }), /CONFIG_FILE \(.*bad\.json\)/);
    });
});
