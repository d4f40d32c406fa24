/**
 * Readiness state shared by the probes and the shutdown sequence.
 *
 * `starting` and `draining` both answer 503 on /readyz: Kubernetes must not route traffic to a pod before its
 * listeners are up, and must stop routing to it as soon as it has been asked to terminate.
 */
export type Phase = "starting" | "ready" | "draining";

export class Lifecycle {
    #phase: Phase = "starting";
    readonly #listeners = new Set<(phase: Phase) => void>();

    get phase(): Phase {
        return this.#phase;
    }

    get ready(): boolean {
        return this.#phase === "ready";
    }

    /** Called once both servers listen. Has no effect once draining: a late start must not undo a SIGTERM. */
    markReady(): void {
        if (this.#phase === "starting") this.#set("ready");
    }

    markDraining(): void {
        this.#set("draining");
    }

    /** Subscribes to phase changes (used for the readiness gauge). */
    onChange(listener: (phase: Phase) => void): void {
        this.#listeners.add(listener);
    }

    #set(phase: Phase): void {
        this.#phase = phase;
        for (const listener of this.#listeners) listener(phase);
    }
}
