import type { BuildMetadata } from "./tags";

/**
 * The image labels that carry an app image's build metadata. AppImage sets them (and app/Dockerfile's LABEL lines
 * name the same keys); rollback reads them back from the registry, so a restored pin carries exactly the metadata the
 * image was built with, and Kubernetes finds the earlier pod template (and ReplicaSet) unchanged.
 */
export const IMAGE_LABELS: { readonly [K in keyof BuildMetadata]: string } = {
    buildNumber: "dev.slipway.build-number",
    gitBranch: "dev.slipway.git-branch",
    gitSha: "org.opencontainers.image.revision",
};

/** The build metadata recorded in an image's labels; a field is absent where its label is. */
export function metadataFromLabels(labels: Record<string, string>): Partial<BuildMetadata> {
    const entries = Object.entries(IMAGE_LABELS).flatMap(([field, label]) => (labels[label] ? [[field, labels[label]]] : []));
    return Object.fromEntries(entries) as Partial<BuildMetadata>;
}
