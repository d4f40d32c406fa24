/**
 * `slipway.stage`: one stage composed from config, Registry → BuildImage → AppImage → AppDeployment per app, in one
 * StageNamespace (type token `slipway:stage:StageNamespace`).
 */
export { defineStage, type StackOutputs, type StageOptions } from "../stacks/stage";
export { StageNamespace, type StageNamespaceArgs } from "../components/stage-namespace";
