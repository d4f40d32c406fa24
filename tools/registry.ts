/**
 * Resolving image tags and digests against a registry with the Docker Registry HTTP API v2
 * (`HEAD /v2/<name>/manifests/<reference>`, digest in `Docker-Content-Digest`).
 *
 * Requests go through node:http / node:https, not the global `fetch`: the fetch standard blocks a list of ports
 * (5060, 5061, 6000, 6665–6669, 10080, …) and fails there with a bare "fetch failed", while a local registry may
 * well listen on one of them.
 */
import * as http from "node:http";
import * as https from "node:https";
import { isDigest, isTag, splitRepository } from "./image-ref";

/** Looks up manifests in a registry. */
export interface RegistryClient {
    /**
     * The manifest digest of `repository` (`host[:port]/path`) at `reference` (a tag or a digest), or `undefined`
     * when the registry has no such manifest.
     */
    resolve(repository: string, reference: string): Promise<string | undefined>;
    /**
     * The labels in the image config of `repository@digest` (for an index, of its linux/amd64 image), or `undefined`
     * when the registry has no such manifest.
     */
    labels(repository: string, digest: string): Promise<Record<string, string> | undefined>;
}

/** The parts of an image index the client reads. */
interface ImageIndex {
    manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
}

/** The part of an image manifest the client reads. */
interface ImageManifest {
    config?: { digest: string };
}

/**
 * Media types accepted for the manifest. Indexes come first: buildx pushes an OCI index (image plus attestations),
 * and the digest AppImage records is the index's. Without them a registry may answer with a converted manifest
 * whose digest differs from the pushed one.
 */
export const MANIFEST_MEDIA_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
] as const;

/** Credentials for a registry: a bearer token as is, or a username and password (basic, or traded for a token). */
export type RegistryCredentials = { token: string } | { username: string; password: string };

/** Options of {@link HttpRegistryClient}. */
export interface HttpRegistryClientOptions {
    credentials?: RegistryCredentials;
    /** Use plain HTTP for every registry (a local `registry:2` without TLS). Loopback hosts always use HTTP. */
    insecure?: boolean;
    /** Per-request timeout in milliseconds. */
    timeoutMs?: number;
}

/**
 * Reads registry credentials from the environment: `SLIPWAY_REGISTRY_TOKEN`, or `SLIPWAY_REGISTRY_USERNAME` with
 * `SLIPWAY_REGISTRY_PASSWORD` (for ECR: `AWS` and the output of `aws ecr get-login-password`).
 */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv): HttpRegistryClientOptions {
    const insecure = env.SLIPWAY_REGISTRY_INSECURE === "true" || env.SLIPWAY_REGISTRY_INSECURE === "1";
    if (env.SLIPWAY_REGISTRY_TOKEN) {
        return { insecure, credentials: { token: env.SLIPWAY_REGISTRY_TOKEN } };
    }
    if (env.SLIPWAY_REGISTRY_USERNAME && env.SLIPWAY_REGISTRY_PASSWORD) {
        return {
            insecure,
            credentials: { username: env.SLIPWAY_REGISTRY_USERNAME, password: env.SLIPWAY_REGISTRY_PASSWORD },
        };
    }
    return { insecure };
}

/** Parses a `WWW-Authenticate` challenge such as `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
    const space = header.indexOf(" ");
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const params: Record<string, string> = {};
    const re = /([a-zA-Z_]+)="([^"]*)"/g;
    for (let m = re.exec(header); m; m = re.exec(header)) {
        params[m[1].toLowerCase()] = m[2];
    }
    return { scheme, params };
}

const LOOPBACK = /^(localhost|127(?:\.[0-9]+){3}|\[::1\])(?::[0-9]+)?$/;

/** A response read whole: registry answers are headers or small JSON documents. */
export interface HttpResponse {
    status: number;
    statusText: string;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
}

/** Redirects followed per request, as many as `fetch` follows. */
const MAX_REDIRECTS = 20;

/** The first value of a response header, lower-case `name`. */
function header(response: HttpResponse, name: string): string | undefined {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
}

/**
 * One HTTP(S) exchange, body included, within `timeoutMs`. Network failures are reported with the URL and the
 * cause (`connect ECONNREFUSED 127.0.0.1:6666`), never a bare "failed".
 */
export function httpRequest(method: string, url: URL, headers: Record<string, string>, timeoutMs: number): Promise<HttpResponse> {
    const client = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const fail = (cause: string) => reject(new Error(`${method} ${url.href} failed: ${cause}`));
        const req = client.request(url, { method, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
                clearTimeout(timer);
                resolve({
                    status: res.statusCode ?? 0,
                    statusText: res.statusMessage ?? "",
                    headers: res.headers,
                    body: Buffer.concat(chunks),
                });
            });
            res.on("error", (err) => fail(err.message));
        });
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        req.on("error", (err: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            fail(err.message || err.code || String(err));
        });
        req.end();
    });
}

/**
 * {@link httpRequest}, following redirects as `fetch` does (`redirect: "follow"`, at most 20): the method is kept
 * (only HEAD and GET are sent, which fetch keeps on every redirect status), and `Authorization` is dropped when the
 * redirect leaves the origin (registries send blob downloads to storage that must not see their credentials).
 */
export async function httpRequestFollowing(
    method: string,
    url: URL,
    headers: Record<string, string>,
    timeoutMs: number,
): Promise<HttpResponse> {
    let current = url;
    let currentHeaders = headers;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const response = await httpRequest(method, current, currentHeaders, timeoutMs);
        const location = header(response, "location");
        if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined) {
            return response;
        }
        const next = new URL(location, current);
        if (next.origin !== current.origin) {
            currentHeaders = Object.fromEntries(Object.entries(currentHeaders).filter(([k]) => k.toLowerCase() !== "authorization"));
        }
        current = next;
    }
    throw new Error(`${method} ${url.href} failed: more than ${MAX_REDIRECTS} redirects`);
}

/** {@link RegistryClient} over HTTP(S) with node:http and node:https. */
export class HttpRegistryClient implements RegistryClient {
    constructor(private readonly options: HttpRegistryClientOptions = {}) {}

    async resolve(repository: string, reference: string): Promise<string | undefined> {
        if (!isDigest(reference) && !isTag(reference)) {
            throw new Error(`${JSON.stringify(reference)} is neither a tag nor a sha256 digest`);
        }
        const response = await this.request("HEAD", repository, `manifests/${reference}`);
        if (response === undefined) {
            return undefined;
        }
        const digest = header(response, "docker-content-digest");
        if (!isDigest(digest)) {
            throw new Error(`registry sent no valid Docker-Content-Digest for ${repository}:${reference} (got ${JSON.stringify(digest)})`);
        }
        if (isDigest(reference) && digest !== reference) {
            throw new Error(`registry answered ${digest} for ${repository}@${reference}`);
        }
        return digest;
    }

    async labels(repository: string, digest: string): Promise<Record<string, string> | undefined> {
        if (!isDigest(digest)) {
            throw new Error(`${JSON.stringify(digest)} is not a sha256 digest`);
        }
        let manifest = await this.json<ImageManifest & ImageIndex>(repository, `manifests/${digest}`);
        if (manifest?.manifests) {
            // An index (what buildx pushes: the image plus attestation manifests): the linux/amd64 image is the one
            // Slipway builds and runs.
            const image = manifest.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64");
            manifest = image && (await this.json<ImageManifest & ImageIndex>(repository, `manifests/${image.digest}`));
        }
        const config = manifest?.config?.digest;
        if (config === undefined) {
            return undefined;
        }
        const blob = await this.json<{ config?: { Labels?: Record<string, string> | null } }>(repository, `blobs/${config}`);
        return blob?.config?.Labels ?? {};
    }

    /** GETs a JSON document of the registry API; `undefined` on 404. */
    private async json<T>(repository: string, apiPath: string): Promise<T | undefined> {
        const response = await this.request("GET", repository, apiPath);
        return response === undefined ? undefined : (JSON.parse(response.body.toString("utf8")) as T);
    }

    /**
     * One request to `/v2/<path>/<apiPath>` of the repository's registry, answering an auth challenge once.
     * `undefined` on 404; an error naming the fix on 401/403, and on anything else that is not 200.
     */
    private async request(method: "HEAD" | "GET", repository: string, apiPath: string): Promise<HttpResponse | undefined> {
        const { registry, path } = splitRepository(repository);
        if (!registry) {
            throw new Error(`repository ${repository} names no registry host`);
        }
        const scheme = this.options.insecure || LOOPBACK.test(registry) ? "http" : "https";
        const url = `${scheme}://${registry}/v2/${path}/${apiPath}`;
        let response = await this.send(registry, method, url, this.initialAuthorization());
        if (response.status === 401 && !(this.options.credentials && "token" in this.options.credentials)) {
            const challenge = parseChallenge(header(response, "www-authenticate") ?? "");
            const authorization = await this.answer(challenge, path);
            if (authorization) {
                response = await this.send(registry, method, url, authorization);
            }
        }
        if (response.status === 404) {
            return undefined;
        }
        if (response.status === 401 || response.status === 403) {
            throw new Error(
                `registry ${registry} refused access (${response.status}) to ${path}: set SLIPWAY_REGISTRY_USERNAME and ` +
                    "SLIPWAY_REGISTRY_PASSWORD (or SLIPWAY_REGISTRY_TOKEN) to credentials that may pull",
            );
        }
        if (response.status !== 200) {
            throw new Error(`registry answered ${response.status} ${response.statusText} for ${method} ${url}`);
        }
        return response;
    }

    private initialAuthorization(): string | undefined {
        const creds = this.options.credentials;
        return creds && "token" in creds ? `Bearer ${creds.token}` : undefined;
    }

    /**
     * Answers a 401 challenge: basic credentials directly, or a bearer token from the challenge's realm (traded for
     * the basic credentials, or anonymous when there are none, as public registries allow). `undefined` when
     * there is nothing to answer with.
     */
    private async answer(challenge: ReturnType<typeof parseChallenge>, path: string): Promise<string | undefined> {
        const creds = this.options.credentials as { username: string; password: string } | undefined;
        const basic = creds && `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
        if (challenge.scheme !== "bearer") {
            return basic;
        }
        const realm = challenge.params.realm;
        if (!realm) {
            throw new Error("registry asked for a bearer token without a realm");
        }
        const tokenUrl = new URL(realm);
        if (challenge.params.service) {
            tokenUrl.searchParams.set("service", challenge.params.service);
        }
        tokenUrl.searchParams.set("scope", challenge.params.scope ?? `repository:${path}:pull`);
        let response: HttpResponse;
        try {
            response = await httpRequestFollowing("GET", tokenUrl, basic ? { Authorization: basic } : {}, this.timeoutMs());
        } catch (err) {
            throw new Error(`cannot reach the token service of registry ${tokenUrl.host}: ${(err as Error).message}`);
        }
        if (response.status < 200 || response.status > 299) {
            throw new Error(`token service ${tokenUrl.origin} answered ${response.status} ${response.statusText}`);
        }
        const body = JSON.parse(response.body.toString("utf8")) as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (!token) {
            throw new Error("token service sent no token");
        }
        return `Bearer ${token}`;
    }

    /** One request to the registry; a network failure names the registry, the URL and the cause. */
    private async send(registry: string, method: "HEAD" | "GET", url: string, authorization: string | undefined): Promise<HttpResponse> {
        const headers: Record<string, string> = { Accept: MANIFEST_MEDIA_TYPES.join(", ") };
        if (authorization) {
            headers.Authorization = authorization;
        }
        try {
            return await httpRequestFollowing(method, new URL(url), headers, this.timeoutMs());
        } catch (err) {
            throw new Error(`cannot reach registry ${registry}: ${(err as Error).message}`);
        }
    }

    private timeoutMs(): number {
        return this.options.timeoutMs ?? 15_000;
    }
}
