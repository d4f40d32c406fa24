import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** One resource as the program registered it, with the inputs it passed. */
export interface CapturedResource {
    /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** Logical name. */
    name: string;
    /** URN the mock monitor gave it. */
    urn: string;
    /** Inputs as the program passed them, with Outputs resolved. */
    inputs: Record<string, any>;
    /** Provider reference, for custom resources. */
    provider?: string;
}

/** Account and region of the fake ECR registry the mocks answer with. */
export const FAKE_ECR_SERVER = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/** A deterministic fake digest, different for every distinct input. */
export function fakeDigest(...parts: unknown[]): string {
    return `sha256:${createHash("sha256").update(JSON.stringify(parts)).digest("hex")}`;
}

/**
 * Pulumi mocks that record every resource and fill the outputs real providers compute (digests,
 * repository URLs, auto-names). In preview mode the digests stay unknown, as they are in a real
 * `pulumi preview` that does not build.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: CapturedResource[] = [];
    readonly calls: pulumi.runtime.MockCallArgs[] = [];

    constructor(private readonly preview = false) {}

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const urn = `urn:pulumi:test::slipway::${args.type}::${args.name}`;
        this.resources.push({ type: args.type, name: args.name, urn, inputs: args.inputs, provider: args.provider });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...this.computed(args) } };
    }

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        this.calls.push(args);
        switch (args.token) {
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {
                    authorizationToken: Buffer.from("AWS:ecr-token-value").toString("base64"),
                    userName: "AWS",
                    password: "ecr-token-value",
                    proxyEndpoint: `https://${FAKE_ECR_SERVER}`,
                    expiresAt: "2026-11-29T12:00:00Z",
                    id: "eu-west-1",
                    region: "eu-west-1",
                };
            default:
                throw new Error(`unexpected call ${args.token}`);
        }
    }

    private computed(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
        const inputs = args.inputs;
        switch (args.type) {
            case "docker-build:index:Image":
                return this.preview ? {} : { digest: fakeDigest(args.name, inputs.buildArgs, inputs.target) };
            case "aws:ecr/repository:Repository":
                return {
                    repositoryUrl: `${FAKE_ECR_SERVER}/${inputs.name}`,
                    registryId: "123456789012",
                    arn: `arn:aws:ecr:eu-west-1:123456789012:repository/${inputs.name}`,
                };
            case "docker:index/remoteImage:RemoteImage":
                return { imageId: fakeDigest(inputs.name), repoDigest: inputs.name };
            case "docker:index/volume:Volume":
                return { name: inputs.name ?? `${args.name}-0a1b2c3` };
            default:
                if (args.type.startsWith("kubernetes:") && !args.type.startsWith("pulumi:providers:")) {
                    const metadata = inputs.metadata ?? {};
                    // The Kubernetes provider auto-names objects without metadata.name: `<name>-<random>`.
                    return { metadata: { ...metadata, name: metadata.name ?? `${args.name}-${fakeDigest(args.name).slice(7, 15)}` } };
                }
                return {};
        }
    }
}

/** Resolves an Output in a test (undefined when it is unknown, as in a preview). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
        // An unknown output never runs its apply; `isKnown` tells us that, so we do not hang.
        void (output as any).isKnown.then((known: boolean) => {
            if (!known) {
                resolve(undefined);
            }
        });
        output.apply((value) => {
            resolve(value);
            return value;
        });
    });
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as any).isSecret as Promise<boolean>;
}

/** Waits until every resource registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
    // waitForRPCs is internal but exported at runtime; `disconnect` would also tear down the mocks.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
    if (typeof settings.waitForRPCs !== "function") {
        throw new Error("@pulumi/pulumi no longer exports runtime.settings.waitForRPCs; update test/support/mocks.ts");
    }
    await settings.waitForRPCs();
}

/** Pulumi's wire marker for a secret value inside resource inputs. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** True when a captured input value is marked secret on the wire. */
export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** A captured input with its secret marker removed (returns plain values unchanged). */
export function revealInput<T = unknown>(value: unknown): T {
    return (isSecretInput(value) ? (value as { value: unknown }).value : value) as T;
}
