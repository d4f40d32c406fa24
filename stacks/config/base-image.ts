/**
 * `SLIPWAY_BASE_IMAGE`: the base both images start FROM where the stack file leaves it at the default. The local
 * loop sets it (through scripts/local-env.sh) to the offline base it built when Docker Hub cannot be reached, so
 * that machine-specific digest never has to be written into the tracked Pulumi.local.yaml.
 */
import { StackConfigError } from "./parse";
import { pinnedImage } from "./primitives";

/** The environment variable, named in errors. */
export const BASE_IMAGE_ENV = "SLIPWAY_BASE_IMAGE";

/**
 * Returns `raw` (decoded stack config) with `buildImage.baseImage` and a building `image.runtimeBaseImage` set to the
 * environment's base image where the stack file does not set them. Values in the stack file always win. Throws a
 * {@link StackConfigError} naming the variable when it is set but is not an image pinned by digest.
 */
export function withBaseImageFromEnv(raw: Record<string, unknown>, env: Record<string, string | undefined>): Record<string, unknown> {
    const base = env[BASE_IMAGE_ENV];
    if (base === undefined || base === "") {
        return raw;
    }
    const parsed = pinnedImage.safeParse(base);
    if (!parsed.success) {
        throw new StackConfigError([
            `${BASE_IMAGE_ENV} (environment): ${parsed.error.issues.map((i) => i.message).join("; ")}, got ${JSON.stringify(base)}`,
        ]);
    }
    const result = { ...raw };
    const buildImage = raw.buildImage;
    if (isObject(buildImage) && buildImage.baseImage === undefined) {
        result.buildImage = { ...buildImage, baseImage: base };
    }
    const image = raw.image;
    if (isObject(image) && image.source === "build" && image.runtimeBaseImage === undefined) {
        result.image = { ...image, runtimeBaseImage: base };
    }
    return result;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
