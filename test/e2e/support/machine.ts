/**
 * The real machinery around the engine, as the e2e suites observe it: BuildKit's build history, the registry's
 * digests, the node's API server (kubectl), and the app's NodePort on 127.0.0.1.
 */
import * as path from "node:path";
import { HttpRegistryClient } from "../../../tools/registry";
import { fromEnv, ok, run, type Ran } from "./workspace";

const stateDir = () => process.env.SLIPWAY_STATE_DIR ?? "/var/lib/slipway";

/** Builds BuildKit has recorded (its history API): a build during a step shows as a new record. */
export async function buildkitBuilds(): Promise<string[]> {
    const ran = ok(
        await run("buildctl", ["--addr", `unix://${path.join(stateDir(), "buildkit", "buildkitd.sock")}`, "debug", "histories"]),
        "buildctl debug histories",
    );
    // One line per record after the header: REF  NAME  CREATED AT  COMPLETED AT  …
    return ran.stdout
        .split("\n")
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[0])
        .filter((ref) => ref !== undefined && ref !== "");
}

/** The manifest digest the registry serves for `repository:reference` (`Docker-Content-Digest`). */
export async function registryDigest(repository: string, reference: string): Promise<string | undefined> {
    return new HttpRegistryClient().resolve(repository, reference);
}

/** kubectl against the node the suites run on. */
export function kubectl(args: string[], input?: string): Promise<Ran> {
    return run("kubectl", args, { input, env: { ...process.env, KUBECONFIG: fromEnv("KUBECONFIG") } });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
    return ok(await kubectl(args, input), `kubectl ${args.join(" ")}`).stdout;
}

/** `GET http://127.0.0.1:<port><path>` with a short timeout: status and body, or status 0 when nothing answered. */
export async function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
    try {
        const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(5000) });
        return { status: response.status, body: await response.text() };
    } catch {
        return { status: 0, body: "" };
    }
}

/** The git sha the app's `GET /` on 127.0.0.1:<port> reports, or undefined when it did not answer 200. */
export async function answeredSha(port: number): Promise<string | undefined> {
    const answer = await get(port, "/");
    return answer.status === 200 ? (JSON.parse(answer.body) as { gitSha?: string }).gitSha : undefined;
}

/** The image the app's Deployment in a namespace runs (its pod template's container image). */
export async function deployedImage(namespace: string, deployment = "hello"): Promise<string> {
    return kubectlOk(["-n", namespace, "get", "deploy", deployment, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
}

/** The namespace's pods that are not terminating, as `kubectl get pods -o json` has them. */
export async function activePods(namespace: string): Promise<any[]> {
    const pods = JSON.parse(await kubectlOk(["-n", namespace, "get", "pods", "-o", "json"])).items as any[];
    return pods.filter((p) => !p.metadata.deletionTimestamp);
}

/**
 * Checks `seen` every 500 ms (a failing check counts as not seen) until it is true or `stop()` is called; `stop()`
 * gives the wall-clock ms it first was, if it was.
 */
export function firstSeen(seen: () => Promise<boolean>): { stop(): Promise<number | undefined> } {
    let seenAt: number | undefined;
    let stopped = false;
    const loop = (async () => {
        while (!stopped && seenAt === undefined) {
            if (await seen().catch(() => false)) seenAt = Date.now();
            else await new Promise((r) => setTimeout(r, 500));
        }
    })();
    return {
        async stop() {
            stopped = true;
            await loop;
            return seenAt;
        },
    };
}
