/**
 * This repository's Pulumi program, as Pulumi.yaml's `main:` names it (package.json's "main" is the library). It sits
 * in the project's root folder because Pulumi runs a program from the folder its `main:` file is in: from here,
 * tsconfig.pulumi.json and the relative build contexts app/ and build-image/ resolve as before. The program itself
 * is stacks/index.ts; its exports are the stack outputs.
 */
export * from "./stacks/index";
