/**
 * A bounded, open-loop HTTP load against 127.0.0.1 only: a fixed request rate for at most a fixed time (or until
 * stopped). By default each request is on a fresh connection, the way new clients reach a Service through its
 * NodePort; with `keepAliveClients` the requests go round-robin over that many keep-alive clients (one persistent
 * connection each, the way a proxy or a pooled client holds connections to a pod and only learns from the pod
 * itself that it is going away). Every request is recorded with its start time, latency, outcome and whether it
 * reused a connection, so a caller can cut the run into windows (steady state, during a rollout) and count failures
 * in each. A failure is any error or any non-2xx status.
 */
import { Agent, request } from "node:http";

/** One request's outcome. */
export interface Sample {
    /** Start, in ms since the load started. */
    at: number;
    /** Latency in ms (to the end of the body, or to the error). */
    ms: number;
    /** HTTP status, or 0 when it failed below HTTP. */
    status: number;
    /** Error code (ECONNRESET, ETIMEDOUT, …) when it failed below HTTP. */
    error?: string;
    /** Sent on a connection an earlier request had used (keep-alive at work). */
    reused: boolean;
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
    port: number;
    path?: string;
    /** Requests started per second. */
    rate: number;
    /** Stop by itself after this many seconds (the bound). */
    maxSeconds: number;
    /** Requests in flight at most; a request due while this many are open waits. Defaults to 64. */
    maxInFlight?: number;
    /**
     * Keep-alive clients to spread the requests over, each an `Agent({ keepAlive: true, maxSockets: 1 })`: one
     * connection each, reopened (to whichever pod the Service picks) only when the server closed it. Absent: every
     * request opens and closes its own connection.
     */
    keepAliveClients?: number;
}

/** Counts and latency percentiles of a window of samples. */
export interface LoadSummary {
    sent: number;
    failed: number;
    non2xx: number;
    errors: Record<string, number>;
    /** Requests sent on a reused connection: near `sent` for keep-alive clients, 0 for fresh connections. */
    reused: number;
    p50Ms: number;
    p99Ms: number;
}

/** A running load: `stop()` ends it and resolves with every sample, in start order. */
export interface RunningLoad {
    /** Wall-clock ms (Date.now()) when the load started: sample `at` values are relative to it. */
    readonly startedAt: number;
    stop(): Promise<Sample[]>;
}

export function startLoad(options: LoadOptions): RunningLoad {
    const samples: Sample[] = [];
    const startedAt = Date.now();
    const interval = 1000 / options.rate;
    const maxInFlight = options.maxInFlight ?? 64;
    let inFlight = 0;
    let stopped = false;
    const pending = new Set<Promise<void>>();
    const agents = Array.from({ length: options.keepAliveClients ?? 0 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    // Connections that have carried a request. Tracked here rather than read from `req.reusedSocket`, which Node
    // leaves false when a queued request is handed a socket that just freed up.
    const used = new WeakSet<object>();

    const once = (at: number, n: number) =>
        new Promise<void>((resolve) => {
            const t0 = performance.now();
            const sample: Sample = { at, ms: 0, status: 0, reused: false };
            samples.push(sample);
            const finish = (status: number, error?: string) => {
                sample.ms = performance.now() - t0;
                sample.status = status;
                if (error !== undefined) sample.error = error;
                resolve();
            };
            const req = request(
                {
                    host: "127.0.0.1",
                    port: options.port,
                    path: options.path ?? "/",
                    timeout: 10_000,
                    ...(agents.length ? { agent: agents[n % agents.length] } : { agent: false, headers: { connection: "close" } }),
                },
                (res) => {
                    res.resume();
                    res.on("end", () => finish(res.statusCode ?? 0));
                    res.on("error", (err: NodeJS.ErrnoException) => finish(0, err.code ?? err.message));
                },
            );
            req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
            req.on("error", (err: NodeJS.ErrnoException) => finish(0, err.code ?? err.message));
            // A request that fails on a reused connection is the keep-alive race a draining server must avoid: it is
            // recorded as a failure like any other, never retried.
            req.on("socket", (socket) => {
                sample.reused = used.has(socket);
                used.add(socket);
            });
            req.end();
        });

    const loop = (async () => {
        for (let n = 0; !stopped; n++) {
            const due = n * interval;
            if (due > options.maxSeconds * 1000) break;
            const wait = startedAt + due - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            while (inFlight >= maxInFlight) await Promise.race(pending);
            if (stopped) break;
            inFlight++;
            const p = once(Date.now() - startedAt, n).finally(() => {
                inFlight--;
                pending.delete(p);
            });
            pending.add(p);
        }
    })();

    return {
        startedAt,
        async stop() {
            stopped = true;
            await loop;
            await Promise.all(pending);
            for (const agent of agents) agent.destroy();
            return samples;
        },
    };
}

/** Summary of the samples that started within [fromMs, toMs) of the load's start. */
export function summarize(samples: Sample[], fromMs = 0, toMs = Number.POSITIVE_INFINITY): LoadSummary {
    const window = samples.filter((s) => s.at >= fromMs && s.at < toMs);
    const errors: Record<string, number> = {};
    let failed = 0;
    let non2xx = 0;
    let reused = 0;
    for (const s of window) {
        if (s.reused) reused++;
        if (s.status >= 200 && s.status < 300) continue;
        failed++;
        const key = s.status === 0 ? (s.error ?? "error") : `HTTP ${s.status}`;
        errors[key] = (errors[key] ?? 0) + 1;
        if (s.status !== 0) non2xx++;
    }
    const latencies = window.map((s) => s.ms).sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
    return {
        sent: window.length,
        failed,
        non2xx,
        errors,
        reused,
        p50Ms: Number(pct(0.5).toFixed(1)),
        p99Ms: Number(pct(0.99).toFixed(1)),
    };
}
