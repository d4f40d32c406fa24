import * as assert from "node:assert/strict";
import { isDigest, parsePinnedRef, requireDigest, shortDigest, splitRepository } from "../../tools/image-ref";
import { digest, REPO } from "./fake-stage-stack";

describe("tools/image-ref", () => {
    it("accepts only sha256 with 64 lowercase hex digits", () => {
        assert.equal(isDigest(digest("a")), true);
        assert.equal(isDigest(`sha256:${"A".repeat(64)}`), false);
        assert.equal(isDigest(`sha256:${"a".repeat(63)}`), false);
        assert.equal(isDigest(`sha256:${"a".repeat(65)}`), false);
        assert.equal(isDigest(`sha512:${"a".repeat(128)}`), false);
        assert.equal(isDigest("latest"), false);
        assert.equal(isDigest(undefined), false);
    });

    it("requireDigest names what is missing or malformed", () => {
        assert.equal(requireDigest(digest("b"), "x"), digest("b"));
        assert.throws(() => requireDigest(undefined, "stack dev's output appImageDigest"), {
            message: "stack dev's output appImageDigest is missing: expected sha256:<64 hex digits>",
        });
        assert.throws(() => requireDigest("sha256:abc", "--digest"), {
            message: '--digest is malformed: expected sha256:<64 hex digits>, got "sha256:abc"',
        });
    });

    it("parses a digest-pinned reference with a registry host and port", () => {
        assert.deepEqual(parsePinnedRef(`${REPO}@${digest("c")}`, "ref"), {
            repository: REPO,
            registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            path: "slipway-app",
            digest: digest("c"),
        });
        assert.deepEqual(parsePinnedRef(`127.0.0.1:5000/team/app@${digest("d")}`, "ref"), {
            repository: "127.0.0.1:5000/team/app",
            registry: "127.0.0.1:5000",
            path: "team/app",
            digest: digest("d"),
        });
    });

    it("rejects tags, short digests and bad repositories", () => {
        assert.throws(() => parsePinnedRef(`${REPO}:latest`, "image.ref"), /image\.ref is not pinned by digest/);
        assert.throws(() => parsePinnedRef(`${REPO}@sha256:1234`, "image.ref"), /image\.ref's digest is malformed/);
        assert.throws(() => parsePinnedRef(`Bad Repo@${digest("e")}`, "image.ref"), /malformed repository "Bad Repo"/);
        assert.throws(() => parsePinnedRef("", "image.ref"), /image\.ref is missing/);
    });

    it("splits repositories like docker does", () => {
        assert.deepEqual(splitRepository("localhost/app"), { registry: "localhost", path: "app" });
        assert.deepEqual(splitRepository("team/app"), { registry: "", path: "team/app" });
        assert.equal(shortDigest(digest("f")), "sha256:ffffffffffff");
    });
});
