/**
 * The node locked down as kubeadm sets one up (an outside review found etcd open on loopback, Secrets in plain text
 * and build steps on the host's network): etcd wants TLS and a client certificate, Secrets are encrypted at rest, and
 * a build step's network reaches neither etcd nor the API server. Uses only the node, BuildKit and the offline base;
 * traffic goes to 127.0.0.1 and the node's own 10.244.0.1, nowhere else.
 */
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { kubectlOk } from "./support/machine";
import { fromEnv, ok, REPO, run, type Ran } from "./support/workspace";

const STATE = process.env.SLIPWAY_STATE_DIR ?? "/var/lib/slipway";
const PKI = path.join(STATE, "node", "pki");
const BUILDKIT = `unix://${path.join(STATE, "buildkit", "buildkitd.sock")}`;
/** What the control plane listens on: etcd on loopback, the API server on the node's bridge address. */
const ETCD = "127.0.0.1:2379";
const API_SERVER = "10.244.0.1:6443";
/** scripts/lib/build-network.sh */
const BUILD_SUBNET = "10.246.0.0/24";

/** curl to etcd's client URL, trusting etcd's CA, with a client certificate from pki/ (none: undefined). */
function curlEtcd(urlPath: string, certificate: string | undefined, options: { body?: string; tls12?: boolean } = {}): Promise<Ran> {
    const cert =
        certificate === undefined ? [] : ["--cert", path.join(PKI, `${certificate}.crt`), "--key", path.join(PKI, `${certificate}.key`)];
    const post = options.body === undefined ? [] : ["-X", "POST", "-d", options.body];
    // TLS 1.3 ends the handshake before the server checks the client's certificate (curl then reports a broken
    // pipe); TLS 1.2 shows the refusal as what it is, a handshake failure.
    const tls = options.tls12 ? ["--tls-max", "1.2"] : [];
    return run("curl", [
        "-sS",
        "--max-time",
        "5",
        "--cacert",
        path.join(PKI, "etcd-ca.crt"),
        ...tls,
        ...cert,
        ...post,
        `https://${ETCD}${urlPath}`,
    ]);
}

/** The raw value etcd holds under a key, read through its v3 JSON gateway (etcdctl is not built). */
async function etcdValue(key: string): Promise<Buffer> {
    const body = JSON.stringify({ key: Buffer.from(key).toString("base64") });
    const ran = ok(await curlEtcd("/v3/kv/range", "apiserver-etcd-client", { body }), `etcd range ${key}`);
    const kvs = (JSON.parse(ran.stdout) as { kvs?: { value: string }[] }).kvs ?? [];
    assert.equal(kvs.length, 1, `etcd holds ${key}: ${ran.stdout}`);
    return Buffer.from(kvs[0].value, "base64");
}

/** A TCP connect to each host:port with a 3 s timeout, printing "host:port connected|<error code>|timeout". */
const PROBE = `
const net = require("node:net");
const probe = (target) => new Promise((resolve) => {
    const [host, port] = target.split(":");
    const socket = net.connect({ host, port: Number(port) });
    const done = (outcome) => { clearTimeout(timer); socket.destroy(); resolve(target + " " + outcome); };
    const timer = setTimeout(() => done("timeout"), 3000);
    socket.on("connect", () => done("connected"));
    socket.on("error", (e) => done(e.code ?? e.message));
});
Promise.all(process.argv.slice(2).map(probe)).then((lines) => console.log(lines.join("\\n")));
`;

/** Outcome per target, from the probe's output. */
function outcomes(text: string): Record<string, string> {
    return Object.fromEntries(
        text
            .trim()
            .split("\n")
            .map((line) => line.split(" ") as [string, string]),
    );
}

/** Packets the node's rule that refuses the build network this host's addresses has matched so far. */
async function buildRejects(): Promise<number> {
    const rules = ok(await run("iptables", ["-v", "-S", "INPUT"]), "iptables -v -S INPUT").stdout.split("\n");
    const rule = rules.find((r) => r.includes(`-s ${BUILD_SUBNET}`) && r.includes("slipway-node") && r.includes("REJECT"));
    assert.ok(rule, `the node's INPUT rule for ${BUILD_SUBNET}:\n${rules.join("\n")}`);
    return Number(/-c (\d+) /.exec(rule)![1]);
}

/** A build of `dockerfile` with the probe beside it, with no cache; the probe's outcome file, or the failure. */
async function build(dockerfile: string, extra: string[] = []): Promise<{ ran: Ran; outcome?: string }> {
    const dir = mkdtempSync(path.join(tmpdir(), "slipway-lockdown-"));
    try {
        writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
        writeFileSync(path.join(dir, "probe.js"), PROBE);
        const ran = await run("buildctl", [
            "--addr",
            BUILDKIT,
            "build",
            "--frontend",
            "dockerfile.v0",
            "--local",
            `context=${dir}`,
            "--local",
            `dockerfile=${dir}`,
            "--opt",
            `build-arg:BASE=${fromEnv("SLIPWAY_E2E_BASE_IMAGE")}`,
            // A cached RUN step would hand back an old outcome without probing anything.
            "--no-cache",
            "--output",
            `type=local,dest=${path.join(dir, "out")}`,
            ...extra,
        ]);
        const outcome = ran.code === 0 ? readFileSync(path.join(dir, "out", "outcome.txt"), "utf8") : undefined;
        return { ran, outcome };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

const probeDockerfile = (runFlags: string) => `ARG BASE
FROM \${BASE} AS probe
COPY probe.js /probe.js
RUN ${runFlags}node /probe.js ${ETCD} ${API_SERVER} > /outcome.txt
FROM scratch
COPY --from=probe /outcome.txt /
`;

async function script(name: string, ...args: string[]): Promise<string> {
    return ok(await run("bash", [path.join(REPO, "scripts", name), ...args], { timeoutSeconds: 300 }), `${name} ${args.join(" ")}`).stdout;
}

describe("the node locked down (etcd TLS, Secrets encrypted at rest, builds off the control plane)", function () {
    it("etcd refuses a client without a certificate, or with one from the cluster CA, and answers the API server's", async () => {
        const bare = await curlEtcd("/health", undefined, { tls12: true });
        const bare13 = await curlEtcd("/health", undefined);
        // The admin's certificate is signed by the cluster CA, which etcd does not trust.
        const admin = await curlEtcd("/health", "admin", { tls12: true });
        const apiServer = await curlEtcd("/health", "apiserver-etcd-client", { tls12: true });
        const plain = await run("curl", ["-sS", "--max-time", "5", `http://${ETCD}/health`]);
        const show = (r: Ran) => `exit ${r.code}, ${(r.stdout + r.stderr).trim().slice(0, 140)}`;
        console.log(`      no certificate (TLS 1.2): ${show(bare)}`);
        console.log(`      no certificate (TLS 1.3): ${show(bare13)}`);
        console.log(`      the admin's certificate (cluster CA): ${show(admin)}`);
        console.log(`      the API server's etcd client certificate: ${show(apiServer)}`);
        console.log(`      plain HTTP: ${show(plain)}`);
        assert.equal(bare.code, 35, "curl: TLS handshake failed");
        assert.match(bare.stderr, /alert handshake failure/);
        assert.notEqual(bare13.code, 0);
        assert.notEqual(admin.code, 0);
        assert.doesNotMatch(admin.stdout, /"health"/);
        assert.equal(apiServer.code, 0, apiServer.stderr);
        assert.equal(JSON.parse(apiServer.stdout).health, "true");
        assert.notEqual(plain.code, 0, "etcd's client port must not answer plain HTTP");
        assert.doesNotMatch(plain.stdout, /"health"/);
    });

    it("stores a Secret encrypted (k8s:enc:secretbox) while a ConfigMap, read the same way, is plain text", async () => {
        const name = `lockdown-${Date.now()}`;
        const marker = `plain-text-${name}`;
        try {
            await kubectlOk(["-n", "default", "create", "secret", "generic", name, `--from-literal=value=${marker}`]);
            await kubectlOk(["-n", "default", "create", "configmap", name, `--from-literal=value=${marker}`]);
            const secret = await etcdValue(`/registry/secrets/default/${name}`);
            const configMap = await etcdValue(`/registry/configmaps/default/${name}`);
            console.log(`      the Secret in etcd: ${JSON.stringify(secret.subarray(0, 40).toString("latin1"))}… (${secret.length} bytes)`);
            console.log(
                `      the ConfigMap in etcd: ${JSON.stringify(configMap.subarray(0, 12).toString("latin1"))}… (${configMap.length} bytes)`,
            );
            assert.ok(secret.toString("latin1").startsWith("k8s:enc:secretbox:v1:key1:"), "the Secret is encrypted with the node's key");
            assert.ok(!secret.includes(marker), "the Secret's value must not be in etcd in plain text");
            // The negative control: the same reader sees plain text where there is some.
            assert.ok(configMap.includes(marker), "the ConfigMap's value is in etcd in plain text");
            // Encryption at rest is invisible to API clients.
            const value = await kubectlOk(["-n", "default", "get", "secret", name, "-o", "jsonpath={.data.value}"]);
            assert.equal(Buffer.from(value, "base64").toString(), marker);
        } finally {
            await kubectlOk(["-n", "default", "delete", "secret,configmap", name, "--ignore-not-found"]);
        }
    });

    it("a build step cannot connect to etcd or the API server; the same probe on the host connects to both", async () => {
        // The negative control first: the probe connects where the control plane listens.
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-probe-"));
        writeFileSync(path.join(dir, "probe.js"), PROBE);
        const host = ok(await run(process.execPath, [path.join(dir, "probe.js"), ETCD, API_SERVER]), "probe on the host");
        rmSync(dir, { recursive: true, force: true });
        console.log(`      from the host:\n${host.stdout.trim().replace(/^/gm, "        ")}`);
        assert.deepEqual(outcomes(host.stdout), { [ETCD]: "connected", [API_SERVER]: "connected" });

        const rejectsBefore = await buildRejects();
        const { ran, outcome } = await build(probeDockerfile(""));
        assert.equal(ran.code, 0, ran.stderr.slice(-3000));
        console.log(`      from a RUN step:\n${outcome!.trim().replace(/^/gm, "        ")}`);
        const inBuild = outcomes(outcome!);
        assert.deepEqual(Object.keys(inBuild).sort(), [API_SERVER, ETCD].sort());
        for (const [target, result] of Object.entries(inBuild)) assert.notEqual(result, "connected", `${target} from a build step`);
        // 127.0.0.1 is the step's own loopback; 10.244.0.1 is routed to this host and refused by the node's rule.
        assert.ok((await buildRejects()) > rejectsBefore, "the node's rule refused the build step's connection");
    });

    it("a Dockerfile cannot ask for the host's network (RUN --network=host is refused, even when the client allows it)", async () => {
        const { ran } = await build(probeDockerfile("--network=host "), ["--allow", "network.host"]);
        console.log(`      exit ${ran.code}: ${/[^\n]*network\.host[^\n]*/.exec(ran.stderr)?.[0] ?? ran.stderr.slice(-300)}`);
        assert.notEqual(ran.code, 0);
        assert.match(ran.stderr, /network\.host is not allowed/);
    });

    it("buildkit.sh down takes the build network away (bridge, CNI rules, namespaces), as found before its up", async () => {
        const up = await script("host-fingerprint.sh", "--build-network");
        // The negative control: the fingerprint sees the build network while it exists.
        assert.match(up, /^link: slwbuild0$/m);
        assert.match(up, /iptables nat: .*10\.246\.0\./);
        await script("buildkit.sh", "down");
        const first = await script("host-fingerprint.sh", "--build-network");
        try {
            await script("buildkit.sh", "up");
            // Use the network once, so its namespaces, addresses and NAT rules are the ones a build makes.
            const { ran } = await build(probeDockerfile(""));
            assert.equal(ran.code, 0, ran.stderr.slice(-3000));
            await script("buildkit.sh", "down");
            const second = await script("host-fingerprint.sh", "--build-network");
            console.log(`      after down:\n${first.trim().replace(/^/gm, "        ")}`);
            assert.doesNotMatch(first, /slwbuild0|10\.246\.0\.|^mount: /m, "nothing of the build network is left");
            assert.equal(second, first, "a down after an up and a build leaves the host as the first down did");
        } finally {
            await script("buildkit.sh", "up");
        }
    });
});
