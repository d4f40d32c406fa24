import { strict as assert } from "node:assert";
import { noPlaintextSecrets } from "../../policy/rules/secrets";
import { secretLikeContent, secretLikeName, secretLikeValue } from "../../policy/lib/secrets";
import { TestResource, runResource } from "./harness";
import { container, goodDeployment } from "./fixtures";

const FIX =
    "Fix: keep it in slipway:secretEnv (pulumi config set --secret --path secretEnv.<NAME> <value>), which reaches the pod through a Kubernetes Secret and env valueFrom.secretKeyRef.";

function configMap(data: Record<string, string>, annotations?: Record<string, string>): TestResource {
    return { type: "kubernetes:core/v1:ConfigMap", name: "app-config", props: { metadata: { annotations }, data } };
}

describe("policy: slipway-no-plaintext-secrets", () => {
    it("passes a plain config file and env that references a Secret", async () => {
        assert.deepEqual(
            (
                await runResource(
                    noPlaintextSecrets,
                    configMap({ "config.yaml": "greeting: Hello\nfeatures:\n  newCheckout: true\ntokenTtlSeconds: 30\n" }),
                )
            ).violations,
            [],
        );
        assert.deepEqual((await runResource(noPlaintextSecrets, goodDeployment())).violations, []);
    });

    it("rejects secret-looking ConfigMap keys and values", async () => {
        const run = await runResource(
            noPlaintextSecrets,
            configMap({
                DB_PASSWORD: "hunter2",
                "config.yaml": "database:\n  url: postgres://app:s3cr3tpw@db:5432/app\n",
                "app.ini": "[auth]\napi_key = 8f14e45fceea167a5a36dedd4bea2543\n",
            }),
        );
        assert.deepEqual(run.violations, [
            `ConfigMap data key "DB_PASSWORD" looks like a secret. ${FIX}`,
            `ConfigMap data key "config.yaml" contains a URL with an embedded password. ${FIX}`,
            `ConfigMap data key "app.ini" contains an inline "api_key" assignment. ${FIX}`,
        ]);
    });

    it("rejects literal env values with secret names or secret formats, and annotations holding keys", async () => {
        const d = goodDeployment();
        container(d).env.push(
            { name: "GITHUB_TOKEN", value: "abc" },
            { name: "UPSTREAM", value: "AKIAIOSFODNN7EXAMPLE" },
            { name: "EMPTY_SECRET", value: "" },
        );
        d.props.metadata.annotations = { "example.com/key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..." };
        assert.deepEqual((await runResource(noPlaintextSecrets, d)).violations, [
            `annotation "example.com/key" holds a PEM private key. ${FIX}`,
            `container "hello" sets env GITHUB_TOKEN to a literal value. ${FIX}`,
            `container "hello" env UPSTREAM holds an AWS access key id. ${FIX}`,
        ]);
    });

    it("lets config allow a name that only looks secret", async () => {
        const run = await runResource(noPlaintextSecrets, configMap({ TOKEN_URL: "https://auth.example.com/token" }), {
            allowedNames: ["TOKEN_URL"],
        });
        assert.deepEqual(run.violations, []);
    });

    it("is not applicable outside Kubernetes", async () => {
        const run = await runResource(noPlaintextSecrets, { type: "aws:ecr/repository:Repository", props: {} });
        assert.equal(run.notApplicable, "not a Kubernetes object");
    });
});

describe("secret heuristics", () => {
    for (const name of [
        "PASSWORD",
        "db_passwd",
        "clientSecret",
        "API_KEY",
        "api.key",
        "PRIVATE_KEY",
        "aws_access_key_id",
        "SLACK_TOKEN",
        "credentials",
    ]) {
        it(`name ${name} looks secret`, () => assert.equal(secretLikeName(name), true));
    }
    for (const name of ["PORT", "LOG_LEVEL", "CONFIG_FILE", "GIT_SHA", "SERVICE_NAME", "DRAIN_DELAY_MS"]) {
        it(`name ${name} does not`, () => assert.equal(secretLikeName(name), false));
    }
    it("recognises credential formats and ignores ordinary values", () => {
        assert.equal(
            secretLikeValue("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            "a JSON Web Token",
        );
        assert.equal(secretLikeValue("ghp_" + "a".repeat(36)), "a GitHub token");
        assert.equal(secretLikeValue("https://registry.example.com/v2/"), undefined);
        assert.equal(secretLikeValue("9f2c4e1a7b3d5f6e8c0a1b2c3d4e5f6a7b8c9d0e"), undefined);
        assert.equal(secretLikeContent("password: ${DB_PASSWORD}\n"), undefined);
        assert.equal(secretLikeContent("password: hunter22\n"), 'an inline "password" assignment');
    });
});
