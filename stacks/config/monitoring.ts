/**
 * `slipway:monitoring`: Prometheus Operator objects and alerts.
 */
import { z } from "zod";
import { dnsLabel, duration } from "./primitives";

export const monitoringSchema = z
    .strictObject({
        /** Off where the Prometheus Operator CRDs are absent: ServiceMonitor cannot even be previewed then. */
        enabled: z.boolean().default(true),
        namespace: dnsLabel.default("monitoring"),
        path: z.string().startsWith("/", "expected a path starting with /").default("/metrics"),
        interval: duration.default("30s"),
        /** Labels the Prometheus instance selects ServiceMonitors by (kube-prometheus-stack: release). */
        selectorLabels: z.record(z.string(), z.string()).default({}),
        alerts: z
            .strictObject({
                enabled: z.boolean().default(true),
                errorRateThreshold: z.number().gt(0).lt(1).default(0.05),
                restartThreshold: z.number().int().min(1).default(3),
            })
            .prefault({}),
    })
    .prefault({});
