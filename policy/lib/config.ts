import { PolicyConfigSchema } from "@pulumi/policy";

/**
 * Reads a policy's config with the schema defaults filled in. The Pulumi engine already applies schema defaults
 * before calling the pack; doing it again here keeps each rule correct when called directly (tests, other tools).
 */
export function configWithDefaults<T extends object>(
    schema: PolicyConfigSchema | undefined,
    args: { getConfig<C extends object>(): C },
): T {
    const defaults: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        if (typeof property === "object" && property.default !== undefined) {
            defaults[key] = property.default;
        }
    }
    return { ...defaults, ...args.getConfig<Record<string, unknown>>() } as T;
}
