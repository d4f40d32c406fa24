/**
 * `preview --stack local`: what `pulumi up` would change on a stage, with the stage's own setup (the local stage's
 * backend and kubeconfig come from scripts/local-env.sh, so this works from any fresh shell).
 */
import { formatChanges, type ToolContext } from "./context";

/** Options of {@link preview}. */
export interface PreviewOptions {
    /** The stack to preview, e.g. `local`. */
    stack: string;
}

/** Runs `pulumi preview --diff` of one stack; Pulumi's diff goes to stderr, the change summary to stdout. */
export async function preview(ctx: ToolContext, options: PreviewOptions): Promise<void> {
    const stack = await ctx.openStack(options.stack);
    const result = await stack.preview({ onOutput: (s) => ctx.err(s) });
    ctx.out(`preview of ${options.stack}: ${formatChanges(result.changeSummary)}\n`);
}
