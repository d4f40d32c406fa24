import { strict as assert } from "node:assert";
import { resolveBuildMetadata } from "../../components/lib/build-metadata";
import { imageTags, shortSha } from "../../contracts";
import {
    isDigestPinned,
    parsePinnedRef,
    pinnedRef,
    pinnedRefRegistry,
    prefixedTag,
    requireDigestPinned,
    sanitizeTag,
    splitRegistry,
    TAG_PATTERN,
} from "../../components/lib/image-ref";

const DIGEST = `sha256:${"ab12".repeat(16)}`;

describe("image references", () => {
    it("parses registry, port, repository path, tag and digest", () => {
        assert.deepEqual(parsePinnedRef(`127.0.0.1:5001/team/hello:build-7@${DIGEST}`), {
            repository: "127.0.0.1:5001/team/hello",
            tag: "build-7",
            digest: DIGEST,
        });
        assert.deepEqual(parsePinnedRef(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello@${DIGEST}`), {
            repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello",
            digest: DIGEST,
        });
    });

    for (const bad of [
        "hello:latest",
        "hello",
        `hello@sha256:${"ab".repeat(31)}`, // 62 hex digits
        `hello@sha256:${"AB12".repeat(16)}`, // digests are lowercase
        `hello@sha512:${"ab12".repeat(32)}`,
        `Hello@${DIGEST}`, // repositories are lowercase
        ` hello@${DIGEST}`,
    ]) {
        it(`rejects ${JSON.stringify(bad)} as not pinned`, () => {
            assert.equal(isDigestPinned(bad), false);
            assert.throws(() => requireDigestPinned(bad, "app.image"), /app\.image must be pinned by digest/);
        });
    }

    it("splits the registry host off by Docker's rule (a dot, a port or localhost)", () => {
        assert.deepEqual(splitRegistry("127.0.0.1:5001/team/hello"), { registry: "127.0.0.1:5001", path: "team/hello" });
        assert.deepEqual(splitRegistry("localhost/hello"), { registry: "localhost", path: "hello" });
        assert.deepEqual(splitRegistry("team/hello"), { registry: "", path: "team/hello" });
        assert.deepEqual(splitRegistry("hello"), { registry: "", path: "hello" });
    });

    it("names the registry a pinned reference pulls from, Docker Hub when it names none", () => {
        assert.equal(
            pinnedRefRegistry(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello@${DIGEST}`),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        );
        assert.equal(pinnedRefRegistry(`127.0.0.1:5001/team/hello:build-7@${DIGEST}`), "127.0.0.1:5001");
        assert.equal(pinnedRefRegistry(`team/hello@${DIGEST}`), "docker.io");
        assert.equal(pinnedRefRegistry(`node:24-bookworm-slim@${DIGEST}`), "docker.io");
    });

    it("joins a repository and digest, refusing a malformed digest", () => {
        assert.equal(pinnedRef("r.example.com/app", DIGEST), `r.example.com/app@${DIGEST}`);
        assert.throws(() => pinnedRef("r.example.com/app", "sha256:abc"), /digest must be sha256:<64 hex digits>/);
    });
});

describe("tag sanitising", () => {
    const cases: [string, string][] = [
        ["main", "main"],
        ["feature/JIRA-12 new login", "feature-JIRA-12-new-login"],
        ["--weird..", "weird"],
        [".hidden", "hidden"],
        ["dependabot/npm_and_yarn/zod-4.6.7", "dependabot-npm_and_yarn-zod-4.6.7"],
        ["", "unknown"],
        ["///", "unknown"],
        ["ünïcödé", "n-c-d"],
    ];
    for (const [input, expected] of cases) {
        it(`${JSON.stringify(input)} -> ${expected}`, () => {
            const tag = sanitizeTag(input);
            assert.equal(tag, expected);
            assert.match(tag, TAG_PATTERN);
        });
    }

    it("cuts long names to the 128-character limit, prefix included", () => {
        const tag = prefixedTag("branch", "x".repeat(300));
        assert.equal(tag.length, 128);
        assert.match(tag, TAG_PATTERN);
        assert.ok(tag.startsWith("branch-x"));
    });
});

describe("build metadata", () => {
    it("prefers Slipway's variables over GitHub's and the local checkout", () => {
        const meta = resolveBuildMetadata(
            {
                SLIPWAY_BUILD_NUMBER: "77",
                GITHUB_RUN_NUMBER: "5",
                SLIPWAY_GIT_BRANCH: "main",
                GITHUB_REF_NAME: "other",
                GITHUB_SHA: "f".repeat(40),
            },
            { branch: "local-branch", sha: "a".repeat(40) },
        );
        assert.deepEqual(meta, { buildNumber: "77", gitBranch: "main", gitSha: "f".repeat(40) });
    });

    it("uses the pull request's head branch rather than the merge ref", () => {
        const meta = resolveBuildMetadata({ GITHUB_HEAD_REF: "feature/x", GITHUB_REF_NAME: "12/merge" });
        assert.equal(meta.gitBranch, "feature/x");
    });

    it("falls back to the local checkout, then to stable placeholders", () => {
        assert.deepEqual(resolveBuildMetadata({}, { branch: "wip", sha: "c".repeat(40) }), {
            buildNumber: "local",
            gitBranch: "wip",
            gitSha: "c".repeat(40),
        });
        assert.deepEqual(resolveBuildMetadata({ SLIPWAY_GIT_SHA: "  " }), { buildNumber: "local", gitBranch: "local", gitSha: "unknown" });
    });

    it("tags a build by number, short sha and branch", () => {
        assert.equal(shortSha("9f2c4e1a7b3d"), "9f2c4e1");
        assert.deepEqual(imageTags({ buildNumber: "1042", gitBranch: "feature/login page", gitSha: "9f2c4e1a7b3d5f6e" }), [
            "build-1042",
            "sha-9f2c4e1",
            "branch-feature-login-page",
        ]);
    });
});
