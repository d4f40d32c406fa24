import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRegistryClient, MANIFEST_MEDIA_TYPES, parseChallenge, registryOptionsFromEnv } from "../../tools/registry";
import { digest } from "./fake-stage-stack";

/** What the server saw of one request. */
interface Seen {
    method: string;
    url: string;
    accept?: string;
    authorization?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, port: number) => void;

/** A real registry stand-in on 127.0.0.1 that records the bytes of every request it gets. */
async function registry(handler: Handler): Promise<{ host: string; seen: Seen[]; close: () => Promise<void> }> {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        seen.push({
            method: req.method ?? "",
            url: req.url ?? "",
            accept: req.headers.accept,
            authorization: req.headers.authorization,
        });
        handler(req, res, (server.address() as AddressInfo).port);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        host: `127.0.0.1:${port}`,
        seen,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

const MANIFEST_PATH = "/v2/team/slipway-app/manifests/";

describe("tools/registry (HTTP API v2 against a server on 127.0.0.1)", () => {
    let closeServer: (() => Promise<void>) | undefined;
    afterEach(async () => {
        await closeServer?.();
        closeServer = undefined;
    });

    it("resolves a tag with HEAD, sending every manifest media type, and reads Docker-Content-Digest", async () => {
        const reg = await registry((req, res) => {
            res.writeHead(req.url === `${MANIFEST_PATH}sha-0a1b2c3` ? 200 : 404, {
                "Docker-Content-Digest": digest("a"),
                "Content-Type": "application/vnd.oci.image.index.v1+json",
            });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient();
        assert.equal(await client.resolve(`${reg.host}/team/slipway-app`, "sha-0a1b2c3"), digest("a"));
        assert.deepEqual(reg.seen, [
            {
                method: "HEAD",
                url: "/v2/team/slipway-app/manifests/sha-0a1b2c3",
                accept:
                    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, " +
                    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
                authorization: undefined,
            },
        ]);
        assert.equal(MANIFEST_MEDIA_TYPES.length, 4);
    });

    it("reads an image's labels: index → the linux/amd64 manifest → its config blob", async () => {
        // What buildx pushes: an index holding the image and an attestation manifest (platform unknown/unknown).
        const index = {
            schemaVersion: 2,
            manifests: [
                { digest: digest("1"), platform: { os: "unknown", architecture: "unknown" } },
                { digest: digest("2"), platform: { os: "linux", architecture: "amd64" } },
            ],
        };
        const documents: Record<string, object> = {
            [`${MANIFEST_PATH}${digest("0")}`]: index,
            [`${MANIFEST_PATH}${digest("2")}`]: { schemaVersion: 2, config: { digest: digest("3") } },
            [`/v2/team/slipway-app/blobs/${digest("3")}`]: { config: { Labels: { "dev.slipway.build-number": "local" } } },
        };
        const reg = await registry((req, res) => {
            const body = documents[req.url ?? ""];
            res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" });
            res.end(body ? JSON.stringify(body) : "");
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient();
        assert.deepEqual(await client.labels(`${reg.host}/team/slipway-app`, digest("0")), { "dev.slipway.build-number": "local" });
        assert.deepEqual(
            reg.seen.map((r) => `${r.method} ${r.url}`),
            [`GET ${MANIFEST_PATH}${digest("0")}`, `GET ${MANIFEST_PATH}${digest("2")}`, `GET /v2/team/slipway-app/blobs/${digest("3")}`],
        );
        assert.equal(await client.labels(`${reg.host}/team/slipway-app`, digest("9")), undefined, "404: no such image");
        await assert.rejects(client.labels(`${reg.host}/team/slipway-app`, "latest"), /is not a sha256 digest/);
    });

    it("answers undefined for an unknown tag (404)", async () => {
        const reg = await registry((_req, res) => {
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end();
        });
        closeServer = reg.close;
        assert.equal(await new HttpRegistryClient().resolve(`${reg.host}/team/slipway-app`, "build-7"), undefined);
        assert.equal(reg.seen[0].url, `${MANIFEST_PATH}build-7`);
    });

    it("checks a digest exists and that the registry confirms the same digest", async () => {
        const reg = await registry((req, res) => {
            res.writeHead(200, { "Docker-Content-Digest": req.url?.endsWith(digest("b")) ? digest("b") : digest("c") });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient();
        assert.equal(await client.resolve(`${reg.host}/team/slipway-app`, digest("b")), digest("b"));
        assert.equal(reg.seen[0].url, `${MANIFEST_PATH}${digest("b")}`);
        await assert.rejects(client.resolve(`${reg.host}/team/slipway-app`, digest("d")), /registry answered sha256:c+ for/);
    });

    it("answers a Basic challenge with the username and password", async () => {
        const expected = `Basic ${Buffer.from("AWS:ecr-password").toString("base64")}`;
        const reg = await registry((req, res) => {
            if (req.headers.authorization !== expected) {
                res.writeHead(401, { "WWW-Authenticate": 'Basic realm="registry"' });
                res.end();
                return;
            }
            res.writeHead(200, { "Docker-Content-Digest": digest("e") });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient({ credentials: { username: "AWS", password: "ecr-password" } });
        assert.equal(await client.resolve(`${reg.host}/team/slipway-app`, "build-12"), digest("e"));
        assert.deepEqual(
            reg.seen.map((s) => [s.method, s.url, s.authorization]),
            [
                ["HEAD", `${MANIFEST_PATH}build-12`, undefined],
                ["HEAD", `${MANIFEST_PATH}build-12`, expected],
            ],
        );
    });

    it("trades credentials for a bearer token at the challenge's realm with its service and scope", async () => {
        const reg = await registry((req, res, port) => {
            if (req.url?.startsWith("/token")) {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ token: "tok-123" }));
                return;
            }
            if (req.headers.authorization !== "Bearer tok-123") {
                res.writeHead(401, {
                    "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="registry.test",scope="repository:team/slipway-app:pull"`,
                });
                res.end();
                return;
            }
            res.writeHead(200, { "Docker-Content-Digest": digest("f") });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient({ credentials: { username: "ci", password: "s3cret" } });
        assert.equal(await client.resolve(`${reg.host}/team/slipway-app`, "sha-1234567"), digest("f"));
        assert.deepEqual(
            reg.seen.map((s) => [s.method, s.url, s.authorization]),
            [
                ["HEAD", `${MANIFEST_PATH}sha-1234567`, undefined],
                [
                    "GET",
                    "/token?service=registry.test&scope=repository%3Ateam%2Fslipway-app%3Apull",
                    `Basic ${Buffer.from("ci:s3cret").toString("base64")}`,
                ],
                ["HEAD", `${MANIFEST_PATH}sha-1234567`, "Bearer tok-123"],
            ],
        );
    });

    it("fetches an anonymous bearer token when it has no credentials, and explains a refusal", async () => {
        const reg = await registry((req, res, port) => {
            if (req.url?.startsWith("/token")) {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ access_token: req.headers.authorization ? "wrong" : "anon" }));
                return;
            }
            const allowed = req.headers.authorization === "Bearer anon" && req.url?.includes("/public/");
            res.writeHead(allowed ? 200 : 401, {
                "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="registry.test"`,
                "Docker-Content-Digest": digest("9"),
            });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient();
        assert.equal(await client.resolve(`${reg.host}/public/app`, "build-3"), digest("9"));
        assert.equal(reg.seen[1].url, "/token?service=registry.test&scope=repository%3Apublic%2Fapp%3Apull");
        assert.equal(reg.seen[1].authorization, undefined);
        await assert.rejects(
            client.resolve(`${reg.host}/team/slipway-app`, "build-3"),
            /refused access \(401\) to team\/slipway-app: set SLIPWAY_REGISTRY_USERNAME and SLIPWAY_REGISTRY_PASSWORD/,
        );
    });

    it("sends a configured bearer token on the first request", async () => {
        const reg = await registry((_req, res) => {
            res.writeHead(200, { "Docker-Content-Digest": digest("1") });
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient(registryOptionsFromEnv({ SLIPWAY_REGISTRY_TOKEN: "abc" }));
        assert.equal(await client.resolve(`${reg.host}/team/slipway-app`, "build-1"), digest("1"));
        assert.equal(reg.seen[0].authorization, "Bearer abc");
    });

    it("fails clearly on server errors and on a missing digest header", async () => {
        const reg = await registry((req, res) => {
            res.writeHead(req.url?.endsWith("build-500") ? 500 : 200);
            res.end();
        });
        closeServer = reg.close;
        const client = new HttpRegistryClient();
        await assert.rejects(
            client.resolve(`${reg.host}/team/slipway-app`, "build-500"),
            new RegExp(`registry answered 500 Internal Server Error for HEAD http://${reg.host}${MANIFEST_PATH}build-500`),
        );
        await assert.rejects(client.resolve(`${reg.host}/team/slipway-app`, "build-2"), /sent no valid Docker-Content-Digest/);
    });

    it("refuses references that are neither tags nor digests, and repositories without a host", async () => {
        const client = new HttpRegistryClient();
        await assert.rejects(client.resolve("127.0.0.1:1/app", "bad tag"), /is neither a tag nor a sha256 digest/);
        await assert.rejects(client.resolve("team/app", "build-1"), /names no registry host/);
    });

    it("parses challenges and reads credentials from the environment", () => {
        assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"'), {
            scheme: "bearer",
            params: { realm: "https://auth.example/token", service: "reg", scope: "repository:a:pull" },
        });
        assert.deepEqual(registryOptionsFromEnv({ SLIPWAY_REGISTRY_USERNAME: "AWS", SLIPWAY_REGISTRY_PASSWORD: "p" }), {
            insecure: false,
            credentials: { username: "AWS", password: "p" },
        });
        assert.deepEqual(registryOptionsFromEnv({ SLIPWAY_REGISTRY_INSECURE: "true" }), { insecure: true });
    });
});

describe("tools/registry on ports the fetch standard blocks (node:http, not fetch)", () => {
    /** Listens on 127.0.0.1 (loopback only) on the first free port of `ports`. */
    async function listenOnBlockedPort(handler: http.RequestListener, ports: number[]): Promise<{ server: http.Server; port: number }> {
        for (const port of ports) {
            const server = http.createServer(handler);
            const ok = await new Promise<boolean>((resolve) => {
                server.once("error", () => resolve(false));
                server.listen(port, "127.0.0.1", () => resolve(true));
            });
            if (ok) {
                return { server, port };
            }
        }
        throw new Error(`none of the ports ${ports.join(", ")} is free on 127.0.0.1`);
    }

    it("reads the digest header from a registry on port 10080 (or 6666), following a same-origin redirect", async () => {
        const seen: string[] = [];
        const { server, port } = await listenOnBlockedPort(
            (req, res) => {
                seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
                if (req.url === `${MANIFEST_PATH}build-7`) {
                    res.writeHead(307, { Location: `${MANIFEST_PATH}${digest("7")}` });
                } else {
                    res.writeHead(200, { "Docker-Content-Digest": digest("7") });
                }
                res.end();
            },
            [10080, 6666],
        );
        try {
            const client = new HttpRegistryClient({ credentials: { token: "t0k" } });
            assert.equal(await client.resolve(`127.0.0.1:${port}/team/slipway-app`, "build-7"), digest("7"));
            assert.deepEqual(seen, [`HEAD ${MANIFEST_PATH}build-7 Bearer t0k`, `HEAD ${MANIFEST_PATH}${digest("7")} Bearer t0k`]);
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });

    it("drops the credentials on a redirect to another origin, as fetch does", async () => {
        const storageSeen: (string | undefined)[] = [];
        const storage = http.createServer((req, res) => {
            storageSeen.push(req.headers.authorization);
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ config: { Labels: { "dev.slipway.build-number": "7" } } }));
        });
        await new Promise<void>((resolve) => storage.listen(0, "127.0.0.1", resolve));
        const storagePort = (storage.address() as AddressInfo).port;
        const { server, port } = await listenOnBlockedPort(
            (req, res) => {
                if (req.url?.startsWith("/v2/team/slipway-app/blobs/")) {
                    res.writeHead(302, { Location: `http://127.0.0.1:${storagePort}/blob` });
                    res.end();
                    return;
                }
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ schemaVersion: 2, config: { digest: digest("3") } }));
            },
            [10080, 6666],
        );
        try {
            const client = new HttpRegistryClient({ credentials: { token: "t0k" } });
            assert.deepEqual(await client.labels(`127.0.0.1:${port}/team/slipway-app`, digest("2")), { "dev.slipway.build-number": "7" });
            assert.deepEqual(storageSeen, [undefined]);
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
            await new Promise<void>((resolve) => storage.close(() => resolve()));
        }
    });

    it("names the registry, the URL and the cause when the connection is refused", async () => {
        // Nothing listens on 127.0.0.1:6667 here; fetch would have refused the port itself with a bare "fetch failed".
        await assert.rejects(
            new HttpRegistryClient().resolve("127.0.0.1:6667/team/slipway-app", "build-1"),
            /^Error: cannot reach registry 127\.0\.0\.1:6667: HEAD http:\/\/127\.0\.0\.1:6667\/v2\/team\/slipway-app\/manifests\/build-1 failed: connect ECONNREFUSED 127\.0\.0\.1:6667$/,
        );
    });

    it("times out a registry that never answers, naming it", async () => {
        const { server, port } = await listenOnBlockedPort(() => undefined, [6668, 6669]);
        try {
            await assert.rejects(
                new HttpRegistryClient({ timeoutMs: 200 }).resolve(`127.0.0.1:${port}/team/slipway-app`, "build-1"),
                new RegExp(`^Error: cannot reach registry 127\\.0\\.0\\.1:${port}: HEAD .* failed: no answer within 200 ms$`),
            );
        } finally {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });
});
