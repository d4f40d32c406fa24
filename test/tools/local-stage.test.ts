/**
 * The tools' side of the local stage's setup (tools/local-stage.ts): reading what scripts/local-env.sh prints.
 * The script itself runs for real in the e2e docs suite, from a fresh shell.
 */
import { strict as assert } from "node:assert";
import { isLocalStack, localEnvScript, parseEnv0, projectDir } from "../../tools/local-stage";

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

    it("works on the nearest project with a Pulumi.yaml above the working directory, or the one SLIPWAY_WORK_DIR names", () => {
        const files = new Set(["/home/me/shop/Pulumi.yaml", "/home/me/shop/services/api/Dockerfile"]);
        const exists = (f: string) => files.has(f);
        assert.equal(projectDir("/home/me/shop/services/api", {}, exists), "/home/me/shop");
        assert.equal(projectDir("/home/me/shop", {}, exists), "/home/me/shop");
        assert.equal(projectDir("/tmp/elsewhere", {}, exists), "/tmp/elsewhere", "no project above: the working directory");
        assert.equal(projectDir("/home/me/shop/services", { SLIPWAY_WORK_DIR: "../other" }, exists), "/home/me/shop/other");
    });

    it("finds scripts/local-env.sh beside the tools, in this repository and in the installed package", () => {
        const exists = (f: string) => f === "/repo/scripts/local-env.sh" || f === "/app/node_modules/slipway/scripts/local-env.sh";
        assert.equal(localEnvScript("/repo/tools", exists), "/repo/scripts/local-env.sh");
        assert.equal(localEnvScript("/app/node_modules/slipway/dist/tools", exists), "/app/node_modules/slipway/scripts/local-env.sh");
        assert.throws(() => localEnvScript("/nowhere/tools", exists), /scripts\/local-env\.sh not found above \/nowhere\/tools/);
    });
});
