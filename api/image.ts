/**
 * `slipway.image`: the versioned build environment and the app image, always by digest (type tokens
 * `slipway:image:BuildImage` and `slipway:image:AppImage`).
 */
export { BuildImage, type BuildImageArgs } from "../components/build-image";
export { AppImage, type AppImageArgs, type AppImageBuildSource, type AppImagePinnedSource } from "../components/app-image";
