/**
 * The pinned image: `slipway:image` with `source: pinned`, the one config value the tools write. The stack config
 * schema parses it with this schema, and `promote`/`rollback` build and read pins with it, so a pin the tools write
 * is always one the program accepts.
 */
import { z } from "zod";
import { isDigestPinned } from "../components/lib/image-ref";

/** The stack config key holding the image settings of the stack's first app (`slipway:app`). */
export const IMAGE_CONFIG_KEY = "slipway:image";

/** The stack config key holding a stage's other apps, by name, each with its own `image`. */
export const APPS_CONFIG_KEY = "slipway:apps";

/** The config key of the stack's first app, whose `name` says which app `slipway:image` is the image of. */
export const APP_CONFIG_KEY = "slipway:app";

/** Provenance recorded when it is not known. */
export const UNKNOWN = "unknown";

/** An image reference pinned by digest: `<repository>[:tag]@sha256:<64 hex>`. */
export const digestPinnedImage = z
    .string()
    .refine(isDigestPinned, "expected an image pinned by digest: <repository>[:tag]@sha256:<64 hex digits>");

/**
 * Where a pinned image came from. `pulumi config set --path image.buildNumber 41` stores a number (and a branch named
 * `true` a boolean), so numbers and booleans are accepted and kept as text.
 */
const provenance = z
    .union([z.string().min(1), z.number().int().nonnegative(), z.boolean()], {
        error: "expected text such as a build number, branch or commit",
    })
    .transform(String)
    .default(UNKNOWN);

/** `{ source: pinned, ref, buildNumber, gitBranch, gitSha }`; provenance defaults to {@link UNKNOWN}. */
export const pinnedImageSchema = z.strictObject({
    source: z.literal("pinned"),
    ref: digestPinnedImage,
    buildNumber: provenance,
    gitBranch: provenance,
    gitSha: provenance,
});

/** A parsed pin: every field a string. */
export type PinnedImage = z.output<typeof pinnedImageSchema>;
