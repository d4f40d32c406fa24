/**
 * Heuristics for "this looks like a secret": by name (env var or ConfigMap key) and by value (well-known
 * credential formats). Deliberately conservative on values so real config files do not trip them.
 */

/** Names that announce a secret: `DB_PASSWORD`, `apiKey`, `client-secret`, `GITHUB_TOKEN`, … */
export const SECRET_NAME =
    /(passw(or)?d|passphrase|secret|token|api[-_.]?key|private[-_.]?key|access[-_.]?key|credential|auth[-_.]?key|signing[-_.]?key|session[-_.]?key)/i;

/** Value formats that are credentials whatever they are called. Each has a label for the message. */
const SECRET_VALUES: { label: string; pattern: RegExp }[] = [
    { label: "a PEM private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
    { label: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { label: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
    { label: "a Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
    { label: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
    { label: "a URL with an embedded password", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i },
];

/** Within a config file: `password: hunter2`, `api_key = "…"` (a literal, not a `${VAR}` reference). */
const INLINE_ASSIGNMENT =
    /(?:^|[\s{,"'])(passw(?:or)?d|secret|api[-_]?key|private[-_]?key|access[-_]?key|token)["']?\s*[:=]\s*["']?(?!\$\{|\$[A-Z_])[^\s"',}]{4,}/im;

/** Returns what kind of secret a value looks like, or undefined. */
export function secretLikeValue(value: unknown): string | undefined {
    if (typeof value !== "string" || value === "") {
        return undefined;
    }
    return SECRET_VALUES.find(({ pattern }) => pattern.test(value))?.label;
}

/** Like {@link secretLikeValue}, plus `key: value` assignments of secret-named keys inside file content. */
export function secretLikeContent(content: unknown): string | undefined {
    if (typeof content !== "string") {
        return undefined;
    }
    const known = secretLikeValue(content);
    if (known) {
        return known;
    }
    const assignment = INLINE_ASSIGNMENT.exec(content);
    return assignment ? `an inline "${assignment[1]}" assignment` : undefined;
}

/** True when a key/variable name announces a secret (and is not in the allow list). */
export function secretLikeName(name: unknown, allowed: readonly string[] = []): boolean {
    return typeof name === "string" && !allowed.includes(name) && SECRET_NAME.test(name);
}
