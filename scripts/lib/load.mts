/**
 * A small, bounded HTTP load generator for 127.0.0.1, used by test-images.sh (drain under load).
 *
 * It behaves like a Kubernetes Service in front of one pod: keep-alive connections, a steady request stream,
 * and a readiness poller that stops new requests once `/readyz` stops answering 200 — the endpoint removal a
 * real cluster does. Every request it did send must succeed; any error or non-2xx counts as a failure.
 *
 * Usage: node scripts/lib/load.mts --url http://127.0.0.1:P/ --ready-url http://127.0.0.1:P/readyz
 *          [--concurrency 8] [--max-requests 50000] [--max-seconds 30] [--poll-ms 100] [--until-not-ready]
 * Prints one JSON summary line on stdout. Exits 0 when it ran; the caller asserts on the numbers.
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
    options: {
        url: { type: "string" },
        "ready-url": { type: "string" },
        concurrency: { type: "string", default: "8" },
        "max-requests": { type: "string", default: "50000" },
        "max-seconds": { type: "string", default: "30" },
        "poll-ms": { type: "string", default: "100" },
        "until-not-ready": { type: "boolean", default: false },
    },
});

const url = new URL(values.url ?? "");
const readyUrl = values["ready-url"] ? new URL(values["ready-url"]) : undefined;
for (const u of [url, readyUrl]) {
    // Load goes to this machine only.
    if (u && !/^127\.\d+\.\d+\.\d+$|^localhost$|^\[::1\]$/.test(u.hostname)) {
        throw new Error(`refusing non-loopback target ${u.href}`);
    }
}
const concurrency = Number(values.concurrency);
const maxRequests = Number(values["max-requests"]);
const maxMs = Number(values["max-seconds"]) * 1000;
const pollMs = Number(values["poll-ms"]);

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const started = performance.now();
const latencies: number[] = [];
const errors: Record<string, number> = {};
let sent = 0;
let ok = 0;
let failed = 0;
let sending = true;
let stopReason = "max-requests";
let notReadyAt: number | undefined;

function once(target: URL, useAgent: Agent | false): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = request(target, { agent: useAgent, timeout: 10_000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
    });
}

async function worker(): Promise<void> {
    while (sending) {
        if (sent >= maxRequests) {
            stopReason = "max-requests";
            sending = false;
            break;
        }
        if (performance.now() - started > maxMs) {
            stopReason = "max-seconds";
            sending = false;
            break;
        }
        sent++;
        const t0 = performance.now();
        try {
            const status = await once(url, agent);
            if (status >= 200 && status < 300) {
                ok++;
                latencies.push(performance.now() - t0);
            } else {
                failed++;
                errors[`HTTP ${status}`] = (errors[`HTTP ${status}`] ?? 0) + 1;
            }
        } catch (err) {
            failed++;
            const key = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
            errors[key] = (errors[key] ?? 0) + 1;
        }
    }
}

async function poller(): Promise<void> {
    while (sending) {
        await new Promise((r) => setTimeout(r, pollMs));
        let status = 0;
        try {
            status = await once(readyUrl!, false);
        } catch {
            status = 0;
        }
        if (status !== 200) {
            notReadyAt = performance.now() - started;
            stopReason = "not-ready";
            sending = false;
        }
    }
}

const tasks = Array.from({ length: concurrency }, () => worker());
if (readyUrl && values["until-not-ready"]) tasks.push(poller());
await Promise.all(tasks);
agent.destroy();
const elapsedMs = performance.now() - started;
latencies.sort((a, b) => a - b);
const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : 0);
process.stdout.write(
    JSON.stringify({
        sent,
        ok,
        failed,
        errors,
        stopReason,
        notReadyAtMs: notReadyAt === undefined ? null : Math.round(notReadyAt),
        elapsedMs: Math.round(elapsedMs),
        rps: Math.round((ok / elapsedMs) * 1000),
        p50Ms: Number(pct(0.5).toFixed(2)),
        p99Ms: Number(pct(0.99).toFixed(2)),
    }) + "\n",
);
