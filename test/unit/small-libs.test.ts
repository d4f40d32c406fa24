import { strict as assert } from "node:assert";
import { ecrLifecyclePolicy, MUTABLE_TAG_FILTERS } from "../../components/lib/ecr-lifecycle";
import { isQuantity, parseQuantity, tryParseQuantity } from "../../components/lib/quantity";

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
