/**
 * `slipway.config`: the stack config schema (the `slipway:*` keys of `Pulumi.<stage>.yaml`) and its parser, which
 * lists every bad key at once.
 */
export { decodeProjectConfig, parseStackConfig, StackConfigError } from "../stacks/config";
export { stackConfigSchema, type BuildingStackConfig, type PinnedStackConfig, type StackConfig } from "../stacks/config";
