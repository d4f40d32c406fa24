/**
 * A stack deployed with Slipway 0.2.0 updates in place with this version, on the real engine (issue 15: "existing
 * one-app stacks keep working unchanged: their URNs stay"). 0.3.0 moved the namespace, its quota, limit range and
 * default-deny policy from the first app's AppDeployment into the stage's StageNamespace, with aliases to their old
 * URNs. Here 0.2.0's own program (the commit below, from this repository's history) deploys a stack, and this
 * version's program previews and updates the same stack: the engine must match every moved resource to its alias,
 * so nothing is created, deleted or replaced. The stack renders YAML (no cluster, no image build): what is tested is
 * the engine's identity of the resources.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { plannedChanges } from "./support/shared";
import { ok, run, Workspace, type Ran } from "./support/workspace";

const REPO = path.resolve(__dirname, "..", "..");
/** The last commit of the 0.2.0 layout (package.json 0.2.0; test/snapshots/urns-0.2.0.json holds its URNs). */
const RELEASE_0_2_0 = "6a237dcf8d0b760befe13948014b1645c4c9bb85";
const STACK = "e2e-upgrade";

describe("issue 15: a stack deployed with 0.2.0 updates in place, replacing nothing", function () {
    const root = mkdtempSync(path.join(tmpdir(), "slipway-e2e-upgrade-"));
    const released = path.join(root, "0.2.0");
    const rendered = path.join(root, "rendered");
    const now = new Workspace("upgrade");
    // Both programs work on one stack in one backend.
    const backend = `file://${path.join(root, "backend")}`;
    const inRelease = (args: string[]): Promise<Ran> =>
        run("pulumi", args, { cwd: released, env: { ...now.env, PULUMI_BACKEND_URL: backend }, timeoutSeconds: 600 });
    const inNow = (args: string[]) => now.pulumi(args, { env: { PULUMI_BACKEND_URL: backend }, timeoutSeconds: 600 });

    before(async () => {
        mkdirSync(path.join(root, "backend"));
        mkdirSync(released);
        // 0.2.0's tree from this repository's history: its program, stack files and components.
        const archive = execFileSync("git", ["archive", "--format=tar", RELEASE_0_2_0], { cwd: REPO, maxBuffer: 256 * 1024 * 1024 });
        execFileSync("tar", ["-x", "-C", released], { input: archive });
        symlinkSync(path.join(REPO, "node_modules"), path.join(released, "node_modules"));
        // qa as 0.2.0 ships it, rendering YAML instead of applying it.
        const qa = parseYaml(readFileSync(path.join(released, "Pulumi.qa.yaml"), "utf8")) as { config: Record<string, unknown> };
        const config = { ...qa.config, "slipway:kubernetes": { renderYamlTo: rendered } };
        writeFileSync(path.join(released, `Pulumi.${STACK}.yaml`), toYaml({ config }));
        ok(await inRelease(["stack", "init", STACK, "--secrets-provider", "passphrase"]), "stack init with 0.2.0");
        // The same stack file (with the salt stack init wrote) for this version's program.
        writeFileSync(path.join(now.dir, `Pulumi.${STACK}.yaml`), readFileSync(path.join(released, `Pulumi.${STACK}.yaml`)));
    });

    after(() => {
        now.dispose();
        rmSync(root, { recursive: true, force: true });
    });

    it("0.2.0 deploys the stack: its namespace is a child of the first app's AppDeployment", async () => {
        ok(await inRelease(["up", "--stack", STACK, "--yes", "--skip-preview"]), "up with 0.2.0");
        const urns = JSON.parse(ok(await inRelease(["stack", "export", "--stack", STACK]), "export").stdout).deployment.resources.map(
            (r: { urn: string }) => r.urn,
        ) as string[];
        assert.ok(
            urns.includes(`urn:pulumi:${STACK}::slipway::slipway:app:AppDeployment$kubernetes:core/v1:Namespace::app-ns`),
            urns.join("\n"),
        );
    });

    it("this version's preview of that stack creates, deletes and replaces nothing but the new StageNamespace component", async () => {
        const preview = ok(await inNow(["preview", "--stack", STACK, "--json"]), "preview with this version");
        assert.deepEqual(plannedChanges(preview.stdout), ["create slipway:stage:StageNamespace::stage"]);
    });

    it("its update moves the namespace, quota, limits and default-deny policy under the StageNamespace, keeping each object", async () => {
        const before = JSON.parse(ok(await inNow(["stack", "export", "--stack", STACK]), "export before").stdout).deployment.resources as {
            urn: string;
            id?: string;
        }[];
        ok(await inNow(["up", "--stack", STACK, "--yes", "--skip-preview"]), "up with this version");
        const [update] = JSON.parse(ok(await inNow(["stack", "history", "--stack", STACK, "--json"]), "history").stdout) as {
            resourceChanges?: Record<string, number>;
        }[];
        const changes = update?.resourceChanges ?? {};
        assert.deepEqual(
            Object.entries(changes).filter(([op]) => op !== "same"),
            [["create", 1]],
            `the update's changes: ${JSON.stringify(changes)} (only the StageNamespace component is new)`,
        );
        const after = JSON.parse(ok(await inNow(["stack", "export", "--stack", STACK]), "export after").stdout).deployment.resources as {
            urn: string;
            id?: string;
        }[];
        const idOf = (resources: { urn: string; id?: string }[], urn: string) => resources.find((r) => r.urn === urn)?.id;
        for (const [type, name] of [
            ["kubernetes:core/v1:Namespace", "ns"],
            ["kubernetes:core/v1:ResourceQuota", "quota"],
            ["kubernetes:core/v1:LimitRange", "limits"],
            ["kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny-all"],
        ]) {
            const old = `urn:pulumi:${STACK}::slipway::slipway:app:AppDeployment$${type}::app-${name}`;
            const moved = `urn:pulumi:${STACK}::slipway::slipway:stage:StageNamespace$${type}::stage-${name}`;
            assert.ok(idOf(before, old), `0.2.0 recorded ${old}`);
            assert.equal(idOf(after, old), undefined, `${old} is gone from state`);
            assert.equal(idOf(after, moved), idOf(before, old), `${moved} is the same object`);
        }
    });
});
