/**
 * A bounded, open-loop HTTP load against 127.0.0.1 only: a fixed request rate for at most a fixed time (or until
 * stopped), each request on a fresh connection, the way new clients reach a Service through its NodePort. Every
 * request is recorded with its start time, latency and outcome, so a caller can cut the run into windows (steady
 * state, during a rollout) and count failures in each. A failure is any error or any non-2xx status.
 */
import { request } from "node:http";

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
}

/** Counts and latency percentiles of a window of samples. */
export interface LoadSummary {
    sent: number;
    failed: number;
    non2xx: number;
    errors: Record<string, number>;
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

    const once = (at: number) =>
        new Promise<void>((resolve) => {
            const t0 = performance.now();
            const sample: Sample = { at, ms: 0, status: 0 };
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
                    agent: false,
                    timeout: 10_000,
                    headers: { connection: "close" },
                },
                (res) => {
                    res.resume();
                    res.on("end", () => finish(res.statusCode ?? 0));
                    res.on("error", (err: NodeJS.ErrnoException) => finish(0, err.code ?? err.message));
                },
            );
            req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
            req.on("error", (err: NodeJS.ErrnoException) => finish(0, err.code ?? err.message));
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
            const p = once(Date.now() - startedAt).finally(() => {
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
    for (const s of window) {
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
        p50Ms: Number(pct(0.5).toFixed(1)),
        p99Ms: Number(pct(0.99).toFixed(1)),
    };
}
