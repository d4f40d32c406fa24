/**
 * Which of a stage's apps a command works on, and where that app's image lives: the stack's first app (`slipway:app`)
 * keeps its image in `slipway:image` and the top-level outputs, as a one-app stack always has; each other app keeps it
 * in `slipway:apps.<name>.image` and the `apps` output. Pure functions over config and outputs; the I/O is the callers'.
 */
import type { OutputMap } from "@pulumi/pulumi/automation";
import { APP_CONFIG_KEY, APPS_CONFIG_KEY, IMAGE_CONFIG_KEY, StackOutput, type AppOutputs } from "../contracts";
import { refused } from "./errors";

/** One app of a stack, by name; `first` where it is the stack's `slipway:app`. */
export interface AppSlot {
    /** The app's name (its `slipway:app.name`, or its key in `slipway:apps`). */
    name: string;
    /** True for the stack's first app. */
    first: boolean;
}

/** The first app where the caller knows no name (a one-app stack): messages name no app. */
export const FIRST_APP: AppSlot = { name: "", first: true };

/** The app's name as the schema defaults it, where `slipway:app.name` is not set. */
const DEFAULT_APP_NAME = "hello";

/** A config entry as `pulumi config` and `stack history --json` give it. */
export type ConfigEntry = { value?: string; objectValue?: unknown } | undefined;

/**
 * A structured config value as an object: `pulumi stack history --json` sends it both as JSON text and as
 * `objectValue`; `pulumi config get` only as text. `undefined` when absent, not JSON or not an object.
 */
export function configObject(entry: ConfigEntry): Record<string, unknown> | undefined {
    if (!entry) {
        return undefined;
    }
    if (entry.objectValue && typeof entry.objectValue === "object") {
        return entry.objectValue as Record<string, unknown>;
    }
    if (typeof entry.value !== "string") {
        return undefined;
    }
    try {
        const parsed: unknown = JSON.parse(entry.value);
        return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The names of a stack's apps, first app first, from its `slipway:app` and `slipway:apps` config. */
export function appNames(app: ConfigEntry, apps: ConfigEntry): string[] {
    const name = configObject(app)?.name;
    return [typeof name === "string" ? name : DEFAULT_APP_NAME, ...Object.keys(configObject(apps) ?? {})];
}

/**
 * The names of the apps a stack last deployed, first app first, from its outputs alone (no config is read, so no
 * secret is decrypted): the first app's Service is named after it, the others are the `apps` output's keys.
 */
export function deployedAppNames(outputs: OutputMap): string[] {
    const first = outputs[StackOutput.serviceName]?.value;
    const firstName = typeof first === "string" ? first : "";
    const more = Object.keys(asObject(outputs[StackOutput.apps]?.value) ?? {}).filter((name) => name !== firstName);
    return [firstName, ...more];
}

/**
 * The app `--app` names, among the stack's apps (first app first). Without `--app`, a one-app stack's app; a stack with
 * more apps is refused, since which one to move is the person's decision.
 */
export function chooseApp(stackName: string, names: string[], requested: string | undefined, command: string): AppSlot {
    if (requested === undefined) {
        if (names.length > 1) {
            throw refused(`stack ${stackName} runs ${names.length} apps (${names.join(", ")}): name the one to ${command} with --app`);
        }
        return FIRST_APP;
    }
    const i = names.indexOf(requested);
    if (i < 0) {
        throw refused(`stack ${stackName} has no app ${JSON.stringify(requested)}; its apps: ${names.join(", ")}`);
    }
    return { name: requested, first: i === 0 };
}

/** The config key path of the app's image, for messages and `pulumi config set --path`. */
export function imageConfigPath(slot: AppSlot): string {
    return slot.first ? IMAGE_CONFIG_KEY : `${APPS_CONFIG_KEY}.${slot.name}.image`;
}

/** The config keys an update or stack records the app's image under: `slipway:image`, or `slipway:apps`. */
export function imageConfigKey(slot: AppSlot): string {
    return slot.first ? IMAGE_CONFIG_KEY : APPS_CONFIG_KEY;
}

/** The app's image object out of the config entry {@link imageConfigKey} names; `undefined` when absent. */
export function imageConfigIn(entry: ConfigEntry, slot: AppSlot): Record<string, unknown> | undefined {
    const value = configObject(entry);
    return slot.first ? value : asObject(asObject(value?.[slot.name])?.image);
}

/**
 * The app's image object in a config as an update recorded it, found by the app's name: `slipway:image` where that
 * update's first app (`slipway:app.name`) is the app, else its entry of `slipway:apps`. An app renamed or moved since
 * is looked for under its name at the time, never at its position.
 */
export function imageConfigInUpdate(config: Record<string, ConfigEntry> | undefined, slot: AppSlot): Record<string, unknown> | undefined {
    const then = slotAtUpdate(config, slot);
    return then.first ? configObject(config?.[IMAGE_CONFIG_KEY]) : imageConfigIn(config?.[APPS_CONFIG_KEY], then);
}
/**
 * The `--path` config values that pin another app's image (`slipway:apps.<name>.image.<field>`), one key each: the rest
 * of `slipway:apps`, secrets included, is never read back and rewritten.
 */
export function imagePathValues(slot: AppSlot, image: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(image).map(([field, value]) => [`${imageConfigPath(slot)}.${field}`, value]));
}

/**
 * The app's image outputs: the top-level ones for a one-app stack (`slot.name` empty), else the app's entry of the
 * `apps` output, by name; in state from before that output, the top-level ones where the app is the first.
 */
export function appOutputsIn(outputs: OutputMap, slot: AppSlot): Partial<Record<keyof AppOutputs, unknown>> {
    const apps = asObject(outputs[StackOutput.apps]?.value);
    if (slot.name !== "" && apps !== undefined) {
        return asObject(apps[slot.name]) ?? {};
    }
    if (!slot.first) {
        return {};
    }
    return {
        imageRef: outputs[StackOutput.appImageRef]?.value,
        imageDigest: outputs[StackOutput.appImageDigest]?.value,
        buildNumber: outputs[StackOutput.buildNumber]?.value,
        gitBranch: outputs[StackOutput.gitBranch]?.value,
        gitSha: outputs[StackOutput.gitSha]?.value,
    };
}

/** The app as an earlier update had it: first there where that update's `slipway:app.name` is its name. */
export function slotAtUpdate(config: Record<string, ConfigEntry> | undefined, slot: AppSlot): AppSlot {
    return slot.name === "" ? slot : { name: slot.name, first: appNames(config?.[APP_CONFIG_KEY], undefined)[0] === slot.name };
}

/** The output names of the app's image, for messages: `appImageRef`, or `apps.<name>.imageRef`. */
export function outputName(slot: AppSlot, field: "imageRef" | "imageDigest"): string {
    if (slot.first) {
        return field === "imageRef" ? StackOutput.appImageRef : StackOutput.appImageDigest;
    }
    return `${StackOutput.apps}.${slot.name}.${field}`;
}

/** ` (app <name>)` for messages about another app; nothing for a one-app stack's. */
export function ofApp(slot: AppSlot): string {
    return slot.name === "" ? "" : ` (app ${slot.name})`;
}
