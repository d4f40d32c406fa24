/**
 * Kubernetes resource quantities ("250m", "1.5", "512Mi", "1G") as plain numbers, so stack config
 * can be checked before anything is deployed: requests not above limits, and a namespace quota large
 * enough for a rolling update (which briefly runs one extra pod).
 */

// Kubernetes' grammar without a sign (no resource amount is negative): a decimal number, then a binary
// or decimal suffix or a decimal exponent.
const QUANTITY_PATTERN =
    /^(?<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(?<exponent>[eE][+-]?[0-9]+)|(?<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

const MULTIPLIERS: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/** True when `text` is a quantity in the subset of the Kubernetes grammar Slipway accepts. */
export function isQuantity(text: string): boolean {
    return QUANTITY_PATTERN.test(text);
}

/** The value of a quantity in base units (cores for CPU, bytes for memory), or undefined when it is none. */
export function tryParseQuantity(value: unknown): number | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) && value >= 0 ? value : undefined;
    }
    const match = typeof value === "string" ? QUANTITY_PATTERN.exec(value) : null;
    if (!match?.groups) {
        return undefined;
    }
    const { number, exponent, suffix } = match.groups;
    return exponent === undefined ? Number(number) * MULTIPLIERS[suffix ?? ""] : Number(`${number}${exponent}`);
}

/** {@link tryParseQuantity} for text that must be a quantity; throws naming the bad value. */
export function parseQuantity(text: string): number {
    const value = tryParseQuantity(text);
    if (value === undefined) {
        throw new Error(`not a Kubernetes quantity: ${JSON.stringify(text)} (expected e.g. 250m, 1, 512Mi, 2Gi)`);
    }
    return value;
}
