/**
 * Pure helpers for container image references: digest parsing, digest pinning and tag sanitising.
 * Everything that decides "is this immutable?" lives here, so the components, the stack config,
 * the delivery tools and the policy pack all answer that question the same way.
 */

/** A content digest as registries print it: `sha256:` and 64 lowercase hex digits. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/**
 * A reference pinned by digest: `[registry[:port]/]repository[:tag]@sha256:<64 hex>`.
 * The optional tag is allowed because `node:24-bookworm-slim@sha256:…` is how humans keep the tag
 * readable; the runtime resolves by digest and ignores the tag.
 */
export const PINNED_REF_PATTERN =
    /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?@(?<digest>sha256:[a-f0-9]{64})$/;

/** The tag grammar of the OCI distribution spec. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The parts of a digest-pinned reference. */
export interface PinnedRef {
    /** Registry host (with port) and repository path, e.g. `127.0.0.1:5001/slipway/app`. */
    repository: string;
    /** Human-readable tag kept beside the digest, if any. It is never what the runtime resolves. */
    tag?: string;
    /** `sha256:<64 hex>`. */
    digest: string;
}

/** Parses `repo[:tag]@sha256:…`, or returns undefined when the reference is not pinned by digest. */
export function parsePinnedRef(ref: string): PinnedRef | undefined {
    const match = PINNED_REF_PATTERN.exec(ref);
    if (!match?.groups) {
        return undefined;
    }
    const { repository, tag, digest } = match.groups;
    return tag === undefined ? { repository, digest } : { repository, tag, digest };
}

/** True when the reference names an image by an immutable `@sha256:` digest. */
export function isDigestPinned(ref: string): boolean {
    return parsePinnedRef(ref) !== undefined;
}

/**
 * Returns the reference unchanged when it is pinned by digest; throws an error naming `what`
 * otherwise. Used at every boundary where a mutable tag would defeat rollback-by-digest.
 */
export function requireDigestPinned(ref: string, what: string): string {
    if (!isDigestPinned(ref)) {
        throw new Error(`${what} must be pinned by digest as <repository>@sha256:<64 hex digits>, got ${JSON.stringify(ref)}`);
    }
    return ref;
}

/**
 * Splits `host[:port]/path` into registry and path. The first component is a registry host only when
 * it has a `.` or `:` or is `localhost` (Docker's rule); otherwise the registry is empty (Docker Hub).
 */
export function splitRegistry(repository: string): { registry: string; path: string } {
    const slash = repository.indexOf("/");
    if (slash > 0) {
        const first = repository.slice(0, slash);
        if (first.includes(".") || first.includes(":") || first === "localhost") {
            return { registry: first, path: repository.slice(slash + 1) };
        }
    }
    return { registry: "", path: repository };
}

/** The registry host a digest-pinned reference pulls from, `docker.io` when it names none (Docker's rule). */
export function pinnedRefRegistry(ref: string): string {
    return splitRegistry(parsePinnedRef(ref)?.repository ?? ref).registry || "docker.io";
}

/** Joins a repository URL and a digest into the reference Kubernetes should run. */
export function pinnedRef(repository: string, digest: string): string {
    if (!DIGEST_PATTERN.test(digest)) {
        throw new Error(`digest must be sha256:<64 hex digits>, got ${JSON.stringify(digest)}`);
    }
    return `${repository}@${digest}`;
}

/**
 * Turns arbitrary text (a branch name such as `feature/JIRA-12 new login`) into a valid tag:
 * characters outside the grammar become `-`, runs of `-` collapse, a leading `.` or `-` is
 * replaced, and the result is cut to `maxLength` (default 128). Empty input yields `fallback`.
 */
export function sanitizeTag(text: string, fallback = "unknown", maxLength = 128): string {
    let tag = text
        .trim()
        .replace(/[^A-Za-z0-9_.-]+/g, "-")
        .replace(/-{2,}/g, "-")
        .replace(/^[.-]+/, "")
        .slice(0, maxLength)
        .replace(/[.-]+$/, "");
    if (tag === "") {
        tag = fallback;
    }
    if (!TAG_PATTERN.test(tag)) {
        throw new Error(`cannot make a valid tag from ${JSON.stringify(text)} (fallback ${JSON.stringify(fallback)})`);
    }
    return tag;
}

/** `prefix-<sanitised value>`, kept within the 128-character tag limit. */
export function prefixedTag(prefix: string, value: string): string {
    return `${prefix}-${sanitizeTag(value, "unknown", 127 - prefix.length)}`;
}
