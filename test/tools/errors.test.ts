import * as assert from "node:assert/strict";
import { describeError } from "../../tools/errors";

/** An Automation API CommandError's message, as `createCommandError` formats it. */
const commandError = (code: number, stderr: string, err = "Error: x") =>
    new Error(`code: ${code}\n stdout: \n stderr: ${stderr}\n err?: ${err}\n`);

describe("tools/errors: describeError", () => {
    it("a CLI that ran and failed: its own error lines, not 'could not be run' (the SDK reports every failed exit as -2)", () => {
        const stderr =
            "Command failed with exit code 255: pulumi up --yes --skip-preview --diff --stack local --non-interactive\n" +
            "warning: using pulumi-resource-kubernetes from $PATH at /root/.cache/slipway/tools/pulumi-resource-kubernetes\n" +
            "Updating (local):\n" +
            "    error: 1 error occurred:\n" +
            "Resources:\n    15 unchanged\n\nDuration: 9s\n" +
            "error: update canceled";
        assert.equal(describeError(commandError(-2, stderr)), "update canceled");
        assert.equal(
            describeError(commandError(-2, "Command failed with exit code 1: pulumi up\nDuration: 3s")),
            "pulumi exited with code 1",
        );
    });

    it("a CLI stopped by a signal says which", () => {
        assert.equal(
            describeError(commandError(-2, "Command was killed with SIGKILL (Forced termination): pulumi up --yes")),
            "the pulumi CLI was stopped by SIGKILL",
        );
    });

    it("a CLI that could not be started says so", () => {
        assert.equal(describeError(commandError(-2, "spawn pulumi ENOENT")), "the pulumi CLI could not be run (spawn pulumi ENOENT)");
    });

    it("other codes and errors: the CLI's stderr, or the message", () => {
        assert.equal(describeError(commandError(255, "error: the stack is locked")), "error: the stack is locked");
        assert.equal(describeError(new Error("registry refused")), "registry refused");
    });
});
