/**
 * Type tokens of Slipway's components. They are part of every child's URN, and CI targets them
 * (`pulumi up --target '**<token>**'`): changing one replaces live resources unless the component gets an alias
 * (`aliases: [{ type: <old token> }]`), and the URN snapshot test fails until the change is deliberate.
 */
export const ComponentType = {
    Registry: "slipway:registry:Registry",
    BuildImage: "slipway:image:BuildImage",
    AppImage: "slipway:image:AppImage",
    AppDeployment: "slipway:app:AppDeployment",
    StageNamespace: "slipway:stage:StageNamespace",
} as const;

/** One of {@link ComponentType}'s tokens. */
export type ComponentTypeToken = (typeof ComponentType)[keyof typeof ComponentType];
