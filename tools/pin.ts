/**
 * Reading and writing a stage's pinned image (`slipway:image` with `source: pinned`), the only config the tools
 * change. Promotion and rollback both end here, so they write exactly the same keys.
 */
import type { StageStack } from "./stage-stack";
import { IMAGE_CONFIG_KEY } from "./history";
import { parsePinnedRef } from "./image-ref";

/** A digest-pinned image and the build metadata that travels with it. */
export interface ImagePin {
  /** `repo@sha256:<64 hex>`. */
  ref: string;
  buildNumber?: string;
  gitBranch?: string;
  gitSha?: string;
}

/** The stack's current `slipway:image` object, or `undefined` when unset or not an object. */
export async function readImageConfig(stack: StageStack): Promise<Record<string, unknown> | undefined> {
  const current = await stack.getConfig(IMAGE_CONFIG_KEY);
  if (!current) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(current.value);
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The ref the stack is pinned to now, or `undefined` when it builds (or the pin is malformed). */
export function currentPinnedRef(image: Record<string, unknown> | undefined): string | undefined {
  if (image?.source !== "pinned") {
    return undefined;
  }
  try {
    const ref = parsePinnedRef(image.ref, "image.ref");
    return `${ref.repository}@${ref.digest}`;
  } catch {
    return undefined;
  }
}

/** The path-config writes for a pin, in order: `[key, value]`, keys as `pulumi config set --path` takes them. */
export function pinWrites(pin: ImagePin): Array<[string, string]> {
  return [
    [`${IMAGE_CONFIG_KEY}.source`, "pinned"],
    [`${IMAGE_CONFIG_KEY}.ref`, pin.ref],
    [`${IMAGE_CONFIG_KEY}.buildNumber`, pin.buildNumber ?? "unknown"],
    [`${IMAGE_CONFIG_KEY}.gitBranch`, pin.gitBranch ?? "unknown"],
    [`${IMAGE_CONFIG_KEY}.gitSha`, pin.gitSha ?? "unknown"],
  ];
}

/**
 * Writes `pin` into the stack's config file. A stack that builds (dev) has build-only keys under `image`; the
 * pinned shape must not carry them, so the object is replaced rather than patched.
 */
export async function writeImagePin(
  stack: StageStack,
  pin: ImagePin,
  current: Record<string, unknown> | undefined,
): Promise<void> {
  if (current !== undefined && current.source !== "pinned") {
    await stack.removeConfig(IMAGE_CONFIG_KEY);
  }
  for (const [key, value] of pinWrites(pin)) {
    await stack.setConfig(key, value, { path: true });
  }
}

/** The same change as shell commands, for `--dry-run` output and the runbook. */
export function pinCommands(stackName: string, pin: ImagePin, current: Record<string, unknown> | undefined): string[] {
  const quote = (s: string) => (/^[A-Za-z0-9_.:@\/=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [
    ...(current !== undefined && current.source !== "pinned"
      ? [`pulumi config rm --stack ${quote(stackName)} ${IMAGE_CONFIG_KEY}`]
      : []),
    ...pinWrites(pin).map(
      ([key, value]) => `pulumi config set --stack ${quote(stackName)} --path ${quote(key)} ${quote(value)}`,
    ),
    `pulumi up --stack ${quote(stackName)} --diff`,
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
