/**
 * `slipway.app`: one app in one stage on Kubernetes (type token `slipway:app:AppDeployment`).
 */
export { AppDeployment, type AppDeploymentArgs } from "../components/app-deployment";
