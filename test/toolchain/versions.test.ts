import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..");

/** toolchain/versions.env as a map: the one place the built toolchain's versions live. */
export function pinnedVersions(): Record<string, string> {
    const entries = readFileSync(path.join(REPO, "toolchain", "versions.env"), "utf8")
        .split("\n")
        .filter((line) => /^[A-Z0-9_]+=/.test(line))
        .map((line) => line.split("=", 2) as [string, string]);
    return Object.fromEntries(entries);
}

describe("toolchain/versions.env", () => {
    const versions = pinnedVersions();
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { dependencies: Record<string, string> };

    it("pins the CLI at the @pulumi/pulumi version the program uses", () => {
        assert.equal(versions.PULUMI_VERSION, pkg.dependencies["@pulumi/pulumi"]);
    });

    it("pins the docker-build provider at the @pulumi/docker-build SDK version", () => {
        assert.equal(versions.PULUMI_DOCKER_BUILD_VERSION, pkg.dependencies["@pulumi/docker-build"]);
    });

    it("provides the kubernetes provider at the @pulumi/kubernetes SDK version (the one the engine asks for)", () => {
        assert.equal(versions.PULUMI_KUBERNETES_SDK_VERSION, pkg.dependencies["@pulumi/kubernetes"]);
    });

    it("holds only exact versions (no ranges, no 'latest')", () => {
        for (const [key, value] of Object.entries(versions)) {
            assert.match(value, /^v?[0-9]+\.[0-9]+\.[0-9]+([-+.][0-9A-Za-z.+-]+)?$/, `${key}=${value}`);
        }
    });
});
