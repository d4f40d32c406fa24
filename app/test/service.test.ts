import assert from "node:assert/strict";
import { createServer, Agent } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAppHandler } from "../src/app.ts";
import { Lifecycle } from "../src/lifecycle.ts";
import type { Logger } from "../src/log.ts";
import { createMetrics } from "../src/metrics.ts";
import { startService, type Service } from "../src/service.ts";
import { get, testConfig } from "./helpers.ts";

const quiet: Logger = () => {};
/** The release this build is: a test must not pin it, or every version bump would fail the build. */
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

function configFile(content: object): string {
    const path = join(mkdtempSync(join(tmpdir(), "slipway-svc-")), "app.json");
    writeFileSync(path, JSON.stringify(content));
    return path;
}

describe("service endpoints", () => {
    let svc: Service;
    before(async () => {
        const config = testConfig({ SERVICE_NAME: "orders", STAGE: "dev", BUILD_NUMBER: "42", GIT_BRANCH: "main", GIT_SHA: "0123abc" });
        svc = await startService(config, quiet);
    });
    after(async () => {
        await svc.shutdown();
    });

    it("GET / returns service, version, build metadata and stage", async () => {
        const reply = await get(svc.appPort, "/");
        assert.equal(reply.status, 200);
        assert.match(String(reply.headers["content-type"]), /^application\/json/);
        assert.deepEqual(JSON.parse(reply.body), {
            service: "orders",
            version: VERSION,
            buildNumber: "42",
            gitBranch: "main",
            gitSha: "0123abc",
            stage: "dev",
            message: "Hello from Slipway",
            features: {},
        });
    });

    it("answers the probes once listening", async () => {
        assert.equal((await get(svc.appPort, "/healthz")).status, 200);
        const ready = await get(svc.appPort, "/readyz");
        assert.equal(ready.status, 200);
        assert.deepEqual(JSON.parse(ready.body), { status: "ready" });
    });

    it("404 for unknown paths, 405 for other methods", async () => {
        assert.equal((await get(svc.appPort, "/nope")).status, 404);
        const post = await get(svc.appPort, "/", { method: "POST" });
        assert.equal(post.status, 405);
        assert.equal(post.headers["allow"], "GET, HEAD");
    });

    it("serves metrics on the metrics port only, with the histogram by route and status", async () => {
        await get(svc.appPort, "/");
        await get(svc.appPort, "/does-not-exist");
        const metrics = await get(svc.metricsPort, "/metrics");
        assert.equal(metrics.status, 200);
        assert.match(String(metrics.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
        assert.match(metrics.body, /^# TYPE http_request_duration_seconds histogram$/m);
        assert.match(metrics.body, /^http_request_duration_seconds_count\{.*route="\/",method="GET",status="200"\} [1-9]\d*$/m);
        assert.match(metrics.body, /^http_request_duration_seconds_count\{.*route="unmatched",method="GET",status="404"\} [1-9]/m);
        assert.match(metrics.body, /^process_cpu_user_seconds_total\{/m, "default process metrics");
        assert.match(metrics.body, /^app_ready\{[^}]*\} 1$/m);
        assert.equal((await get(svc.appPort, "/metrics")).status, 404, "no metrics on the app port");
        assert.equal((await get(svc.metricsPort, "/")).status, 404, "no app routes on the metrics port");
    });
});

describe("readiness while starting", () => {
    it("/readyz is 503 until the lifecycle is marked ready", async () => {
        const config = testConfig();
        const lifecycle = new Lifecycle();
        const metrics = createMetrics(lifecycle, {});
        const server = createServer(createAppHandler({ config, lifecycle, metrics, version: "t" }));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as AddressInfo).port;
        try {
            const starting = await get(port, "/readyz");
            assert.equal(starting.status, 503);
            assert.deepEqual(JSON.parse(starting.body), { status: "starting" });
            assert.equal((await get(port, "/healthz")).status, 200, "liveness does not depend on readiness");
            lifecycle.markReady();
            assert.equal((await get(port, "/readyz")).status, 200);
        } finally {
            server.close();
        }
    });
});

describe("graceful shutdown", () => {
    it("turns not-ready, waits the drain delay, finishes in-flight requests, closes idle keep-alive, stops", async () => {
        const logs: string[] = [];
        const log: Logger = (_level, msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`);
        const config = testConfig({ DRAIN_DELAY_MS: "300", CONFIG_FILE: configFile({ responseDelayMs: 400 }) });
        const svc = await startService(config, log);

        // An idle keep-alive connection: must be closed by the server, not left to time out.
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        assert.equal((await get(svc.appPort, "/healthz", { agent })).status, 200);
        const idleSocket = Object.values(agent.freeSockets).flat()[0];
        assert.ok(idleSocket, "the agent keeps the socket");
        const idleClosed = new Promise<number>((r) => idleSocket.once("close", () => r(Date.now())));

        const inFlight = get(svc.appPort, "/"); // takes 400 ms: still running when the listener closes at ~300 ms
        await new Promise((r) => setTimeout(r, 50));
        const started = Date.now();
        const done = svc.shutdown();
        assert.equal(svc.shutdown(), done, "a second signal joins the first shutdown");

        const duringDrain = await get(svc.appPort, "/readyz");
        assert.equal(duringDrain.status, 503, "not ready while draining");
        assert.equal(duringDrain.headers["connection"], "close", "clients are told to reconnect elsewhere");
        assert.equal((await get(svc.appPort, "/healthz")).status, 200, "still live and still accepting during the delay");

        const reply = await inFlight;
        assert.equal(reply.status, 200, "the in-flight request finished");
        await done;
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 290, `waited the drain delay (${elapsed} ms)`);
        assert.ok(elapsed < 2000, `stopped promptly (${elapsed} ms)`);
        assert.ok((await idleClosed) - started >= 290, "idle keep-alive connection closed after the delay");
        assert.ok(
            logs.some((l) => l.startsWith("stopped") && l.includes('"clean"')),
            logs.join("\n"),
        );
        await assert.rejects(get(svc.appPort, "/healthz"), /ECONNREFUSED/, "no longer accepting");
        await assert.rejects(get(svc.metricsPort, "/metrics"), /ECONNREFUSED/, "metrics port closed too");
        agent.destroy();
    });

    it("cuts requests still running after SHUTDOWN_TIMEOUT_MS", async () => {
        const logs: string[] = [];
        const log: Logger = (_level, msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`);
        const config = testConfig({ SHUTDOWN_TIMEOUT_MS: "100", CONFIG_FILE: configFile({ responseDelayMs: 5000 }) });
        const svc = await startService(config, log);
        const stuck = get(svc.appPort, "/");
        await new Promise((r) => setTimeout(r, 50));
        const started = Date.now();
        await svc.shutdown();
        assert.ok(Date.now() - started < 1000, "did not wait for the 5 s request");
        await assert.rejects(stuck, /socket hang up|ECONNRESET/);
        assert.ok(
            logs.some((l) => l.startsWith("stopped") && l.includes('"forced"')),
            logs.join("\n"),
        );
    });
});
