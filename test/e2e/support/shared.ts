/**
 * One project copy for all e2e suites: the engine suite builds and deploys the local stack in it, and the node
 * suite rolls that same deployment under load; a second copy would only rebuild the same images.
 */
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { mkdirSync, readFileSync } from "node:fs";
import { kubectlOk } from "./machine";
import { Workspace } from "./workspace";

let shared: Workspace | undefined;

/** The project copy every suite works in, with the local stack's backend (./.pulumi) and kubeconfig set. */
export function workspace(): Workspace {
    if (shared === undefined) {
        shared = new Workspace("stacks");
        mkdirSync(path.join(shared.dir, ".pulumi"));
        Object.assign(shared.env, {
            // What `npm run up:local` uses, so the suites' own pulumi runs see the same state and cluster.
            PULUMI_BACKEND_URL: `file://${path.join(shared.dir, ".pulumi")}`,
            KUBECONFIG: path.join(shared.dir, ".slipway", "kubeconfig"),
            // No probe of Docker Hub from the test machine: the offline base is the one to use.
            SLIPWAY_OFFLINE: "1",
        });
    }
    return shared;
}

/** Removes the shared copy (the last suite calls this). */
export function disposeWorkspace(): void {
    shared?.dispose();
    shared = undefined;
}

/** A stack's outputs (`pulumi stack output --json`). */
export async function stackOutputs(ws: Workspace, stack: string): Promise<Record<string, unknown>> {
    const ran = await ws.pulumi(["stack", "output", "--stack", stack, "--json"]);
    if (ran.code !== 0) throw new Error(`stack output ${stack}: ${ran.stderr}`);
    return JSON.parse(ran.stdout) as Record<string, unknown>;
}

/** One entry of `pulumi stack history --json`, as the CLI prints it. */
export interface HistoryEntry {
    kind: string;
    result: string;
    message?: string;
    version: number;
    startTime: string;
    endTime?: string;
    resourceChanges?: Record<string, number>;
    environment?: Record<string, string>;
    config?: Record<string, { value?: string; objectValue?: unknown; secret?: boolean }>;
}

/** `pulumi stack history --json`, newest first. */
export async function stackHistory(ws: Workspace, stack: string): Promise<HistoryEntry[]> {
    const ran = await ws.pulumi(["stack", "history", "--stack", stack, "--json", "--show-secrets=false"]);
    if (ran.code !== 0) throw new Error(`stack history ${stack}: ${ran.stderr}`);
    return JSON.parse(ran.stdout) as HistoryEntry[];
}

/** The `slipway:` config of a stack file in the copy, parsed. */
export function stackFile(ws: Workspace, stack: string): Record<string, unknown> {
    return (parseYaml(readFileSync(path.join(ws.dir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
}

/**
 * A one-line change in app/src, committed: a comment appended to the entry point. The service's behaviour and its
 * tests stay the same; the sources, the compiled output and the build's git sha change, so the image is new.
 */
export function changeAppSource(ws: Workspace, what: string): string {
    ws.edit("app/src/main.ts", (t) => `${t}// ${what}\n`);
    return ws.commit(`app: ${what}`);
}

/** The kinds of object a stage puts in its namespace, as kubectl names them. */
const STAGE_KINDS =
    "deployments.apps,services,configmaps,secrets,networkpolicies.networking.k8s.io,resourcequotas,limitranges,poddisruptionbudgets.policy,horizontalpodautoscalers.autoscaling,ingresses.networking.k8s.io,servicemonitors.monitoring.coreos.com,prometheusrules.monitoring.coreos.com";

/**
 * Objects of those kinds in the namespace that the stack's state does not hold (`Kind/name`), leaving out what
 * Kubernetes makes in every namespace (the `kube-root-ca.crt` ConfigMap).
 */
export async function orphans(ws: Workspace, stack: string, namespace: string): Promise<string[]> {
    const exported = JSON.parse((await ws.pulumi(["stack", "export", "--stack", stack])).stdout);
    const held = new Set(
        (
            (exported.deployment.resources ?? []) as {
                type: string;
                outputs?: { kind?: string; metadata?: { name?: string; namespace?: string } };
            }[]
        )
            .filter((r) => r.type.startsWith("kubernetes:") && r.outputs?.metadata?.namespace === namespace)
            .map((r) => `${r.outputs!.kind}/${r.outputs!.metadata!.name}`),
    );
    const listed = JSON.parse(await kubectlOk(["-n", namespace, "get", STAGE_KINDS, "-o", "json"])).items as {
        kind: string;
        metadata: { name: string };
    }[];
    return listed.map((o) => `${o.kind}/${o.metadata.name}`).filter((id) => id !== "ConfigMap/kube-root-ca.crt" && !held.has(id));
}

/** Every resource step of a `pulumi preview --json` (or up) that is not a no-op, as `op type::name`, sorted. */
export function plannedChanges(previewJson: string): string[] {
    const preview = JSON.parse(previewJson) as { steps?: { op: string; urn: string }[] };
    return (preview.steps ?? [])
        .filter((step) => step.op !== "same")
        .map((step) => {
            // urn:pulumi:<stack>::<project>::<parent types $ type>::<name>
            const [, , types, name] = step.urn.split("::");
            return `${step.op} ${types.split("$").pop()}::${name}`;
        })
        .sort();
}
