/**
 * The tools' side of the local stage's setup (tools/local-stage.ts): reading what scripts/local-env.sh prints.
 * The script itself runs for real in the e2e docs suite, from a fresh shell.
 */
import { strict as assert } from "node:assert";
import { isLocalStack, parseEnv0 } from "../../tools/local-stage";

describe("tools/local-stage: the local stage's environment", () => {
    it("parses NUL-separated NAME=value pairs, keeping '=' and newlines inside values and empty values", () => {
        assert.deepEqual(parseEnv0("PATH=/a:/b\0PULUMI_CONFIG_PASSPHRASE=\0X=a=b\nc\0"), {
            PATH: "/a:/b",
            PULUMI_CONFIG_PASSPHRASE: "",
            X: "a=b\nc",
        });
    });

    it("refuses a pair without a name", () => {
        assert.throws(() => parseEnv0("export PATH=/a\0"), /not a NAME=value pair: "export PATH=\/a"/);
        assert.throws(() => parseEnv0("novalue\0"), /not a NAME=value pair/);
    });

    it("owns only the local stack", () => {
        assert.equal(isLocalStack("local"), true);
        for (const other of ["dev", "qa", "prod", "acme/slipway/local"]) assert.equal(isLocalStack(other), false, other);
    });
});
