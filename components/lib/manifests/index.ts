/**
 * Pure manifest assembly for AppDeployment: plain functions from settings to Kubernetes object
 * bodies. No resource is created here, so every rule (digest-only images, probes, security context,
 * selectors) is tested without mocks; the component only wires these bodies into resources.
 */
export * from "./labels";
export * from "./monitoring";
export * from "./namespace";
export * from "./network";
export * from "./pod";
export * from "./secrets";
export * from "./workload";
