/**
 * Kubernetes resource quantities ("250m", "1.5", "512Mi", "1G") as plain numbers, so stack config
 * can be checked before anything is deployed: requests not above limits, and a namespace quota large
 * enough for a rolling update (which briefly runs one extra pod).
 */

const QUANTITY_PATTERN = /^(?<number>[0-9]+(?:\.[0-9]+)?)(?<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

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

/** The value of a quantity in base units (cores for CPU, bytes for memory); throws on bad input. */
export function parseQuantity(text: string): number {
    const match = QUANTITY_PATTERN.exec(text);
    if (!match?.groups) {
        throw new Error(`not a Kubernetes quantity: ${JSON.stringify(text)} (expected e.g. 250m, 1, 512Mi, 2Gi)`);
    }
    return Number(match.groups.number) * MULTIPLIERS[match.groups.suffix ?? ""];
}
