/**
 * Slipway's stack config: the schema (split by concern in this folder) and the one entry that parses it.
 */
export { decodeProjectConfig, parseStackConfig, PROJECT, StackConfigError } from "./parse";
export { stackConfigSchema, type BuildingStackConfig, type PinnedStackConfig, type StackConfig } from "./schema";
export { BASE_IMAGE_ENV, withBaseImageFromEnv } from "./base-image";
