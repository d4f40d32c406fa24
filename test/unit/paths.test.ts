import { strict as assert } from "node:assert";
import * as path from "node:path";
import { PROJECT_ROOT, projectPath } from "../../stacks/paths";

describe("project paths for build contexts", () => {
    it("the project root is the folder holding Pulumi.yaml and package.json's main", () => {
        const pkg = require(path.join(PROJECT_ROOT, "package.json"));
        assert.equal(pkg.main, "stacks/index.ts");
        assert.ok(require("node:fs").existsSync(path.join(PROJECT_ROOT, "Pulumi.yaml")));
    });

    it("stays relative (and unchanged) when the program runs from the project root", () => {
        assert.equal(projectPath("app", "/repo", "/repo"), "app");
        assert.equal(projectPath("build-image", "/repo", "/repo"), "build-image");
    });

    it("still points at the project's folder from another working directory", () => {
        assert.equal(projectPath("app", "/repo/stacks", "/repo"), "../app");
        assert.equal(projectPath(".", "/repo", "/repo"), ".");
    });

    it("leaves absolute paths alone", () => {
        assert.equal(projectPath("/srv/artifacts", "/repo", "/repo"), "/srv/artifacts");
    });
});
