/**
 * Slipway's contracts: the shapes that cross the program, the tools, the policy pack, CI and the docs, each defined
 * once here. Import from `contracts` only; nothing in this folder creates a resource or does I/O.
 */
export * from "./outputs";
export * from "./pinned-image";
export * from "./app-contract";
export * from "./labels";
export * from "./registry";
export * from "./service-env";
export * from "./stages";
export * from "./tags";
export * from "./types";
