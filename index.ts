/**
 * Slipway as a library: the public API of the `slipway` package, one namespace per area in the style of
 * pulumi-awsx. What this file does not export is not API (semver from 0.2.0 on).
 *
 * ```ts
 * import * as pulumi from "@pulumi/pulumi";
 * import * as slipway from "slipway";
 *
 * const config = slipway.config.parseStackConfig(slipway.config.decodeProjectConfig(pulumi.runtime.allConfig()));
 * const stage = slipway.stage.defineStage(config, { buildNumber: "42", gitBranch: "main", gitSha: "…" });
 * export const appImageRef = stage.appImageRef;
 * ```
 */

/** Where a stage's images live: {@link registry.Registry}. */
export * as registry from "./api/registry";
/** The build environment and the app image, by digest: {@link image.BuildImage}, {@link image.AppImage}. */
export * as image from "./api/image";
/** One app in one stage on Kubernetes: {@link app.AppDeployment}. */
export * as app from "./api/app";
/** The stack config schema and its parser: {@link config.parseStackConfig}. */
export * as config from "./api/config";
/** One stage composed from config: {@link stage.defineStage}. */
export * as stage from "./api/stage";
/** The shapes every side agrees on: stages, pinned images, tags, stack outputs, type tokens, labels. */
export * as contracts from "./contracts";
