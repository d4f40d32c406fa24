/**
 * Digests and digest-pinned image references: parsing and validation.
 *
 * Everything that reaches a qa/prod stack's config goes through here, so a malformed value is refused before any
 * Pulumi call is made.
 */

/** `sha256:` followed by exactly 64 lowercase hex digits (the only digest algorithm Slipway deploys). */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * A repository as the OCI distribution spec names it: lowercase path components separated by `/`, optionally
 * preceded by a registry host (with port). Kept close to the reference grammar of `distribution/reference`.
 */
const REPOSITORY =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** The tag grammar of the distribution spec, which AppImage's tags follow. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** True when `value` is a `sha256:<64 lowercase hex>` digest. */
export function isDigest(value: unknown): value is string {
  return typeof value === "string" && DIGEST.test(value);
}

/** True when `value` is a valid image tag. */
export function isTag(value: string): boolean {
  return TAG.test(value);
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
  const repository = value.slice(0, at);
  const digest = value.slice(at + 1);
  if (!REPOSITORY.test(repository)) {
    throw new Error(`${what} has a malformed repository ${JSON.stringify(repository)}`);
  }
  requireDigest(digest, `${what}'s digest`);
  return { repository, digest, ...splitRepository(repository) };
}

/**
 * Splits `host[:port]/path` into registry and path. A first component counts as a host when it has a `.` or `:`
 * or is `localhost`, the same rule docker uses.
 */
export function splitRepository(repository: string): { registry: string; path: string } {
  const slash = repository.indexOf("/");
  if (slash > 0) {
    const first = repository.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      return { registry: first, path: repository.slice(slash + 1) };
    }
  }
  return { registry: "", path: repository };
}

/** Shortens a digest for tables: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
  return isDigest(digest) ? digest.slice(0, "sha256:".length + 12) : digest;
}
