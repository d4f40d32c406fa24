/**
 * Prometheus Operator objects: the ServiceMonitor that scrapes the app and its alerts.
 */
import { AppIdentity, selectorLabels } from "./labels";
import { METRICS_PORT_NAME } from "./pod";

/** Monitoring settings. */
export interface MonitoringSettings {
    /** Namespace Prometheus scrapes from. */
    namespace: string;
    path: string;
    interval: string;
    /** Labels Prometheus selects ServiceMonitors/PrometheusRules by. */
    selectorLabels: Record<string, string>;
    alerts: { enabled: boolean; errorRateThreshold: number; restartThreshold: number };
}

/** ServiceMonitor spec selecting the app's Service by its labels and the `metrics` port. */
export function serviceMonitorSpec(id: AppIdentity, m: MonitoringSettings): Record<string, unknown> {
    return {
        selector: { matchLabels: selectorLabels(id) },
        namespaceSelector: { matchNames: [id.namespace] },
        endpoints: [{ port: METRICS_PORT_NAME, path: m.path, interval: m.interval, scheme: "http" }],
    };
}

/** PrometheusRule spec: no ready replica, restart loops, server error rate. */
export function prometheusRuleSpec(id: AppIdentity, m: MonitoringSettings): Record<string, unknown> {
    const ns = `namespace="${id.namespace}"`;
    const alertName = id.appName
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("");
    const labels = { severity: id.stage === "prod" ? "critical" : "warning", stage: id.stage };
    const requests = `http_request_duration_seconds_count{${ns},service="${id.appName}"}`;
    return {
        groups: [
            {
                name: `${id.appName}.${id.stage}`,
                rules: [
                    {
                        alert: `${alertName}NoReadyReplicas`,
                        expr: `kube_deployment_status_replicas_available{${ns},deployment="${id.appName}"} == 0`,
                        for: "2m",
                        labels,
                        annotations: {
                            summary: `${id.appName} in ${id.namespace} has no ready replica`,
                            description: "Every pod is failing readiness: check kubectl describe deploy and the pods' events.",
                        },
                    },
                    {
                        alert: `${alertName}Restarting`,
                        expr: `increase(kube_pod_container_status_restarts_total{${ns},container="${id.appName}"}[15m]) > ${m.alerts.restartThreshold}`,
                        for: "5m",
                        labels,
                        annotations: {
                            summary: `${id.appName} containers restart repeatedly`,
                            description: "More than the allowed restarts in 15 minutes: check liveness failures and OOM kills.",
                        },
                    },
                    {
                        alert: `${alertName}HighErrorRate`,
                        expr:
                            `sum(rate(${requests.replace("}", ',status=~"5.."}')}[5m])) / ` +
                            `clamp_min(sum(rate(${requests}[5m])), 1e-9) > ${m.alerts.errorRateThreshold}`,
                        for: "5m",
                        labels,
                        annotations: {
                            summary: `${id.appName} answers more than ${m.alerts.errorRateThreshold * 100}% of requests with 5xx`,
                            description: "Compare with the last deploy (slipway.dev/image annotation); roll back if it started there.",
                        },
                    },
                ],
            },
        ],
    };
}
