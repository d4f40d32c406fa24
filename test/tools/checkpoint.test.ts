import * as assert from "node:assert/strict";
import { backupStartedAt, checkpointBackups, diyHistoryDirs, historyStartTime, stackOutputsOf } from "../../tools/checkpoint";
import { digest, REPO } from "./fake-stage-stack";

/** The stack resource as state records it, with a plain and a secret output. */
const root = {
    urn: "urn:pulumi:local::slipway::pulumi:pulumi:Stack::slipway-local",
    custom: false,
    type: "pulumi:pulumi:Stack",
    outputs: {
        appImageDigest: digest("a"),
        appImageRef: `${REPO}@${digest("a")}`,
        dbPassword: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" },
    },
};
const other = {
    urn: "urn:pulumi:local::slipway::slipway:index:AppImage::app",
    type: "slipway:index:AppImage",
    outputs: { digest: digest("b") },
};

describe("tools/checkpoint: earlier updates' outputs from state documents", () => {
    it("reads the stack resource's outputs from `stack export` and from a DIY checkpoint, secrets marked and left out", () => {
        const expected = {
            appImageDigest: { value: digest("a"), secret: false },
            appImageRef: { value: `${REPO}@${digest("a")}`, secret: false },
            dbPassword: { value: undefined, secret: true },
        };
        const exported = { version: 3, deployment: { manifest: { time: "2026-11-01T09:00:00Z" }, resources: [other, root] } };
        assert.deepEqual(stackOutputsOf(exported), expected);
        const checkpoint = { version: 3, checkpoint: { stack: "organization/slipway/local", latest: { resources: [root, other] } } };
        assert.deepEqual(stackOutputsOf(checkpoint), expected);
    });

    it("has no outputs for an empty stack, a stack without its root resource, or a document that is not state", () => {
        assert.equal(stackOutputsOf({ version: 3, checkpoint: { stack: "local", latest: null } }), undefined);
        assert.equal(stackOutputsOf({ version: 3, deployment: { resources: [other] } }), undefined);
        assert.equal(stackOutputsOf("[]"), undefined);
        assert.deepEqual(stackOutputsOf({ deployment: { resources: [{ type: "pulumi:pulumi:Stack" }] } }), {});
    });

    it("pairs a DIY history folder's files by prefix, for one stack, compressed or not", () => {
        const files = [
            "local-1764579600000000001.history.json",
            "local-1764579600000000001.checkpoint.json",
            "local-1764583200000000002.history.json.gz",
            "local-1764583200000000002.checkpoint.json.gz",
            "local-1764586800000000003.history.json", // its checkpoint copy is missing
            "local-dev-1764579600000000004.history.json", // another stack's, in a legacy shared folder
            "notes.txt",
        ];
        assert.deepEqual(checkpointBackups(files, "local"), [
            {
                prefix: "local-1764579600000000001",
                history: "local-1764579600000000001.history.json",
                checkpoint: "local-1764579600000000001.checkpoint.json",
            },
            {
                prefix: "local-1764583200000000002",
                history: "local-1764583200000000002.history.json.gz",
                checkpoint: "local-1764583200000000002.checkpoint.json.gz",
            },
            { prefix: "local-1764586800000000003", history: "local-1764586800000000003.history.json" },
        ]);
        assert.deepEqual(
            checkpointBackups(files, "local-dev").map((b) => b.prefix),
            ["local-dev-1764579600000000004"],
        );
    });

    it("matches an update to its backup by start time (the CLI records seconds), never guessing between two", () => {
        assert.equal(historyStartTime({ kind: "update", startTime: 1764579600, result: "succeeded" }), 1764579600);
        assert.equal(historyStartTime({ kind: "update" }), undefined);
        const records = [
            { startTime: 1764579600, checkpoint: "a" },
            { startTime: 1764583200, checkpoint: "b" },
            { startTime: 1764583200, checkpoint: "c" },
        ];
        assert.equal(backupStartedAt(records, 1764579600_000)?.checkpoint, "a");
        assert.equal(backupStartedAt(records, 1764579600_999)?.checkpoint, "a", "milliseconds the CLI never recorded");
        assert.equal(backupStartedAt(records, 1764583200_000), undefined, "two updates in one second");
        assert.equal(backupStartedAt(records, 1764590000_000), undefined);
    });

    it("finds a file:// backend's history folders (project layout first), and none for other backends", () => {
        assert.deepEqual(diyHistoryDirs("file:///var/lib/pulumi%20state/", "slipway", "organization/slipway/local", "/home/me"), [
            "/var/lib/pulumi state/.pulumi/history/slipway/local",
            "/var/lib/pulumi state/.pulumi/history/local",
        ]);
        assert.deepEqual(diyHistoryDirs("file://~/state", "slipway", "local", "/home/me/"), [
            "/home/me/state/.pulumi/history/slipway/local",
            "/home/me/state/.pulumi/history/local",
        ]);
        assert.equal(diyHistoryDirs("s3://bucket/state", "slipway", "local", "/home/me"), undefined);
        assert.equal(diyHistoryDirs("https://api.pulumi.com", "slipway", "local", "/home/me"), undefined);
    });
});
