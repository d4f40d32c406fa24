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
    /** Notes of the watch (a failure found, the cluster unreadable). */
    note(text: string): void;
    /** Milliseconds between two reads of a rollout's pods (tests). */
    intervalMs?: number;
}

/** Runs `stack.up`, cancelling it when a rollout pod fails for good; throws a {@link ToolError} naming that pod. */
export async function deploy(stack: StageStack, options: DeployOptions): Promise<UpResult> {
    const { pods, note, intervalMs, ...operation } = options;
    if (pods === undefined) return stack.up(operation);
    const abort = new AbortController();
    let failure: { report: string; urn: string } | undefined;
    const watch = new RolloutWatch(pods, {
        intervalMs,
        warn: (text) => note(`warning: ${text}`),
        onFailure: (report, urn) => {
            failure = { report, urn };
            note(`\n${report.split("\n")[0]}: the rollout cannot succeed; cancelling the update\n`);
            abort.abort();
        },
    });
    try {
        return await stack.up({ ...operation, signal: abort.signal, onEvent: (e) => watch.onEvent(e) });
    } catch (err) {
        if (failure === undefined) throw err;
        await recordWhatRuns(stack, failure.urn, note);
        throw new ToolError(
            `the rollout of ${stack.name} failed: ${failure.report}\n` +
                `the update was cancelled; the pods that ran before keep serving. Fix the change and deploy again, or roll ` +
                `back to an earlier image (npm run rollback -- --stack ${stack.name})`,
            ExitCode.Failed,
        );
    } finally {
        await watch.stop();
    }
}

/**
 * A cancelled update records the Deployment as it was before, while the cluster already runs the new template: the
 * state would then say the old release runs, and the fix (setting the old value back) would change nothing. Reading
 * the Deployment back records the failed template, so the next `up` or `rollback` rolls away from it.
 */
async function recordWhatRuns(stack: StageStack, urn: string, note: (text: string) => void): Promise<void> {
    try {
        await stack.refresh({ target: [urn] });
    } catch (err) {
        note(`warning: could not record the failed template in the stack's state (${String(err).split("\n")[0]}): run pulumi refresh\n`);
    }
}
