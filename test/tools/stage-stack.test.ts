import * as assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { AutomationStageStack } from "../../tools/stage-stack";

/** Records the arguments the adapter passes to the Automation API's Stack. */
function recordingStack(getConfigError?: Error) {
    const calls: Array<[string, unknown[]]> = [];
    const record =
        (name: string, result: unknown = undefined) =>
        async (...args: unknown[]) => {
            calls.push([name, args]);
            if (name === "getConfig" && getConfigError) {
                throw getConfigError;
            }
            return result;
        };
    const stack = {
        name: "prod",
        history: record("history", []),
        getConfig: record("getConfig", { value: "x", secret: false }),
        setConfig: record("setConfig"),
        setAllConfigJson: record("setAllConfigJson"),
        outputs: record("outputs", {}),
        preview: record("preview", { stdout: "", stderr: "", changeSummary: {} }),
        up: record("up"),
    };
    return { calls, stack: new AutomationStageStack(stack as unknown as Stack) };
}

describe("tools/stage-stack (adapter over the Automation API)", () => {
    it("asks history with secrets hidden, which the SDK does not do by default", async () => {
        const { calls, stack } = recordingStack();
        await stack.history();
        await stack.history({ pageSize: 5 });
        assert.deepEqual(calls, [
            ["history", [undefined, undefined, false]],
            ["history", [5, 1, false]],
        ]);
    });

    it("writes an object as one set-all --json in the shape `pulumi config --json` prints", async () => {
        const { calls, stack } = recordingStack();
        await stack.setObjectConfig("slipway:image", { source: "pinned", buildNumber: "41" });
        assert.equal(calls[0][0], "setAllConfigJson");
        assert.deepEqual(JSON.parse(calls[0][1][0] as string), {
            "slipway:image": {
                value: '{"source":"pinned","buildNumber":"41"}',
                objectValue: { source: "pinned", buildNumber: "41" },
                secret: false,
            },
        });
    });

    it("passes path flags through and never writes secrets", async () => {
        const { calls, stack } = recordingStack();
        await stack.setConfig("slipway:image.ref", "r@sha256:x", { path: true });
        await stack.getConfig("slipway:image.ref", { path: true });
        await stack.preview({ message: "m" });
        assert.deepEqual(calls.slice(0, 2), [
            ["setConfig", ["slipway:image.ref", { value: "r@sha256:x", secret: false }, true]],
            ["getConfig", ["slipway:image.ref", true]],
        ]);
        assert.deepEqual(calls[2], ["preview", [{ diff: true, message: "m", onOutput: undefined }]]);
    });

    it("maps the CLI's 'not found' to undefined and rethrows other failures", async () => {
        const notFound = recordingStack(
            new Error("code: 255\n stdout: \n stderr: error: configuration key 'slipway:image' not found for stack 'qa'\n err?: x\n"),
        );
        assert.equal(await notFound.stack.getConfig("slipway:image"), undefined);
        const broken = recordingStack(new Error("code: 255\n stdout: \n stderr: error: passphrase must be set\n err?: x\n"));
        await assert.rejects(broken.stack.getConfig("slipway:image"), /passphrase must be set/);
    });
});
