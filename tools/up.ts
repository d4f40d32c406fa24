/**
 * `up --stack <stack>`: `pulumi up` of one stage that fails within 30 s when a new pod of the rollout cannot
 * start (crash loop, image pull, missing config), instead of waiting out the rollout timeout.
 */
import { formatChanges, type ToolContext } from "./context";
import { deploy } from "./deploy";
import { summaryAddress } from "./updates";

/** Options of {@link up}. */
export interface UpOptions {
    /** The stack to deploy, e.g. `local`. */
    stack: string;
    /** Message recorded with the update (`pulumi stack history`). */
    message?: string;
    /** Show each resource's changed properties, as `pulumi up --diff` does. */
    diff?: boolean;
}

/** Deploys one stack; Pulumi's progress goes to stdout as `pulumi up` prints it, the result line last. */
export async function up(ctx: ToolContext, options: UpOptions): Promise<void> {
    const stack = await ctx.openStack(options.stack);
    const result = await deploy(stack, {
        message: options.message,
        diff: options.diff ?? false,
        onOutput: (s) => ctx.out(s),
        pods: await ctx.podsFor?.(options.stack),
        note: (s) => ctx.err(s),
        onInterrupt: ctx.onInterrupt,
        nextStep:
            "Pods of the release before it, if any, keep serving. Fix the change and deploy again, or roll back to an " +
            `earlier image (npm run rollback -- --stack ${options.stack})`,
    });
    ctx.out(`update ${summaryAddress(result.summary)} ${result.summary.result}: ${formatChanges(result.summary.resourceChanges)}\n`);
}
