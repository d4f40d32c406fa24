/**
 * Digests and digest-pinned image references: parsing and validation.
 *
 * Everything that reaches a qa/prod stack's config goes through here, so a malformed value is refused before any
 * Pulumi call is made. The grammar itself lives in components/lib/image-ref.ts, shared with the program and the
 * policy pack; this module adds the operator-facing errors.
 */
import { DIGEST_PATTERN, parsePinnedRef as parseRef, splitRegistry, TAG_PATTERN } from "../components/lib/image-ref";

/** True when `value` is a `sha256:<64 lowercase hex>` digest. */
export function isDigest(value: unknown): value is string {
    return typeof value === "string" && DIGEST_PATTERN.test(value);
}

/** True when `value` is a valid image tag. */
export function isTag(value: string): boolean {
    return TAG_PATTERN.test(value);
}

/**
 * Returns `value` if it is a digest, else throws an error that names `what` and shows the bad value.
 * Digests are not secret, so echoing the value helps the operator.
 */
export function requireDigest(value: unknown, what: string): string {
    if (value === undefined || value === null || value === "") {
        throw new Error(`${what} is missing: expected sha256:<64 hex digits>`);
    }
    if (!isDigest(value)) {
        throw new Error(`${what} is malformed: expected sha256:<64 hex digits>, got ${JSON.stringify(value)}`);
    }
    return value;
}

/** A digest-pinned image reference split into its parts. */
export interface PinnedRef {
    /** `host[:port]/path`, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-app`. */
    repository: string;
    /** Registry host (with port), e.g. `127.0.0.1:5000`; empty when the repository has no host part. */
    registry: string;
    /** Repository path inside the registry, e.g. `slipway-app`. */
    path: string;
    /** `sha256:…`. */
    digest: string;
}

/**
 * Parses `repo@sha256:<64 hex>`; throws naming `what` on anything else (tags, `:latest`, short digests).
 */
export function parsePinnedRef(value: unknown, what: string): PinnedRef {
    if (typeof value !== "string" || value === "") {
        throw new Error(`${what} is missing: expected <repository>@sha256:<64 hex digits>`);
    }
    const at = value.lastIndexOf("@");
    if (at <= 0) {
        throw new Error(`${what} is not pinned by digest: expected <repository>@sha256:<64 hex digits>, got ${JSON.stringify(value)}`);
    }
    requireDigest(value.slice(at + 1), `${what}'s digest`);
    const parsed = parseRef(value);
    if (parsed === undefined) {
        throw new Error(`${what} has a malformed repository ${JSON.stringify(value.slice(0, at))}`);
    }
    return { repository: parsed.repository, digest: parsed.digest, ...splitRegistry(parsed.repository) };
}

/** Registry host and path of a repository (Docker's host rule). */
export const splitRepository = splitRegistry;

/** Shortens a digest for tables: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
    return isDigest(digest) ? digest.slice(0, "sha256:".length + 12) : digest;
}
