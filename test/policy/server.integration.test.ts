/**
 * The pack as the Pulumi CLI runs it: `pulumi-analyzer-policy` starts `@pulumi/pulumi/cmd/run-policy-pack` with the
 * pack directory as working directory and "." as the program. We start that same runner (Node 24, ts-node with type
 * checking, index.ts through package.json "main"), read the port it prints, and talk to it over the analyzer gRPC
 * protocol the CLI uses: GetAnalyzerInfo, Configure (what --policy-pack-config sends) and Analyze.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { PACK_NAME, policies } from "../../policy/policies";
import { stagePolicyConfig } from "./harness";
import { goodDeployment } from "./fixtures";

const REPO = path.resolve(__dirname, "..", "..");
// The generated gRPC stubs check message classes by identity: load them (and google-protobuf) as @pulumi/pulumi does.
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = pulumiRequire("@grpc/grpc-js");
const analyzerGrpc = pulumiRequire("./proto/analyzer_grpc_pb");
const analyzerPb = pulumiRequire("./proto/analyzer_pb");
const { Empty } = pulumiRequire("google-protobuf/google/protobuf/empty_pb");
const { Struct } = pulumiRequire("google-protobuf/google/protobuf/struct_pb");

const LEVELS: Record<number, string> = { 0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate" };

function unary<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

describe("policy pack served by the real run-policy-pack runner", function () {
    this.timeout(120_000);
    let child: ChildProcess;
    let client: any;
    let stderr = "";

    before(async () => {
        child = spawn(
            path.join(REPO, "node_modules", ".bin", "node"),
            [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."],
            { cwd: path.join(REPO, "policy"), stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d) => {
                out += d;
                const match = /^(\d+)\s*$/m.exec(out);
                if (match) resolve(Number(match[1]));
            });
            child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
        });
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    it("announces the pack and every policy with its default enforcement", async () => {
        const info = await unary<any>(client, "getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), PACK_NAME);
        assert.equal(info.getVersion(), "0.1.0");
        const served = info.getPoliciesList().map((p: any) => [p.getName(), LEVELS[p.getEnforcementlevel()]]);
        assert.deepEqual(
            served,
            policies.map((p) => [p.name, p.enforcementLevel]),
        );
    });

    async function analyze(resource: { type: string; name: string; props: Record<string, any> }) {
        const request = new analyzerPb.AnalyzeRequest();
        request.setType(resource.type);
        request.setName(resource.name);
        request.setUrn(`urn:pulumi:prod::slipway::${resource.type}::${resource.name}`);
        request.setProperties(Struct.fromJavaScript(resource.props));
        request.setOptions(new analyzerPb.AnalyzerResourceOptions());
        const response = await unary<any>(client, "analyze", request);
        return response.getDiagnosticsList().map((d: any) => ({
            policy: d.getPolicyname(),
            enforcement: LEVELS[d.getEnforcementlevel()],
            message: d.getMessage(),
        }));
    }

    function configure(config: Record<string, unknown>): Promise<unknown> {
        const request = new analyzerPb.ConfigureAnalyzerRequest();
        for (const [name, entry] of Object.entries(config)) {
            const { enforcementLevel, ...properties } =
                typeof entry === "string" ? { enforcementLevel: entry } : (entry as Record<string, unknown>);
            const policyConfig = new analyzerPb.PolicyConfig();
            policyConfig.setEnforcementlevel(Number(Object.entries(LEVELS).find(([, l]) => l === enforcementLevel)![0]));
            policyConfig.setProperties(Struct.fromJavaScript(properties));
            request.getPolicyconfigMap().set(name, policyConfig);
        }
        return unary(client, "configure", request);
    }

    it("passes a good Deployment and reports a tag-only image as a mandatory violation", async () => {
        const good = goodDeployment();
        assert.deepEqual(await analyze({ type: good.type, name: good.name!, props: good.props }), []);
        const bad = goodDeployment();
        bad.props.spec.template.spec.containers[0].image = "hello:latest";
        assert.deepEqual(await analyze({ type: bad.type, name: bad.name!, props: bad.props }), [
            {
                policy: "slipway-image-digest",
                enforcement: "mandatory",
                message:
                    "Containers run images by @sha256: digest only (no tag-only references, no latest).\n" +
                    'container "hello" runs "hello:latest", which floats on the latest tag. Fix: reference the image as <repository>@sha256:<64 hex> (AppImage\'s ref output, or promote a digest into slipway:image.ref).',
            },
        ]);
    });

    it("raises prod-only rules from advisory to mandatory with policy/config/prod.json", async () => {
        const recreate = goodDeployment();
        recreate.props.spec.strategy = { type: "Recreate" };
        const resource = { type: recreate.type, name: recreate.name!, props: recreate.props };
        await configure(stagePolicyConfig("dev"));
        assert.deepEqual(
            (await analyze(resource)).map((d: any) => [d.policy, d.enforcement]),
            [["slipway-zero-downtime-rollout", "advisory"]],
        );
        await configure(stagePolicyConfig("prod"));
        assert.deepEqual(
            (await analyze(resource)).map((d: any) => [d.policy, d.enforcement]),
            [["slipway-zero-downtime-rollout", "mandatory"]],
        );
    });
});
