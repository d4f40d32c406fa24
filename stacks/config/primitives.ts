/**
 * Value grammars shared by every part of the stack config schema.
 */
import { z } from "zod";
import { isQuantity } from "../../components/lib/quantity";

export const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-1123 label (lowercase letters, digits, '-')")
    .max(63, "expected at most 63 characters");

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

/** An image pinned by digest (the grammar is the contracts'). */
export { digestPinnedImage as pinnedImage } from "../../contracts";

export const quantity = z.string().refine(isQuantity, "expected a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi");

export const port = z.number().int("expected an integer port").min(1024, "expected a port >= 1024 (non-root)").max(65535);

export const duration = z.string().regex(/^[0-9]+(ms|s|m|h)$/, "expected a Prometheus duration such as 30s or 1m");

export const absolutePath = z.string().regex(/^\/[^\0]*[^/]$/, "expected an absolute file path such as /etc/app/config.yaml");
