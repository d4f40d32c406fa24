/**
 * Reading and writing a stage's pinned image (`slipway:image` with `source: pinned`), the only config the tools
 * change. Promotion and rollback both end here, so they write exactly the same keys.
 */
import { pinnedImageSchema, type PinnedImage } from "../contracts";
import { configObject, FIRST_APP, imageConfigKey, imageConfigPath, imagePathValues, type AppSlot } from "./app-slot";
import type { StageStack } from "./stage-stack";
import { parsePinnedRef } from "./image-ref";

/** A digest-pinned image and the build metadata that travels with it. */
export interface ImagePin {
    /** `repo@sha256:<64 hex>`. */
    ref: string;
    buildNumber?: string;
    gitBranch?: string;
    gitSha?: string;
}

/** The config key of the registry a pinned stage pulls from (the schema's `pullRegistry`, stacks/config). */
export const PULL_REGISTRY_CONFIG_KEY = "slipway:pullRegistry";

/** The registry host the stack's file says it pulls from, or `undefined` when it names none. */
export async function readPullRegistry(stack: StageStack): Promise<string | undefined> {
    const value = (await stack.getConfig(PULL_REGISTRY_CONFIG_KEY))?.value;
    return value === undefined || value === "" ? undefined : value;
}

/** The app's current image object (`slipway:image` by default), or `undefined` when unset or not an object. */
export async function readImageConfig(stack: StageStack, slot: AppSlot = FIRST_APP): Promise<Record<string, unknown> | undefined> {
    // Another app's image is read at its path: the rest of slipway:apps, its secrets included, is never decrypted here.
    return slot.first
        ? configObject(await stack.getConfig(imageConfigKey(slot)))
        : configObject(await stack.getConfig(imageConfigPath(slot), { path: true }));
}

/** The ref the stack is pinned to now, or `undefined` when it builds (or the pin is malformed). */
export function currentPinnedRef(image: Record<string, unknown> | undefined): string | undefined {
    const pin = pinnedImageSchema.safeParse(image);
    if (!pin.success) {
        return undefined;
    }
    const ref = parsePinnedRef(pin.data.ref, "image.ref");
    return `${ref.repository}@${ref.digest}`;
}

/**
 * The `slipway:image` object of a pin, through the same schema the program parses it with (contracts); metadata
 * defaults to `unknown`. Throws on a pin the program would refuse, before anything is written.
 */
export function pinnedImageConfig(pin: ImagePin): PinnedImage {
    return pinnedImageSchema.parse({ source: "pinned", ...pin });
}

/**
 * Writes `pin` into the stack's config file as one object. Replacing the whole object (rather than five
 * `--path` sets) keeps build numbers as strings and drops the build-only keys a building stage (dev) has, which
 * the strict `pinned` schema would reject.
 */
export async function writeImagePin(stack: StageStack, pin: ImagePin, slot: AppSlot = FIRST_APP): Promise<void> {
    const image = pinnedImageConfig(pin);
    if (slot.first) {
        await stack.setObjectConfig(imageConfigKey(slot), image);
        return;
    }
    // Another app's image is one field of slipway:apps, which may hold secrets: it is written key by key (--path),
    // never read back and rewritten whole. A building app's image object goes first, so no build-only key survives.
    if (buildsNow(await readImageConfig(stack, slot))) {
        await stack.removeConfig(imageConfigPath(slot), { path: true });
    }
    await stack.setConfigPaths(imagePathValues(slot, image));
}

/** True for an image object that is there and is not a pin: its build-only keys must go before a pin is written. */
const buildsNow = (image: Record<string, unknown> | undefined) => image !== undefined && image.source !== "pinned"; /**
 * The same change as shell commands, for `--dry-run` output and the runbook. `--type string` keeps digit-only
 * values (build numbers) strings; a building stage's object is removed first so no build-only key survives.
 */
export function pinCommands(
    stackName: string,
    pin: ImagePin,
    current: Record<string, unknown> | undefined,
    slot: AppSlot = FIRST_APP,
): string[] {
    const quote = (s: string) => (/^[A-Za-z0-9_.:@\/=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
    const stack = quote(stackName);
    const key = imageConfigPath(slot);
    const image = pinnedImageConfig(pin);
    if (!slot.first) {
        // Exactly what writeImagePin does for an app of slipway:apps.
        return [
            ...(buildsNow(current) ? [`pulumi config rm --stack ${stack} --path ${key}`] : []),
            `pulumi config set-all --stack ${stack} --path ${Object.entries(imagePathValues(slot, image))
                .map(([path, value]) => `--plaintext ${quote(`${path}=${value}`)}`)
                .join(" ")}`,
            `pulumi up --stack ${stack} --diff`,
        ];
    }
    return [
        ...(buildsNow(current) ? [`pulumi config rm --stack ${stack} ${key}`] : []),
        ...Object.entries(image).map(
            ([field, value]) => `pulumi config set --stack ${stack} --path --type string ${quote(`${key}.${field}`)} ${quote(value)}`,
        ),
        `pulumi up --stack ${stack} --diff`,
    ];
}

/** One-line description: `repo@sha256:… (build 42, branch main, sha 0123abc)`. */
export function describePin(pin: ImagePin): string {
    const meta = [
        pin.buildNumber && `build ${pin.buildNumber}`,
        pin.gitBranch && `branch ${pin.gitBranch}`,
        pin.gitSha && `sha ${pin.gitSha.slice(0, 7)}`,
    ].filter(Boolean);
    return meta.length ? `${pin.ref} (${meta.join(", ")})` : pin.ref;
}
