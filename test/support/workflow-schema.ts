/**
 * GitHub's own schema validation of a workflow file (`@actions/workflow-parser`), for the tests of this repository's
 * workflows and of the ones `slipway init` writes.
 */
import { registerHooks } from "node:module";

// @actions/workflow-parser imports its schema JSON without `with { type: "json" }` (it is written for bundlers);
// Node insists on the attribute. Add it for that package's JSON files only (synchronous hooks: Node >= 22.15).
// This module is loaded once per process, so the hook is registered once.
if (typeof registerHooks !== "function") {
    throw new Error(`module.registerHooks is missing in Node ${process.version}: run the tests with the repo's Node 24 (npm test)`);
}
registerHooks({
    load(url, context, nextLoad) {
        if (url.includes("/@actions/workflow-parser/") && url.endsWith(".json") && !context.importAttributes?.type) {
            return nextLoad(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
        }
        return nextLoad(url, context);
    },
});

/**
 * The errors GitHub's parser reports for a workflow's text, parse and template conversion both; empty when valid.
 * @param name the workflow's file name, for the parser's messages
 * @param content the workflow's YAML text
 */
export async function workflowSchemaErrors(name: string, content: string): Promise<string[]> {
    // The package is ESM-only: import() it from these CommonJS tests.
    const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");
    const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
    const errors = result.context.errors.getErrors().map((e) => e.message);
    if (errors.length === 0 && result.value) {
        const template = await convertWorkflowTemplate(result.context, result.value);
        errors.push(...(template.errors ?? []).map((e) => e.Message));
    }
    return errors;
}
