/**
 * Stack outputs: the names `stacks/index.ts` exports and `promote`, `rollback` and `status` read (and the policy pack:
 * `registryServer`). A test checks the program exports exactly these, and that docs/CONTRACTS.md lists them.
 */

/** Every stack output, in the order the program exports them. */
export const STACK_OUTPUTS = [
    "stageName",
    "registryServer",
    "buildImageRef",
    "appImageRef",
    "appImageDigest",
    "appImageTags",
    "namespace",
    "serviceName",
    "buildNumber",
    "gitBranch",
    "gitSha",
] as const;

/** One of {@link STACK_OUTPUTS}. */
export type StackOutputName = (typeof STACK_OUTPUTS)[number];

/** The output names by name, for reading an `OutputMap`: `outputs[StackOutput.appImageRef]`. */
export const StackOutput = Object.fromEntries(STACK_OUTPUTS.map((name) => [name, name])) as { readonly [K in StackOutputName]: K };
