/**
 * `slipway:buildImage`, `slipway:build` and `slipway:image`: how the two images are built, or which digest runs.
 */
import { z } from "zod";
import { TAG_PATTERN } from "../../components/lib/image-ref";
import { BUILD_DEFAULTS } from "../../components/defaults";
import { pinnedImageSchema } from "../../contracts";
import { pinnedImage } from "./primitives";

export const buildImageSchema = z.strictObject({
    /** The build environment's version: its tag, bumped on every Dockerfile change. */
    version: z.string().regex(TAG_PATTERN, "expected a tag such as 1.4.0"),
    baseImage: pinnedImage.default(BUILD_DEFAULTS.baseImage),
    context: z.string().min(1).default(BUILD_DEFAULTS.buildImageContext),
});

/** How both images are built: shared, so the build environment and the app image always match. */
export const buildSchema = z
    .strictObject({
        /** Build during `pulumi preview`? CI previews must not (no registry writes from pull requests). */
        buildOnPreview: z.boolean().default(BUILD_DEFAULTS.buildOnPreview),
        /**
         * buildx builder. Registry cache export needs a `docker-container` builder (or a daemon on the
         * containerd image store); scripts/local-up.sh creates one for the local stack.
         */
        builder: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "expected a buildx builder name")
            .optional(),
        platforms: z
            .array(z.enum(["linux/amd64", "linux/arm64"]))
            .min(1)
            .default(() => [...BUILD_DEFAULTS.platforms]),
    })
    .prefault({});

export const imageSchema = z.discriminatedUnion(
    "source",
    [
        z.strictObject({
            source: z.literal("build"),
            runtimeBaseImage: pinnedImage.default(BUILD_DEFAULTS.baseImage),
            context: z.string().min(1).default(BUILD_DEFAULTS.appContext),
            exportArtifactsTo: z.string().min(1).optional(),
        }),
        // The shape `promote` and `rollback` write: one schema for both sides.
        pinnedImageSchema,
    ],
    { error: "expected source to be one of: build, pinned" },
);
