/**
 * `slipway:buildImage`, `slipway:build` and `slipway:image`: how the two images are built, or which digest runs.
 */
import { z } from "zod";
import { TAG_PATTERN } from "../../components/lib/image-ref";
import { BUILD_DEFAULTS } from "../../components/defaults";
import { pinnedImageSchema, SLIPWAY_BUILD_ARGS } from "../../contracts";
import { buildArgName, pinnedImage, targetName } from "./primitives";

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
        z
            .strictObject({
                source: z.literal("build"),
                runtimeBaseImage: pinnedImage.default(BUILD_DEFAULTS.baseImage),
                context: z.string().min(1).default(BUILD_DEFAULTS.appContext),
                /** The Dockerfile, relative to the context. */
                dockerfile: z
                    .string()
                    .regex(/^[^/\0][^\0]*$/, "expected a path relative to image.context, such as Dockerfile or docker/Dockerfile.prod")
                    .default(BUILD_DEFAULTS.dockerfile),
                targets: z
                    .strictObject({
                        /** Built, pushed and deployed. */
                        runtime: targetName.default(BUILD_DEFAULTS.targets.runtime),
                        /** Exported to exportArtifactsTo, where that is set. */
                        artifact: targetName.default(BUILD_DEFAULTS.targets.artifact),
                        /** What CI builds to run the app's tests (the program never builds it). */
                        test: targetName.default(BUILD_DEFAULTS.targets.test),
                    })
                    .prefault({}),
                /** The app's own build args; never one Slipway passes (checked below). */
                buildArgs: z.record(buildArgName, z.string({ error: "expected text (quote numbers in YAML)" })).default({}),
                buildImageArg: buildArgName.default(BUILD_DEFAULTS.buildImageArg),
                runtimeBaseImageArg: buildArgName.default(BUILD_DEFAULTS.runtimeBaseImageArg),
                exportArtifactsTo: z.string().min(1).optional(),
            })
            // Runs even when other image keys are bad (one error names them all); reads each value only if it is text.
            .superRefine(
                (image, ctx) => {
                    const raw = image as Record<string, unknown>;
                    const text = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
                    const buildImageArg = text(raw.buildImageArg, BUILD_DEFAULTS.buildImageArg);
                    const runtimeBaseImageArg = text(raw.runtimeBaseImageArg, BUILD_DEFAULTS.runtimeBaseImageArg);
                    if (buildImageArg === runtimeBaseImageArg) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["runtimeBaseImageArg"],
                            message: `expected a name different from image.buildImageArg (${buildImageArg})`,
                        });
                    }
                    const passed = new Set<string>([buildImageArg, runtimeBaseImageArg, ...SLIPWAY_BUILD_ARGS]);
                    const buildArgs = typeof raw.buildArgs === "object" && raw.buildArgs !== null ? Object.keys(raw.buildArgs) : [];
                    for (const name of buildArgs.filter((n) => passed.has(n))) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["buildArgs", name],
                            message: `is passed by Slipway itself (${[...passed].join(", ")}); choose another name`,
                        });
                    }
                },
                { when: (payload) => typeof payload.value === "object" && payload.value !== null },
            ),
        // The shape `promote` and `rollback` write: one schema for both sides.
        pinnedImageSchema,
    ],
    { error: "expected source to be one of: build, pinned" },
);
