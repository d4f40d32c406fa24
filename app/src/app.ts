/**
 * Request handlers for the two ports: the application port (info and probes) and the metrics port.
 *
 * Metrics live on their own port so a NetworkPolicy can admit only the monitoring namespace to them while the
 * application port stays open to its clients.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { Config } from "./config.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Metrics } from "./metrics.ts";

export interface AppContext {
    config: Config;
    lifecycle: Lifecycle;
    metrics: Metrics;
    /** The service's own version (from package.json). */
    version: string;
}

/** Routes the histogram knows; anything else is labelled `unmatched` so scanners cannot explode cardinality. */
export const ROUTES = ["/", "/healthz", "/readyz"] as const;
type Route = (typeof ROUTES)[number];

function routeOf(url: string | undefined): Route | "unmatched" {
    const path = (url ?? "/").split("?", 1)[0];
    return (ROUTES as readonly string[]).includes(path ?? "") ? (path as Route) : "unmatched";
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": Buffer.byteLength(payload),
        "Cache-Control": "no-store",
    });
    res.end(payload);
}

/** The body of `GET /`: who this is and which build, so a rollout can be verified from outside. */
export function infoBody(ctx: AppContext): Record<string, unknown> {
    const { config } = ctx;
    return {
        service: config.SERVICE_NAME,
        version: ctx.version,
        buildNumber: config.BUILD_NUMBER,
        gitBranch: config.GIT_BRANCH,
        gitSha: config.GIT_SHA,
        stage: config.STAGE,
        message: config.file.message,
        features: config.file.features,
    };
}

async function handle(ctx: AppContext, req: IncomingMessage, res: ServerResponse, route: Route | "unmatched") {
    if (route === "unmatched") return sendJson(res, 404, { error: "not found" });
    if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("Allow", "GET, HEAD");
        return sendJson(res, 405, { error: "method not allowed" });
    }
    switch (route) {
        case "/healthz":
            // Liveness stays 200 while draining: restarting a pod that is shutting down cleanly would cut requests.
            return sendJson(res, 200, { status: "ok" });
        case "/readyz":
            return sendJson(res, ctx.lifecycle.ready ? 200 : 503, { status: ctx.lifecycle.phase });
        case "/":
            if (ctx.config.file.responseDelayMs > 0) {
                // Stop waiting when the client goes away (or shutdown cuts the connection): no work for nobody.
                const gone = new AbortController();
                res.once("close", () => gone.abort());
                try {
                    await delay(ctx.config.file.responseDelayMs, undefined, { signal: gone.signal });
                } catch {
                    return;
                }
            }
            return sendJson(res, 200, infoBody(ctx));
    }
}

/** Handler for the application port. Every response is timed into the histogram, errors included. */
export function createAppHandler(ctx: AppContext): RequestListener {
    return (req, res) => {
        const route = routeOf(req.url);
        const stopTimer = ctx.metrics.requestDuration.startTimer({ route, method: req.method ?? "GET" });
        res.once("finish", () => stopTimer({ status: String(res.statusCode) }));
        // While draining, ask keep-alive clients to reconnect: their next request then goes to another pod
        // instead of racing this one's idle-connection close.
        if (ctx.lifecycle.phase === "draining") res.setHeader("Connection", "close");
        handle(ctx, req, res, route).catch((err: unknown) => {
            if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
            else res.destroy(err as Error);
        });
    };
}

/** Handler for the metrics port: `GET /metrics` only. */
export function createMetricsHandler(metrics: Metrics): RequestListener {
    return (req, res) => {
        if (routeOf(req.url) !== "unmatched" || (req.url ?? "").split("?", 1)[0] !== "/metrics") {
            return sendJson(res, 404, { error: "not found" });
        }
        metrics.registry
            .metrics()
            .then((text) => {
                res.writeHead(200, { "Content-Type": metrics.registry.contentType });
                res.end(text);
            })
            .catch(() => sendJson(res, 500, { error: "metrics collection failed" }));
    };
}
