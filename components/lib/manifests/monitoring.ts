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

/** The app's request counter, named by the app: what the error-rate alert divides. */
export interface RequestMetric {
    /** A counter of handled requests (a histogram's `_count` series does too), e.g. `http_requests_total`. */
    requestsTotal: string;
    /** Its label carrying the HTTP status code (`500`, …): the alert counts `5..` as errors. */
    statusLabel: string;
}

/**
 * PrometheusRule spec. Always: no ready replica and restart loops, from kube-state-metrics alone (any app). The server
 * error rate only with a {@link RequestMetric}: Slipway cannot guess an app's metric names.
 */
export function prometheusRuleSpec(id: AppIdentity, m: MonitoringSettings, requestMetric?: RequestMetric): Record<string, unknown> {
    const ns = `namespace="${id.namespace}"`;
    const alertName = id.appName
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("");
    const labels = { severity: id.stage === "prod" ? "critical" : "warning", stage: id.stage };
    // `service` is the target label the ServiceMonitor gives every scraped series: the app's Service name.
    const requests = (extra = "") => `${requestMetric?.requestsTotal}{${ns},service="${id.appName}"${extra}}`;
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
                    ...(requestMetric === undefined
                        ? []
                        : [
                              {
                                  alert: `${alertName}HighErrorRate`,
                                  expr:
                                      `sum(rate(${requests(`,${requestMetric.statusLabel}=~"5.."`)}[5m])) / ` +
                                      `clamp_min(sum(rate(${requests()}[5m])), 1e-9) > ${m.alerts.errorRateThreshold}`,
                                  for: "5m",
                                  labels,
                                  annotations: {
                                      summary: `${id.appName} answers more than ${m.alerts.errorRateThreshold * 100}% of requests with 5xx`,
                                      description:
                                          "Compare with the last deploy (slipway.dev/image annotation); roll back if it started there.",
                                  },
                              },
                          ]),
                ],
            },
        ],
    };
}
