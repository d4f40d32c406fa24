/**
 * Which cluster `npm run up:local` deploys to (scripts/cluster.sh up): never a context that is not local unless it is
 * named with --context. The kubeconfig below names a remote cluster at a documentation address (TEST-NET-3); kubectl
 * only reads it, nothing connects to it.
 */
import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO, run } from "./support/workspace";

const REMOTE = `apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://203.0.113.10:6443"}}]
users: [{name: prod, user: {token: not-a-token}}]
contexts: [{name: prod-eks, context: {cluster: prod, user: prod}}]
current-context: prod-eks
`;

describe("the cluster up:local chooses", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "slipway-context-"));
    const kubeconfig = path.join(dir, "config");
    writeFileSync(kubeconfig, REMOTE);
    after(() => rmSync(dir, { recursive: true, force: true }));
    const clusterUp = (...args: string[]) =>
        run("bash", [path.join(REPO, "scripts", "cluster.sh"), "up", ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });

    it("is never the current context when that is not a local cluster: Slipway's node instead", async () => {
        const up = await clusterUp();
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, /^export SLIPWAY_KUBE_CONTEXT=slipway$/m);
        assert.match(up.stdout, /^export KUBECONFIG=\/.*\/node\/admin\.kubeconfig$/m);
        assert.ok(!up.stdout.includes("prod-eks"));
    });

    it("is that context when named with --context, and an unknown name is refused", async () => {
        const named = await clusterUp("--context", "prod-eks");
        assert.equal(named.code, 0, named.stderr);
        assert.equal(named.stdout, "export SLIPWAY_KUBE_CONTEXT=prod-eks\n");
        const unknown = await clusterUp("--context", "prod-typo");
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no kube context named prod-typo/);
    });
});
