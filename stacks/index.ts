/**
 * Slipway's Pulumi program: reads the stack's config once (failing before any resource on bad
 * config), then composes the stage. `pulumi up -s <stage>` runs this file.
 */
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { LocalGitInfo, resolveBuildMetadata } from "../components/lib/build-metadata";
import { decodeProjectConfig, parseStackConfig, withBaseImageFromEnv } from "./config";
import { PROJECT_ROOT } from "./paths";
import { defineStage } from "./stage";

const config = parseStackConfig(withBaseImageFromEnv(decodeProjectConfig(pulumi.runtime.allConfig()), process.env));
// Each export is one output of the contract (contracts/outputs.ts); a test checks the list.
// Build contexts are relative to this repository's root, whatever the working directory.
const stage = defineStage(config, resolveBuildMetadata(process.env, readLocalGit()), { projectRoot: PROJECT_ROOT });

export const stageName = stage.stageName;
export const registryServer = stage.registryServer;
export const buildImageRef = stage.buildImageRef;
export const appImageRef = stage.appImageRef;
export const appImageDigest = stage.appImageDigest;
export const appImageTags = stage.appImageTags;
export const namespace = stage.namespace;
export const serviceName = stage.serviceName;
export const buildNumber = stage.buildNumber;
export const gitBranch = stage.gitBranch;
export const gitSha = stage.gitSha;
export const apps = stage.apps;

/** Branch and commit of the local checkout, for runs outside CI; empty when git is unavailable. */
function readLocalGit(): LocalGitInfo {
    const git = (...args: string[]) => {
        try {
            return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
        } catch {
            return undefined;
        }
    };
    return { branch: git("rev-parse", "--abbrev-ref", "HEAD"), sha: git("rev-parse", "HEAD") };
}
