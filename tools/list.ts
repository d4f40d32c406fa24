/**
 * `rollback --stack <s> --list`: a stack's deployments, newest first, each with the id `rollback --to` accepts and
 * the image rollback would restore for it (or why it cannot).
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import type { ToolContext } from "./context";
import { imageResolver } from "./deployed-image";
import { describeError } from "./errors";
import { deployedImage, describeResolved, type ResolvedImage } from "./history";
import type { StageStack } from "./stage-stack";
import { deployments, updateNaming } from "./updates";
import { formatColumns } from "./columns";
import { FIRST_APP, type AppSlot } from "./app-slot";

/** One line of the listing. */
export interface DeploymentRow {
    /** What `--to` accepts: a version, or the start time in UTC on backends that number no updates. */
    id: string;
    result: string;
    /** `sha256:0123456789ab`, or `unknown: <reason>`. */
    image: string;
    buildNumber?: string;
    gitSha?: string;
    message: string;
}

/** The row of one deployment, given the image found for it. */
export function deploymentRow(
    update: UpdateSummary,
    history: UpdateSummary[],
    image: ResolvedImage,
    slot: AppSlot = FIRST_APP,
): DeploymentRow {
    const naming = updateNaming(history);
    const deployed = deployedImage(update, history, naming, slot);
    const meta: { buildNumber?: string; gitSha?: string } = deployed.kind === "unknown" ? {} : deployed;
    return {
        id: naming.address(update),
        result: update.result,
        image: describeResolved(image),
        buildNumber: meta.buildNumber,
        gitSha: meta.gitSha?.slice(0, 7),
        // One line each: a multi-line commit message keeps its first line.
        message: (update.message ?? "").split("\n")[0],
    };
}

/**
 * Renders rows as aligned columns under a header: ID, RESULT, IMAGE, BUILD, SHA, MESSAGE. The image column is as
 * wide as a short digest; an `unknown: <reason>` runs past it rather than widening every row.
 */
export function formatDeploymentList(rows: DeploymentRow[]): string {
    const header = ["ID", "RESULT", "IMAGE", "BUILD", "SHA", "MESSAGE"];
    const cells = rows.map((r) => [r.id, r.result, r.image, r.buildNumber ?? "-", r.gitSha ?? "-", r.message]);
    return formatColumns(header, cells, (row, column) => column === 2 && cells[row][2].startsWith("unknown:"));
}

/**
 * Lists a stack's deployments. Images are found as rollback finds them (pin, recorded state, unique build tag);
 * an update whose lookup fails is listed with the error as its reason rather than stopping the listing.
 */
export async function listDeployments(
    ctx: ToolContext,
    stack: StageStack,
    history: UpdateSummary[],
    repository: () => Promise<string>,
    slot: AppSlot = FIRST_APP,
): Promise<void> {
    const resolve = imageResolver(ctx, stack, history, repository, slot);
    const rows: DeploymentRow[] = [];
    for (const update of deployments(history)) {
        const image = await resolve(update).catch((err: unknown): ResolvedImage => ({ reason: describeError(err) }));
        rows.push(deploymentRow(update, history, image, slot));
    }
    ctx.out(rows.length === 0 ? `stack ${stack.name} has never been deployed\n` : formatDeploymentList(rows));
}
