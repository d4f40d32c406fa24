/**
 * `slipway:registry`: where images are pushed, one shape per registry type.
 */
import { z } from "zod";
import { REGISTRY_DEFAULTS } from "../../components/defaults";
import { TAG_PATTERN } from "../../components/lib/image-ref";
import { pinnedImage, port, registryHost } from "./primitives";

/** Repository names, shared by every registry type. */
const repositories = {
    /** Repository of the application image. Defaults to the app name. */
    appRepository: z
        .string()
        .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "expected a repository path")
        .optional(),
    /** Repository of the shared build environment image. */
    buildRepository: z
        .string()
        .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "expected a repository path")
        .default(REGISTRY_DEFAULTS.buildRepository),
};

export const registrySchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("local"),
            port: port.default(REGISTRY_DEFAULTS.localPort),
            image: pinnedImage.default(REGISTRY_DEFAULTS.localImage),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("ecr"),
            lifecycle: z
                .strictObject({
                    untaggedExpiryDays: z
                        .number()
                        .int()
                        .min(1, "expected at least 1 day")
                        .default(REGISTRY_DEFAULTS.lifecycle.untaggedExpiryDays),
                    keepLastPerPrefix: z
                        .number()
                        .int()
                        .min(1, "expected at least 1 image")
                        .default(REGISTRY_DEFAULTS.lifecycle.keepLastPerPrefix),
                    tagPrefixes: z
                        .array(z.string().regex(TAG_PATTERN, "expected a tag prefix"))
                        .min(1)
                        .default(() => [...REGISTRY_DEFAULTS.lifecycle.tagPrefixes]),
                })
                .prefault({}),
            kmsKeyArn: z.string().startsWith("arn:", "expected a KMS key ARN").optional(),
            forceDelete: z.boolean().default(REGISTRY_DEFAULTS.forceDelete),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("external"),
            server: registryHost,
            /** Without a username the registry is open: no credentials at all (e.g. plain HTTP on 127.0.0.1:5001). */
            username: z.string().min(1, "expected the registry user name").optional(),
            ...repositories,
        }),
    ],
    { error: "expected type to be one of: local, ecr, external" },
);
