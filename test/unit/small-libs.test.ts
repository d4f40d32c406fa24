import { strict as assert } from "node:assert";
import { ecrLifecyclePolicy, MUTABLE_TAG_FILTERS } from "../../components/lib/ecr-lifecycle";
import { isQuantity, parseQuantity, tryParseQuantity } from "../../components/lib/quantity";
import { appBuildArgs, buildArgProblems } from "../../components/lib/build-settings";

describe("quantities", () => {
    const cases: [string, number][] = [
        ["250m", 0.25],
        ["1", 1],
        ["1.5", 1.5],
        ["512Mi", 512 * 2 ** 20],
        ["2Gi", 2 * 2 ** 30],
        ["1G", 1e9],
        ["100k", 1e5],
        ["1e3", 1000],
        [".5", 0.5],
        ["2.", 2],
    ];
    for (const [text, value] of cases) {
        it(`${text} = ${value}`, () => assert.equal(parseQuantity(text), value));
    }
    for (const bad of ["", "1.5.2", "-1", "512MB", "Mi", "1 Gi"]) {
        it(`rejects ${JSON.stringify(bad)}`, () => {
            assert.equal(isQuantity(bad), false);
            assert.throws(() => parseQuantity(bad), /not a Kubernetes quantity/);
        });
    }
});

describe("quantities of any input (what policies read from resources)", () => {
    it("accepts non-negative numbers, refuses everything that is not a quantity", () => {
        assert.equal(tryParseQuantity(3), 3);
        assert.equal(tryParseQuantity(-1), undefined);
        assert.equal(tryParseQuantity(Number.NaN), undefined);
        assert.equal(tryParseQuantity(undefined), undefined);
        assert.equal(tryParseQuantity({ cpu: "1" }), undefined);
        assert.equal(tryParseQuantity("64Mi"), 64 * 2 ** 20);
    });
});

describe("ECR lifecycle policy", () => {
    it("expires untagged images and keeps the last N per prefix, with unique ascending priorities", () => {
        const policy = ecrLifecyclePolicy({ untaggedExpiryDays: 7, keepLastPerPrefix: 30, tagPrefixes: ["build-", "release-"] });
        assert.deepEqual(policy.rules, [
            {
                rulePriority: 1,
                description: "Expire untagged images after 7 days",
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: "Keep the last 30 images tagged build-*",
                selection: { tagStatus: "tagged", tagPrefixList: ["build-"], countType: "imageCountMoreThan", countNumber: 30 },
                action: { type: "expire" },
            },
            {
                rulePriority: 3,
                description: "Keep the last 30 images tagged release-*",
                selection: { tagStatus: "tagged", tagPrefixList: ["release-"], countType: "imageCountMoreThan", countNumber: 30 },
                action: { type: "expire" },
            },
        ]);
        assert.ok(!policy.rules.some((r) => r.selection.tagStatus === "any"), "a tagStatus any rule would expire releases");
    });

    it("keeps build-<n> tags immutable: only moving pointers are excluded", () => {
        assert.deepEqual([...MUTABLE_TAG_FILTERS], ["sha-*", "branch-*", "buildcache*"]);
        assert.ok(!MUTABLE_TAG_FILTERS.some((f) => "build-1042".startsWith(f.replace("*", ""))));
    });
});

describe("app build args", () => {
    const defaults = { buildImageArg: "BUILD_IMAGE", runtimeBaseImageArg: "RUNTIME_BASE_IMAGE", buildArgs: {} };
    const meta = { buildNumber: "42", gitBranch: "main", gitSha: "abc1234" };

    it("passes the images under today's names by default, then the build metadata", () => {
        assert.deepEqual(appBuildArgs(defaults, { buildImage: "b@sha256:1", runtimeBaseImage: "r@sha256:2" }, meta), {
            BUILD_IMAGE: "b@sha256:1",
            RUNTIME_BASE_IMAGE: "r@sha256:2",
            BUILD_NUMBER: "42",
            GIT_BRANCH: "main",
            GIT_SHA: "abc1234",
        });
    });

    it("passes the app's own args and the images under the names its Dockerfile uses", () => {
        const args = appBuildArgs(
            { buildImageArg: "BUILDER", runtimeBaseImageArg: "BASE", buildArgs: { GO_FLAGS: "-trimpath" } },
            { buildImage: "b@sha256:1", runtimeBaseImage: "r@sha256:2" },
            meta,
        );
        assert.deepEqual(Object.keys(args).sort(), ["BASE", "BUILDER", "BUILD_NUMBER", "GIT_BRANCH", "GIT_SHA", "GO_FLAGS"]);
        assert.equal(args.GO_FLAGS, "-trimpath");
    });

    it("names every bad or colliding build-arg name, and none for the defaults", () => {
        assert.deepEqual(buildArgProblems(defaults), []);
        const problems = buildArgProblems({
            buildImageArg: "BASE",
            runtimeBaseImageArg: "BASE",
            buildArgs: { "GO-FLAGS": "x", GIT_SHA: "y", BASE: "z", VERSION: "1" },
        });
        assert.deepEqual(
            problems.map(([key]) => key),
            ["runtimeBaseImageArg", "buildArgs.GO-FLAGS", "buildArgs.GIT_SHA", "buildArgs.BASE"],
        );
        assert.deepEqual(
            buildArgProblems({ ...defaults, buildImageArg: "1BAD" }).map(([key]) => key),
            ["buildImageArg"],
        );
    });
});
