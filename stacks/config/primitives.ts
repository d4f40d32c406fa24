/**
 * Value grammars shared by every part of the stack config schema.
 */
import { z } from "zod";
import { isQuantity } from "../../components/lib/quantity";
import { BUILD_ARG_NAME, ENV_NAME, isNonRootUid, LABEL_NAME, METRIC_NAME, PROBE_PATH, TARGET_NAME } from "../../contracts";

export const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-1123 label (lowercase letters, digits, '-')")
    .max(63, "expected at most 63 characters");

/** A namespace Slipway may create for a stage: a DNS-1123 label that is not one of Kubernetes' own. */
export const namespaceName = dnsLabel.refine((name) => name !== "default" && !name.startsWith("kube-"), {
    error: (issue) => `${String(issue.input)} is Kubernetes' own namespace: choose one for the stage (default: <app.name>-<stage>)`,
});

/** A registry host as image references name it: `registry.example.com`, `host:5000`, `<account>.dkr.ecr.<region>.amazonaws.com`. */
export const registryHost = z
    .string()
    .regex(/^[a-z0-9.-]+(:[0-9]+)?$/, "expected a registry host such as registry.example.com or host:5000");

export const envName = z.string().regex(ENV_NAME, "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

export const buildArgName = z.string().regex(BUILD_ARG_NAME, "expected a build arg name ([A-Za-z_][A-Za-z0-9_]*)");

export const targetName = z.string().regex(TARGET_NAME, "expected a Dockerfile stage name (FROM … AS <name>)");

export const metricName = z.string().regex(METRIC_NAME, "expected a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");

export const labelName = z.string().regex(LABEL_NAME, "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");

export const probePath = z.string().regex(PROBE_PATH, "expected a path starting with / (such as /healthz), without blanks");

/** A numeric user ID a container may run as: never 0. */
export const nonRootUid = z.number({ error: "expected a numeric user ID" }).refine(isNonRootUid, {
    error: (issue) =>
        issue.input === 0 ? "0 is root: expected the image's non-root numeric user (such as 10001)" : "expected a whole number >= 1",
});

/** An image pinned by digest (the grammar is the contracts'). */
export { digestPinnedImage as pinnedImage } from "../../contracts";

export const quantity = z.string().refine(isQuantity, "expected a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi");

export const port = z
    .number({ error: "expected a port number" })
    .int("expected an integer port")
    .min(1024, "expected a port >= 1024 (non-root)")
    .max(65535, "expected a port <= 65535");

export const duration = z.string().regex(/^[0-9]+(ms|s|m|h)$/, "expected a Prometheus duration such as 30s or 1m");

export const absolutePath = z.string().regex(/^\/[^\0]*[^/]$/, "expected an absolute file path such as /etc/app/config.yaml");
