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
    "apps",
] as const;

/** One of {@link STACK_OUTPUTS}. */
export type StackOutputName = (typeof STACK_OUTPUTS)[number];

/** The output names by name, for reading an `OutputMap`: `outputs[StackOutput.appImageRef]`. */
export const StackOutput = Object.fromEntries(STACK_OUTPUTS.map((name) => [name, name])) as { readonly [K in StackOutputName]: K };

/**
 * One app of a stage, as the `apps` output holds it by app name (the first app's values repeat the top-level outputs):
 * what `promote`, `rollback --app` and `status` read for each app.
 */
export interface AppOutputs {
    /** The app's image by digest. */
    imageRef: string;
    /** Its digest, `sha256:…`. */
    imageDigest: string;
    /** Full tag references the build pushed; empty for a pinned image. */
    imageTags: string[];
    /** The app's Service, `<serviceName>.<namespace>`. */
    serviceName: string;
    /** CI build number of the running image. */
    buildNumber: string;
    /** Git branch the running image was built from. */
    gitBranch: string;
    /** Git commit the running image was built from. */
    gitSha: string;
}
