/**
 * `slipway:registry`: where images are pushed, one shape per registry type.
 */
import { z } from "zod";
import { DEFAULT_LIFECYCLE_PREFIXES } from "../../components/lib/ecr-lifecycle";
import { TAG_PATTERN } from "../../components/lib/image-ref";
import { REGISTRY_2 } from "../defaults";
import { pinnedImage, port } from "./primitives";

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
        .default("slipway-build-env"),
};

export const registrySchema = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("local"),
            port: port.default(5001),
            image: pinnedImage.default(REGISTRY_2),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("ecr"),
            lifecycle: z
                .strictObject({
                    untaggedExpiryDays: z.number().int().min(1, "expected at least 1 day").default(7),
                    keepLastPerPrefix: z.number().int().min(1, "expected at least 1 image").default(30),
                    tagPrefixes: z.array(z.string().regex(TAG_PATTERN, "expected a tag prefix")).min(1).default(DEFAULT_LIFECYCLE_PREFIXES),
                })
                .prefault({}),
            kmsKeyArn: z.string().startsWith("arn:", "expected a KMS key ARN").optional(),
            forceDelete: z.boolean().default(false),
            ...repositories,
        }),
        z.strictObject({
            type: z.literal("external"),
            server: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?$/, "expected a registry host such as registry.example.com or host:5000"),
            username: z.string().min(1, "expected the registry user name"),
            ...repositories,
        }),
    ],
    { error: "expected type to be one of: local, ecr, external" },
);
