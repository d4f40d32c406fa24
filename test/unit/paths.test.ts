import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT, projectPath } from "../../stacks/paths";

describe("project paths for build contexts", () => {
    it("the project root is the folder holding Pulumi.yaml and the program its main: names, so Pulumi runs the program there", () => {
        const project = parseYaml(readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as { main?: string };
        assert.ok(project.main, "Pulumi.yaml names the program (package.json's main is the library)");
        // Pulumi runs a `main:` file from the folder it is in (a folder `main:` from that folder): it must be this one.
        assert.equal(path.dirname(path.normalize(project.main)), ".");
        assert.ok(existsSync(path.join(PROJECT_ROOT, project.main)));
        assert.match(readFileSync(path.join(PROJECT_ROOT, project.main), "utf8"), /^export \* from "\.\/stacks\/index";$/m);
        const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { main: string };
        assert.notEqual(pkg.main, project.main);
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
