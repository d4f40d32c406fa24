/**
 * Which cluster `npm run up:local` deploys to (scripts/cluster.sh up): never a context that is not local unless it is
 * named with --context. The kubeconfig below names a remote cluster at a documentation address (TEST-NET-3); kubectl
 * only reads it, nothing connects to it.
 *
 * While Slipway's node runs, `up` picks it before it even reads the current context, so a check made in that state
 * alone says nothing about the current context. The first two checks therefore run `up` as on a machine where the
 * node is not running (an empty SLIPWAY_STATE_DIR for that one command): there the current context is what `up`
 * weighs, and a local-looking one is taken, which shows that a remote one not being taken is a choice.
 */
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { kubectlOk } from "./support/machine";
import { fromEnv, REPO, run } from "./support/workspace";

const REMOTE = `apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://203.0.113.10:6443"}}]
users: [{name: prod, user: {token: not-a-token}}]
contexts: [{name: prod-eks, context: {cluster: prod, user: prod}}]
current-context: prod-eks
`;

/**
 * The node's own admin kubeconfig under the name a kind cluster would have: a local-looking current context that
 * really is a cluster (Slipway's node), so choosing it is harmless and can be checked by using it.
 */
function kindLookingKubeconfig(): string {
    const admin = parseYaml(readFileSync(fromEnv("KUBECONFIG"), "utf8")) as {
        clusters: { name: string; cluster: unknown }[];
        users: { name: string; user: unknown }[];
        contexts: { name: string; context: { cluster: string; user: string } }[];
        "current-context": string;
    };
    const current = admin.contexts.find((c) => c.name === admin["current-context"])!;
    return toYaml({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "kind-slipway", cluster: admin.clusters.find((c) => c.name === current.context.cluster)!.cluster }],
        users: [{ name: "kind-slipway", user: admin.users.find((u) => u.name === current.context.user)!.user }],
        contexts: [{ name: "kind-slipway", context: { cluster: "kind-slipway", user: "kind-slipway" } }],
        "current-context": "kind-slipway",
    });
}

describe("the cluster up:local chooses", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "slipway-context-"));
    const remote = path.join(dir, "remote");
    const kind = path.join(dir, "kind");
    /** A state folder with no node in it: `up` sees a machine where Slipway's node is not running. */
    const noNode = path.join(dir, "state");
    mkdirSync(noNode);
    writeFileSync(remote, REMOTE);
    before(() => writeFileSync(kind, kindLookingKubeconfig()));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const clusterUp = (kubeconfig: string, env: NodeJS.ProcessEnv, ...args: string[]) =>
        run("bash", [path.join(REPO, "scripts", "cluster.sh"), "up", ...args], { env: { ...process.env, ...env, KUBECONFIG: kubeconfig } });

    it("without Slipway's node running, is the current context when that is a local cluster (kind-slipway)", async () => {
        const up = await clusterUp(kind, { SLIPWAY_STATE_DIR: noNode });
        assert.equal(up.code, 0, up.stderr);
        assert.equal(up.stdout, "export SLIPWAY_KUBE_CONTEXT=kind-slipway\n");
        assert.match(up.stderr, /using the current kube context kind-slipway \(a local cluster\)/);
        // The chosen context is a cluster that answers: the node, under its kind-looking name.
        assert.equal((await kubectlOk(["--kubeconfig", kind, "get", "node", "-o", "name"])).trim(), "node/slipway");
    });

    it("without Slipway's node running, is never the current context when that is not local: it goes for its own node", async () => {
        const up = await clusterUp(remote, { SLIPWAY_STATE_DIR: noNode });
        assert.ok(!up.stdout.includes("prod-eks"), up.stdout);
        assert.match(up.stderr, /the current kube context, prod-eks, is not a local cluster: not using it/);
        // It went on to start Slipway's own node, and stopped there because one already runs on this host (the
        // suites' node, under the real state folder): proof it took that branch, with nothing started or changed.
        assert.equal(up.code, 1, up.stderr);
        assert.match(up.stderr, /iptables already has kube-proxy's chains/);
        assert.equal(up.stdout, "");
    });

    it("with Slipway's node running, is that node whatever the current context", async () => {
        const up = await clusterUp(remote, {});
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, /^export SLIPWAY_KUBE_CONTEXT=slipway$/m);
        assert.match(up.stdout, /^export KUBECONFIG=\/.*\/node\/admin\.kubeconfig$/m);
        assert.ok(!up.stdout.includes("prod-eks"));
        const local = await clusterUp(kind, {});
        assert.equal(local.code, 0, local.stderr);
        assert.match(local.stdout, /^export SLIPWAY_KUBE_CONTEXT=slipway$/m);
    });

    it("is that context when named with --context, and an unknown name is refused", async () => {
        const named = await clusterUp(remote, {}, "--context", "prod-eks");
        assert.equal(named.code, 0, named.stderr);
        assert.equal(named.stdout, "export SLIPWAY_KUBE_CONTEXT=prod-eks\n");
        const unknown = await clusterUp(remote, {}, "--context", "prod-typo");
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no kube context named prod-typo/);
    });
});
