/**
 * `slipway.stage`: one stage composed from config, Registry → BuildImage → AppImage → AppDeployment.
 */
export { defineStage, type StackOutputs, type StageOptions } from "../stacks/stage";
