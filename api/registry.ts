/**
 * `slipway.registry`: where a stage's images live (type token `slipway:registry:Registry`).
 */
export {
    Registry,
    type EcrRegistryArgs,
    type ExternalRegistryArgs,
    type LocalRegistryArgs,
    type RegistryArgs,
} from "../components/registry";
