/**
 * Published base images, pinned by digest. Real, pullable defaults: tests build stand-ins and pass
 * them through the same settings, so nothing here is ever replaced by a tag.
 */

/** node:24-bookworm-slim (Node 24.18.0), the build environment's and the runtime's base. */
export const NODE_24_BOOKWORM_SLIM = "node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d";

/** The CNCF distribution registry 2.8.3 (multi-arch index), for `registry.type: local`. */
export const REGISTRY_2 = "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373";
