/**
 * Prometheus metrics: default process metrics plus a request duration histogram by route and status.
 *
 * A registry per service instance (not prom-client's global one) keeps tests independent of each other.
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Lifecycle } from "./lifecycle.ts";

export interface Metrics {
    registry: Registry;
    /** `http_request_duration_seconds{route,method,status}`. */
    requestDuration: Histogram<"route" | "method" | "status">;
}

/** Buckets around the latencies of a small JSON service, up to the 5 s that would page someone. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(lifecycle: Lifecycle, labels: Record<string, string>): Metrics {
    const registry = new Registry();
    // Constant labels let dashboards tell builds apart without a join against deployment metadata.
    registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: registry });
    const requestDuration = new Histogram({
        name: "http_request_duration_seconds",
        help: "Duration of HTTP requests served on the application port.",
        labelNames: ["route", "method", "status"] as const,
        buckets: DURATION_BUCKETS,
        registers: [registry],
    });
    const ready = new Gauge({
        name: "app_ready",
        help: "1 while the service reports ready on /readyz, 0 while starting or draining.",
        registers: [registry],
    });
    ready.set(lifecycle.ready ? 1 : 0);
    lifecycle.onChange(() => ready.set(lifecycle.ready ? 1 : 0));
    return { registry, requestDuration };
}
