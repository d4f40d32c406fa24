import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** One resource as the program registered it, with the inputs it passed. */
export interface CapturedResource {
    /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** Logical name. */
    name: string;
    /** URN the mock monitor gave it: stack, project, the parent chain's type tokens and the name ({@link attachUrns}). */
    urn: string;
    /** Inputs as the program passed them, with Outputs resolved. */
    inputs: Record<string, any>;
    /** The state the "provider" answered with: inputs plus computed outputs (auto-names, digests, URLs). */
    state: Record<string, any>;
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
        // The monitor computes the real URN (with the parent chain) only after this returns; see attachUrns.
        const state = { ...args.inputs, ...this.computed(args) };
        this.resources.push({ type: args.type, name: args.name, urn: "", inputs: args.inputs, state, provider: args.provider });
        return { id: `${args.name}-id`, state };
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

/** The mock monitor of the current `setMocks`: it keeps every registered resource by the URN it computed. */
function mockMonitor(): { getRegisteredResources(): Map<string, unknown>; registerResource: Function } {
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };
    const monitor = settings.getMonitor() as { getRegisteredResources?: unknown; registerResource?: unknown };
    if (typeof monitor?.getRegisteredResources !== "function" || typeof monitor.registerResource !== "function") {
        throw new Error("the Pulumi mock monitor no longer exposes getRegisteredResources; update test/support/mocks.ts");
    }
    return monitor as ReturnType<typeof mockMonitor>;
}

/**
 * Every URN registered since the last `setMocks`, as the engine builds them: `urn:pulumi:<stack>::<project>::` then
 * the parent chain's type tokens joined by `$`, then `::<name>`. Call after {@link settle}.
 */
export function registeredUrns(): string[] {
    return [...mockMonitor().getRegisteredResources().keys()];
}

/** Fills each captured resource's `urn` from the monitor's URNs, matching by type token and name. */
export function attachUrns(resources: CapturedResource[], urns: string[]): void {
    for (const r of resources) {
        const matches = urns.filter((urn) => {
            const [, , qualifiedType, name] = urn.split("::");
            return name === r.name && qualifiedType.split("$").pop() === r.type;
        });
        if (matches.length !== 1) {
            throw new Error(`expected one URN for ${r.type} ${r.name}, found ${matches.length}`);
        }
        r.urn = matches[0];
    }
}

/** The parts of a RegisterResourceRequest the tests read: resource options the mocks' newResource never sees. */
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getAliasurnsList(): string[];
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getRetainondelete(): boolean;
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

/** Resource options as the SDK sent them to the engine, by `<type>::<name>`. */
export interface SentOptions {
    /** Alias URNs (only when the SDK computes them, see {@link recordAliases}). */
    aliases: string[];
    /** Custom timeouts; empty strings where none is set. */
    customTimeouts: { create: string; update: string; delete: string };
    /** `ignoreChanges`, `replaceOnChanges` and `retainOnDelete` as sent. */
    ignoreChanges: string[];
    replaceOnChanges: string[];
    retainOnDelete: boolean;
}

/** Records the options of every registration from now on, keyed by `<type>::<name>`. Call right after `setMocks`. */
export function recordOptions(): Map<string, SentOptions> {
    const monitor = mockMonitor();
    const register = monitor.registerResource.bind(monitor);
    const sent = new Map<string, SentOptions>();
    monitor.registerResource = (req: RegisterRequest, callback: Function) => {
        const timeouts = req.getCustomtimeouts();
        sent.set(`${req.getType()}::${req.getName()}`, {
            aliases: req.getAliasurnsList(),
            customTimeouts: {
                create: timeouts?.getCreate() ?? "",
                update: timeouts?.getUpdate() ?? "",
                delete: timeouts?.getDelete() ?? "",
            },
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            retainOnDelete: req.getRetainondelete(),
        });
        return register(req, callback);
    };
    return sent;
}

/**
 * {@link recordOptions}, with alias URNs: the SDK must compute them itself (as the engine does from alias specs), so
 * the mock store is told the monitor takes URNs only.
 */
export function recordAliases(): Map<string, SentOptions> {
    const store = (require("@pulumi/pulumi/runtime/state") as { getStore(): { supportsAliasSpecs: boolean } }).getStore();
    store.supportsAliasSpecs = false;
    return recordOptions();
}

/** True when a captured input is a value unknown during preview (the mock monitor's marker for it). */
export function isUnknownInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>).__pulumiUnknown === true;
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
