/** What the commands need from the outside world; tests pass fakes, `main.ts` passes the real things. */
import type { RegistryClient } from "./registry";
import type { PodSource } from "./rollout-watch";
import type { StageStack } from "./stage-stack";
import type { OpMap } from "@pulumi/pulumi/automation";

/** Dependencies of every command. */
export interface ToolContext {
    /** Selects an existing stack by name (`dev`, `qa`, `prod`, …). */
    openStack(name: string): Promise<StageStack>;
    /** Manifest lookups for rollback of building stacks and for `--digest`. */
    registry: RegistryClient;
    /**
     * Reads the pods of a stack's cluster, so that a deploy fails fast on a pod that cannot start. Without it,
     * deploys wait out their rollout timeout as plain `pulumi up` does.
     */
    podsFor?(stack: string): Promise<PodSource>;
    /**
     * Registers a Ctrl-C handler for the time a deploy runs and returns its removal (see `DeployOptions.onInterrupt`).
     */
    onInterrupt?(handler: () => void): () => void;
    /** Writes to stdout (results). */
    out(text: string): void;
    /** Writes to stderr (progress notes, warnings, errors). */
    err(text: string): void;
}

/** `+2 ~1 -0 ±0 =14`: created, updated, deleted, replaced, unchanged. */
export function formatChanges(changes: OpMap | undefined): string {
    const c = changes ?? {};
    const n = (k: keyof OpMap) => c[k] ?? 0;
    return `+${n("create")} ~${n("update")} -${n("delete")} ±${n("replace")} =${n("same")}`;
}
