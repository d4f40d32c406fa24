/**
 * `pulumi up` with fail fast: the update is cancelled as soon as one of the rollout's new pods has failed for good
 * (tools/rollout-watch.ts), and the error names the pod, the reason and its last log lines. Every command that
 * deploys (`up`, `rollback`, `promote --yes`) goes through here.
 */
import type { UpResult } from "@pulumi/pulumi/automation";
import { ExitCode, ToolError } from "./errors";
import { RolloutWatch, type PodSource } from "./rollout-watch";
import type { OperationOptions, StageStack } from "./stage-stack";

/** Options of {@link deploy}. */
export interface DeployOptions extends OperationOptions {
    /** Where the rollout's pods are read; without it the update waits out its rollout timeout as plain `pulumi up` does. */
    pods?: PodSource;
    /** Notes of the watch (a failure found, the cluster unreadable, an interrupt). */
    note(text: string): void;
    /** What the error tells the operator to do next, after a pod failed (the command's own advice). */
    nextStep: string;
    /**
     * Registers a handler for Ctrl-C and returns its removal. The terminal sends Ctrl-C to the Pulumi CLI too, which
     * then cancels and records its update: this process must outlive it, not die first and take its output pipe along.
     */
    onInterrupt?(handler: () => void): () => void;
    /** Milliseconds between two reads of a rollout's pods (tests). */
    intervalMs?: number;
}

/** Runs `stack.up`, cancelling it when a rollout pod fails for good; throws a {@link ToolError} naming that pod. */
export async function deploy(stack: StageStack, options: DeployOptions): Promise<UpResult> {
    const { pods, note, nextStep, onInterrupt, intervalMs, ...operation } = options;
    if (pods === undefined) {
        const removeInterrupt = onInterrupt?.(() => note(INTERRUPTED));
        try {
            return await stack.up(operation);
        } finally {
            removeInterrupt?.();
        }
    }
    return watched(stack, pods, operation, { note, nextStep, onInterrupt, intervalMs });
}

const INTERRUPTED =
    "\ninterrupted: Pulumi cancels the update and records what it did; waiting for it (a second Ctrl-C ends Pulumi at once, " +
    "leaving its lock and pending operations)\n";

async function watched(
    stack: StageStack,
    pods: PodSource,
    operation: OperationOptions,
    options: Pick<DeployOptions, "note" | "nextStep" | "onInterrupt" | "intervalMs">,
): Promise<UpResult> {
    const { note, nextStep } = options;
    const abort = new AbortController();
    let failure: { report: Promise<string>; unfinished: string[] } | undefined;
    let interrupted: string[] | undefined;
    const watch: RolloutWatch = new RolloutWatch(pods, {
        intervalMs: options.intervalMs,
        warn: (text) => note(`warning: ${text}`),
        onFailure: (found) => {
            // After a Ctrl-C, Pulumi is cancelling already: another SIGINT would end it before it records anything.
            if (interrupted !== undefined) return;
            failure = { report: found.report(), unfinished: watch.unfinished() };
            failure.report.catch(() => undefined);
            note(`\n${found.summary}: the rollout cannot succeed; cancelling the update\n`);
            abort.abort();
        },
    });
    // The terminal sends Ctrl-C to Pulumi too; after a cancel of ours, that is Pulumi's second SIGINT.
    const removeInterrupt = options.onInterrupt?.(() => {
        interrupted ??= watch.unfinished();
        note(
            failure === undefined
                ? INTERRUPTED
                : "\ninterrupted while Pulumi cancels: it stops at once, leaving its lock and pending operations\n",
        );
    });
    try {
        const result = await stack.up({ ...operation, signal: abort.signal, onEvent: (e) => watch.onEvent(e) });
        if (failure !== undefined) note("the update had finished before the cancel reached it: it stands\n");
        return result;
    } catch (err) {
        if (failure !== undefined) {
            await recordWhatRuns(stack, failure.unfinished, note);
            throw new ToolError(
                `the rollout of ${stack.name} failed: ${await failure.report}\nthe update was cancelled. ${nextStep}`,
                ExitCode.Failed,
            );
        }
        if (interrupted !== undefined) await recordWhatRuns(stack, interrupted, note);
        throw err;
    } finally {
        removeInterrupt?.();
        await watch.stop();
        pods.dispose?.();
    }
}

/**
 * A cancelled update records a Deployment whose step had not ended as it was before, while the cluster already runs
 * its new template: the state would say the old release runs, and the fix (setting the old value back) would change
 * nothing. A refresh of those Deployments records what the cluster runs (the kubernetes provider reads the live
 * object back, with its init errors), so the next `up` or `rollback` rolls away from it; the e2e suite checks this
 * on the real engine.
 */
async function recordWhatRuns(stack: StageStack, urns: string[], note: (text: string) => void): Promise<void> {
    if (urns.length === 0) return;
    try {
        await stack.refresh({ target: urns });
    } catch (err) {
        note(`warning: could not record the failed template in the stack's state (${String(err).split("\n")[0]}): run pulumi refresh\n`);
    }
}
