/**
 * Provider SDKs that only some registry kinds use, loaded when a component first needs one rather than when its module
 * is imported. An `import * as aws from "@pulumi/aws"` at the top of components/registry.ts made every run of every
 * stack load both SDKs, the local stack's too (its registry is `external`: it uses neither); `require("@pulumi/aws")`
 * alone takes 0.2–0.3 s of each program start (docs/benchmarks.md, `npm run bench:program`). The `import type`s below
 * keep the types and are erased; these `require`s are the only runtime loads. Node caches a module after its first
 * `require`, so calling these again costs nothing. Resources, type tokens and URNs are the same as with a top-level
 * import.
 */
import type * as Aws from "@pulumi/aws";
import type * as Docker from "@pulumi/docker";

/** `@pulumi/aws`, for an `ecr` registry. */
export function awsSdk(): typeof Aws {
    return require("@pulumi/aws") as typeof Aws;
}

/** `@pulumi/docker`, for a `local` registry (a registry container on this machine's Docker engine). */
export function dockerSdk(): typeof Docker {
    return require("@pulumi/docker") as typeof Docker;
}
