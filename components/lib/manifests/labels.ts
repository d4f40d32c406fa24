/**
 * Names and labels every object of one app in one stage shares: identity, selectors, provenance.
 */
import type * as pulumi from "@pulumi/pulumi";

type Input<T> = pulumi.Input<T>;

/** Settings shared by every manifest of one app in one stage. */
export interface AppIdentity {
    /** App name: Deployment, Service and container name. */
    appName: string;
    /** Stage: local, dev, qa or prod. */
    stage: string;
    /** Namespace every object lives in. */
    namespace: string;
}

/** Prefix of Slipway's own annotations and labels. */
export const ANNOTATION_PREFIX = "slipway.dev";

/** Labels that identify the app's pods. Part of immutable selectors: never add a changing value. */
export function selectorLabels(id: AppIdentity): Record<string, string> {
    return {
        "app.kubernetes.io/name": id.appName,
        "app.kubernetes.io/instance": `${id.appName}-${id.stage}`,
    };
}

/** The recommended `app.kubernetes.io/*` labels plus the stage. */
export function commonLabels(id: AppIdentity): Record<string, string> {
    return {
        ...selectorLabels(id),
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": "slipway",
        "app.kubernetes.io/managed-by": "pulumi",
        [`${ANNOTATION_PREFIX}/stage`]: id.stage,
    };
}

/** Makes text a valid label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string {
    const value = text
        .replace(/[^A-Za-z0-9._-]+/g, "-")
        .slice(0, 63)
        .replace(/^[^A-Za-z0-9]+/, "")
        .replace(/[^A-Za-z0-9]+$/, "");
    return value === "" ? "unknown" : value;
}

/** Where the image came from, as pod annotations (change on every deploy, so they never go into labels). */
export interface ImageProvenance {
    /** `repo@sha256:…`. */
    image: Input<string>;
    buildNumber: Input<string>;
    gitBranch: Input<string>;
    gitSha: Input<string>;
}

/** Pod annotations that tell, from `kubectl describe pod`, which build is running. */
export function provenanceAnnotations(p: ImageProvenance): Record<string, Input<string>> {
    return {
        [`${ANNOTATION_PREFIX}/image`]: p.image,
        [`${ANNOTATION_PREFIX}/build-number`]: p.buildNumber,
        [`${ANNOTATION_PREFIX}/git-branch`]: p.gitBranch,
        [`${ANNOTATION_PREFIX}/git-sha`]: p.gitSha,
    };
}
