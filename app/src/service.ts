/**
 * Starts both listeners and implements the graceful shutdown sequence:
 * not-ready → wait `DRAIN_DELAY_MS` → stop accepting → finish in-flight requests → close idle keep-alive
 * connections → resolve (the caller exits 0).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { createAppHandler, createMetricsHandler } from "./app.ts";
import type { Config } from "./config.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { Logger } from "./log.ts";
import { createMetrics } from "./metrics.ts";

export interface Service {
    lifecycle: Lifecycle;
    appServer: Server;
    metricsServer: Server;
    /** Bound ports (differ from the config when it asked for 0). */
    appPort: number;
    metricsPort: number;
    /** Runs the drain sequence once; later calls return the same promise. */
    shutdown(): Promise<void>;
}

/**
 * The service's version from its package.json: next to `dist/` in the image (/app/package.json), two levels up
 * from `build/src/` in a compiled work tree. Found by name, so an unrelated package.json is never read.
 */
export function packageVersion(): string {
    for (const rel of ["../package.json", "../../package.json"]) {
        try {
            const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
            if (pkg.name === "slipway-app" && pkg.version) return pkg.version;
        } catch {
            // Not there: try the next candidate.
        }
    }
    return "0.0.0-unknown";
}

function listen(server: Server, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
}

/** Stops accepting and resolves once every connection has ended; cuts the rest after `timeoutMs`. */
export async function closeGracefully(server: Server, timeoutMs: number): Promise<"clean" | "forced"> {
    if (!server.listening) return "clean";
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() drops connections idle right now; a connection finishing a request later becomes idle again,
    // so sweep until all are gone (in-flight responses already carry `Connection: close`).
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    let forced = false;
    const deadline = setTimeout(() => {
        forced = true;
        server.closeAllConnections();
    }, timeoutMs);
    try {
        await closed;
    } finally {
        clearInterval(sweep);
        clearTimeout(deadline);
    }
    return forced ? "forced" : "clean";
}

export async function startService(config: Config, log: Logger): Promise<Service> {
    const lifecycle = new Lifecycle();
    const version = packageVersion();
    const metrics = createMetrics(lifecycle, { service: config.SERVICE_NAME, stage: config.STAGE });
    const appServer = createServer(createAppHandler({ config, lifecycle, metrics, version }));
    // Longer than the 60 s idle timeout of common load balancers, so the balancer, not us, closes idle sockets
    // in normal operation (the other way round it may send a request into a socket we are closing).
    appServer.keepAliveTimeout = 65_000;
    appServer.headersTimeout = 66_000;
    const metricsServer = createServer(createMetricsHandler(metrics));

    const appPort = await listen(appServer, config.PORT, config.HOST);
    const metricsPort = await listen(metricsServer, config.METRICS_PORT, config.HOST);
    lifecycle.markReady();
    log("info", "listening", { host: config.HOST, port: appPort, metricsPort, version, stage: config.STAGE });

    let shuttingDown: Promise<void> | undefined;
    const shutdown = () =>
        (shuttingDown ??= (async () => {
            lifecycle.markDraining();
            log("info", "draining: readiness is now 503", { drainDelayMs: config.DRAIN_DELAY_MS });
            await delay(config.DRAIN_DELAY_MS);
            log("info", "closing listeners; finishing in-flight requests");
            const [app] = await Promise.all([
                closeGracefully(appServer, config.SHUTDOWN_TIMEOUT_MS),
                // Metrics stay scrapeable during the drain delay, then go with the app port.
                closeGracefully(metricsServer, Math.min(1_000, config.SHUTDOWN_TIMEOUT_MS)),
            ]);
            log(app === "clean" ? "info" : "warn", "stopped", { connections: app });
        })());

    return { lifecycle, appServer, metricsServer, appPort, metricsPort, shutdown };
}
