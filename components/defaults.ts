/**
 * The components' defaults, in one place: each component applies them to the arguments it is not given, and the
 * stack config schema defaults its keys to the same values. Base images are published ones pinned by digest (real,
 * pullable defaults: tests build stand-ins and pass them through the same settings, never a tag).
 */
import { TAG_PREFIX } from "../contracts";

/** node:24-bookworm-slim (Node 24.18.0), the build environment's and the runtime's base. */
export const NODE_24_BOOKWORM_SLIM = "node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d";

/** The CNCF distribution registry 2.8.3 (multi-arch index), for `registry.type: local`. */
export const REGISTRY_2 = "docker.io/library/registry:2.8.3@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373";

/** Registry defaults. */
export const REGISTRY_DEFAULTS = {
    /** Repository of the shared build environment image. */
    buildRepository: "slipway-build-env",
    /** Host port of a local registry, on 127.0.0.1. */
    localPort: 5001,
    /** Image of a local registry. */
    localImage: REGISTRY_2,
    /** ECR image lifecycle: untagged images expire after a week; the last 30 CI builds are kept. */
    lifecycle: { untaggedExpiryDays: 7, keepLastPerPrefix: 30, tagPrefixes: [`${TAG_PREFIX.build}-`] as string[] },
    /** ECR repositories that still hold images survive `pulumi destroy`. */
    forceDelete: false,
};

/** Defaults of both image builds (BuildImage and AppImage). */
export const BUILD_DEFAULTS = {
    /** Base of the build environment and of the app's runtime stage. */
    baseImage: NODE_24_BOOKWORM_SLIM,
    /** Build context of the build environment. */
    buildImageContext: "build-image",
    /** Build context of the app. */
    appContext: "app",
    /** Target platforms of both images. */
    platforms: ["linux/amd64" as const],
    /** Previews never build (and never push) unless asked to. */
    buildOnPreview: false,
    /** The app's Dockerfile, relative to its build context. */
    dockerfile: "Dockerfile",
    /**
     * The app Dockerfile's targets: `runtime` is built, pushed and deployed; `artifact` is exported where asked; `test`
     * is the one CI builds to run the app's tests (the sample's `artifact` stage needs its `compile` and `test` stages).
     */
    targets: { runtime: "runtime", artifact: "artifact", test: "artifact" },
    /** Build arg that carries the build environment by digest into the app's Dockerfile. */
    buildImageArg: "BUILD_IMAGE",
    /** Build arg that carries the runtime base image by digest into the app's Dockerfile. */
    runtimeBaseImageArg: "RUNTIME_BASE_IMAGE",
};

/** AppDeployment defaults. */
export const APP_DEFAULTS = {
    /** Desired replicas. */
    replicas: 1,
    /** The app's container port (the sample service's `PORT`). */
    port: 8080,
    /** The `/metrics` container port (the sample service's `METRICS_PORT`). */
    metricsPort: 9464,
    /** preStop sleep: time for endpoints to drop the pod before SIGTERM. */
    preStopSeconds: 5,
    /** Time the app stays up not-ready after SIGTERM. */
    drainSeconds: 2,
    /** Time the app gives in-flight requests once it stops accepting. */
    shutdownTimeoutSeconds: 10,
    /** Spread over nodes when possible, never refusing to schedule. */
    topologySpread: "soft" as "soft" | "hard",
    /** Local disk per container: room for the 64Mi `/tmp` volume and the kubelet's rotated logs. */
    ephemeralStorage: { request: "128Mi", limit: "256Mi" },
    /** Seconds a rollout may make no progress before Kubernetes (and then `pulumi up`) reports it failed. */
    rolloutTimeoutSeconds: 300,
    /**
     * HTTP probes on the `http` port: startup gives a slow start 30 s before liveness counts; readiness takes the pod out
     * of rotation after 2 failures (10 s); liveness restarts it after 3 (30 s). Startup leaves `timeoutSeconds` to
     * Kubernetes (1 s).
     */
    probes: {
        startup: { path: "/healthz", periodSeconds: 1, failureThreshold: 30 } as ProbeDefaults,
        readiness: { path: "/readyz", periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 } as ProbeDefaults,
        liveness: { path: "/healthz", periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 } as ProbeDefaults,
    },
    /** The numeric, non-root user (and group) the container runs as: the sample's runtime image's `USER`. */
    runAsUser: 10001,
    /** The label of the request counter that carries the HTTP status code. */
    statusLabel: "status",
};

/** One probe's settings, as the defaults hold them. */
interface ProbeDefaults {
    path: string;
    periodSeconds: number;
    failureThreshold: number;
    timeoutSeconds?: number;
}
