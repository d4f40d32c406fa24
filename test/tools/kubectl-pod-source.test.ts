import * as assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { KubectlPodSource } from "../../tools/rollout-watch";

/** A kubectl that records its argv (one JSON line per call) and answers as the API server would. */
function fakeKubectl(dir: string): { command: string; calls: () => string[][]; envKubeconfigs: () => (string | null)[] } {
    const log = path.join(dir, "calls.jsonl");
    const command = path.join(dir, "kubectl");
    writeFileSync(
        command,
        `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
const kc = args.indexOf("--kubeconfig");
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, kubeconfig: kc < 0 ? null : fs.readFileSync(args[kc + 1], "utf8"), env: process.env.KUBECONFIG ?? null }) + "\\n");
if (args.includes("logs")) {
  if (args.includes("--previous") && process.env.FAKE_PREVIOUS_GONE) { process.stdout.write("unable to retrieve container logs for containerd://248fc8d1\\n"); process.exit(0); }
  process.stdout.write(args.includes("--previous") ? "invalid configuration\\n" : "invalid configuration (the run after)\\n"); process.exit(0);
}
if (args.includes("deployments")) { process.stdout.write(JSON.stringify({ items: [{ kind: "Deployment", metadata: { name: "hello", uid: "u" } }] })); process.exit(0); }
process.stdout.write(JSON.stringify({ items: [
  { kind: "ReplicaSet", metadata: { name: "hello-abc" } },
  { kind: "Pod", metadata: { name: "hello-abc-1" } },
] }));
`,
    );
    chmodSync(command, 0o755);
    return {
        command,
        envKubeconfigs: () =>
            readFileSync(log, "utf8")
                .trim()
                .split("\n")
                .map((l) => (JSON.parse(l) as { env: string | null }).env),
        calls: () =>
            readFileSync(log, "utf8")
                .trim()
                .split("\n")
                .map((l) => {
                    const { args, kubeconfig } = JSON.parse(l) as { args: string[]; kubeconfig: string | null };
                    return kubeconfig === null ? args : [...args, `<file: ${kubeconfig}>`];
                }),
    };
}

describe("tools/rollout-watch: KubectlPodSource", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "slipway-kubectl-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the Deployment by name and its ReplicaSets and pods by selector, in the provider's context and namespace", async () => {
        const kubectl = fakeKubectl(dir);
        const source = new KubectlPodSource(process.env, kubectl.command);
        const read = await source.read({
            deployment: "hello",
            namespace: "hello-local",
            selector: { "app.kubernetes.io/name": "hello", tier: "web" },
            context: "slipway-dev",
        });
        assert.equal(read.deployment?.metadata.name, "hello");
        assert.deepEqual(
            read.replicaSets.map((r) => r.metadata.name),
            ["hello-abc"],
        );
        assert.deepEqual(
            read.pods.map((p) => p.metadata.name),
            ["hello-abc-1"],
        );
        const scope = ["--request-timeout=10s", "--context", "slipway-dev", "-n", "hello-local"];
        assert.deepEqual(kubectl.calls().sort(), [
            [...scope, "get", "deployments", "-o", "json", "--field-selector", "metadata.name=hello"],
            [...scope, "get", "replicasets,pods", "-o", "json", "-l", "app.kubernetes.io/name=hello,tier=web"],
        ]);
    });

    it("logs: the failed container's last lines, of its previous run when it restarted", async () => {
        const kubectl = fakeKubectl(dir);
        const source = new KubectlPodSource(process.env, kubectl.command);
        const query = { deployment: "hello", selector: { app: "hello" } };
        const failure = { pod: "hello-abc-1", container: "hello", reason: "CrashLoopBackOff", detail: "", restarted: true };
        assert.equal(await source.logs(query, failure, 20), "invalid configuration\n");
        await source.logs(query, { ...failure, restarted: false }, 5);
        // No namespace named: kubectl's context decides (no -n).
        assert.deepEqual(kubectl.calls(), [
            ["--request-timeout=10s", "logs", "hello-abc-1", "-c", "hello", "--tail", "20", "--previous"],
            ["--request-timeout=10s", "logs", "hello-abc-1", "-c", "hello", "--tail", "5"],
        ]);
    });

    it("logs: the previous run's log gone (the kubelet removed it with its container), the current run's", async () => {
        const kubectl = fakeKubectl(dir);
        const source = new KubectlPodSource({ ...process.env, FAKE_PREVIOUS_GONE: "1" }, kubectl.command);
        const failure = { pod: "hello-abc-1", container: "hello", reason: "exited before ready", detail: "", restarted: true };
        assert.equal(
            await source.logs({ deployment: "hello", selector: { app: "hello" } }, failure, 20),
            "invalid configuration (the run after)\n",
        );
        assert.deepEqual(
            kubectl.calls().map((c) => c.includes("--previous")),
            [true, false],
        );
    });

    it("a kubeconfig given as content goes to a file of mode 0600, removed on dispose; paths go to KUBECONFIG", async () => {
        const kubectl = fakeKubectl(dir);
        const source = new KubectlPodSource(process.env, kubectl.command);
        const content = "apiVersion: v1\nkind: Config\nclusters: []\n";
        await source.read({ deployment: "hello", selector: { app: "hello" }, kubeconfig: content });
        const [call] = kubectl.calls();
        const file = call[call.indexOf("--kubeconfig") + 1];
        assert.equal(call.at(-1), `<file: ${content}>`);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        source.dispose();
        assert.equal(existsSync(file), false);

        // Paths (a list, as KUBECONFIG takes them, with ~ as the provider expands it) go to kubectl's environment.
        await source.logs(
            { deployment: "hello", selector: { app: "hello" }, kubeconfig: `${dir}/a:~/.kube/config` },
            { pod: "p", container: "c", reason: "CrashLoopBackOff", detail: "", restarted: false },
            1,
        );
        assert.equal(kubectl.calls()[2].includes("--kubeconfig"), false);
        assert.equal(kubectl.envKubeconfigs()[2], `${dir}/a:${path.join(homedir(), ".kube/config")}`);
    });

    it("a failing kubectl rejects with its stderr", async () => {
        const source = new KubectlPodSource(process.env, path.join(dir, "no-such-kubectl"));
        await assert.rejects(source.read({ deployment: "hello", selector: { app: "hello" } }), /^Error: kubectl get deployments .*ENOENT/);
    });
});
