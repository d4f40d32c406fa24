/**
 * Container image references: parse `registry/repo:tag@sha256:…` the way Docker does, so rules can tell a digest
 * pin from a tag and compare registries.
 */

import { isDigestPinned as isPinned, splitRegistry } from "../../components/lib/image-ref";

/** The parts of an image reference. `registry` is `docker.io` when the reference names none. */
export interface ImageRef {
    registry: string;
    /** True when the reference spells its registry out (rather than falling back to Docker Hub). */
    explicitRegistry: boolean;
    repository: string;
    tag?: string;
    digest?: string;
}

/** Parses an image reference; undefined for an empty or non-string value. */
export function parseImageRef(ref: unknown): ImageRef | undefined {
    if (typeof ref !== "string" || ref.trim() === "") {
        return undefined;
    }
    let rest = ref.trim();
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
    }
    const split = splitRegistry(rest);
    const explicitRegistry = split.registry !== "";
    const registry = explicitRegistry ? split.registry : "docker.io";
    let path = split.path;
    let tag: string | undefined;
    const colon = path.lastIndexOf(":");
    if (colon >= 0) {
        tag = path.slice(colon + 1);
        path = path.slice(0, colon);
    }
    return { registry, explicitRegistry, repository: path, tag, digest };
}

/** True when the reference is pinned by a well-formed sha256 digest (the program's own grammar). */
export function isDigestPinned(ref: unknown): boolean {
    return typeof ref === "string" && isPinned(ref.trim());
}

/** Lower-cases a registry address and strips a scheme and trailing path (`https://host:5000/v2/` → `host:5000`). */
export function normaliseRegistry(address: unknown): string | undefined {
    if (typeof address !== "string" || address.trim() === "") {
        return undefined;
    }
    const withoutScheme = address.trim().replace(/^[a-z]+:\/\//i, "");
    return withoutScheme.split("/")[0].toLowerCase();
}

/** Loopback registries (a developer's "run your own" registry) need no credentials to push. */
export function isLoopbackRegistry(registry: string): boolean {
    const host = registry.replace(/:\d+$/, "");
    return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}
