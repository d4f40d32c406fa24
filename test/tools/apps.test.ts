/**
 * `rollback --app`, `promote` of every app as one change and `promote --app`, over a stage that runs two apps: the
 * first (`slipway:app`, its image in `slipway:image`) and `hello-go` (`slipway:apps.hello-go.image`).
 */
import * as assert from "node:assert/strict";
import { imageConfigInUpdate, appOutputsIn } from "../../tools/app-slot";
import { writeImagePin } from "../../tools/pin";
import { promote } from "../../tools/promote";
import { rollback, type RollbackOptions } from "../../tools/rollback";
import { digest, fakeContext, FakeStageStack, outputsFor, REPO, refusal, update } from "./fake-stage-stack";

const GO_REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-go";
const pin = (repo: string, d: string, buildNumber: string) => ({
    source: "pinned",
    ref: `${repo}@${d}`,
    buildNumber,
    gitBranch: "main",
    gitSha: "0123456789abcdef0123456789abcdef01234567",
});
/** The Go app's entry of slipway:apps, with a key of its own that a pin must keep. */
const goEntry = (d: string, buildNumber: string) => ({ replicas: 2, image: pin(GO_REPO, d, buildNumber) });

/** prod's history: 12 changed only hello-go (e → f), 11 changed only the first app (a → b), 10 ran a and e. */
function prod() {
    return new FakeStageStack("prod", {
        config: {
            "slipway:stage": "prod",
            "slipway:app": { name: "hello", replicas: 2 },
            "slipway:image": pin(REPO, digest("b"), "41"),
            "slipway:apps": { "hello-go": goEntry(digest("f"), "51") },
        },
        // What it last deployed: both apps, the first one's Service named after it.
        outputs: outputsFor(digest("b"), {
            serviceName: "hello",
            apps: {
                hello: { imageRef: `${REPO}@${digest("b")}`, imageDigest: digest("b"), serviceName: "hello" },
                "hello-go": { imageRef: `${GO_REPO}@${digest("f")}`, imageDigest: digest("f"), serviceName: "hello-go" },
            },
        }),
        history: [
            update({
                version: 12,
                pin: { digest: digest("b"), buildNumber: "41" },
                apps: { "hello-go": { digest: digest("f"), buildNumber: "51", repo: GO_REPO } },
            }),
            update({
                version: 11,
                pin: { digest: digest("b"), buildNumber: "41" },
                apps: { "hello-go": { digest: digest("e"), buildNumber: "50", repo: GO_REPO } },
            }),
            update({
                version: 10,
                pin: { digest: digest("a"), buildNumber: "40" },
                apps: { "hello-go": { digest: digest("e"), buildNumber: "50", repo: GO_REPO } },
            }),
        ],
    });
}

const opts = (o: Partial<RollbackOptions> = {}): RollbackOptions => ({ stack: "prod", dryRun: false, registryCheck: true, ...o });

describe("tools: a stage of several apps", () => {
    it("rollback without --app is refused, naming the apps; nothing is written", async () => {
        const stack = prod();
        const { ctx } = fakeContext([stack]);
        await refusal(rollback(ctx, opts()), /^stack prod runs 2 apps \(hello, hello-go\): name the one to roll back with --app$/);
        await refusal(rollback(ctx, opts({ app: "hello-rust" })), /^stack prod has no app "hello-rust"; its apps: hello, hello-go$/);
        assert.deepEqual(stack.mutations(), []);
    });

    it("rollback --app hello-go restores only its previous digest, keeps the rest of slipway:apps, and deploys once", async () => {
        const stack = prod();
        const { ctx, io } = fakeContext([stack]);
        await rollback(ctx, opts({ app: "hello-go" }));
        // Written key by key with --path, as the CLI stores it: the build number became an integer, which the schema
        // reads back as text.
        assert.deepEqual(stack.object("slipway:apps"), {
            "hello-go": { replicas: 2, image: { ...pin(GO_REPO, digest("e"), "50"), buildNumber: 50 } },
        });
        assert.deepEqual(
            stack.callsOf("setConfigPaths").map((c) => Object.keys(c.args[0] as object).sort()),
            [["ref", "buildNumber", "gitBranch", "gitSha", "source"].map((f) => `slipway:apps.hello-go.image.${f}`).sort()],
            "only hello-go's image keys are written",
        );
        assert.deepEqual(stack.object("slipway:image"), pin(REPO, digest("b"), "41"), "the first app's pin is untouched");
        assert.deepEqual(
            stack.mutations().map((c) => c.method),
            ["setConfigPaths", "up"],
        );
        assert.match(
            (stack.callsOf("up")[0].args[0] as { message: string }).message,
            /^slipway rollback: prod app hello-go to the image of update 11 /,
        );
        assert.match(io.out, /^rollback prod app hello-go to the image of update 11 .*sha256:e{64} \(build 50, /);
    });

    it("rollback --app hello passes over the update that changed only hello-go: the first app goes back to a", async () => {
        const stack = prod();
        const { ctx } = fakeContext([stack]);
        await rollback(ctx, opts({ app: "hello" }));
        assert.equal((stack.object("slipway:image") as { ref: string }).ref, `${REPO}@${digest("a")}`);
        assert.deepEqual(stack.object("slipway:apps"), { "hello-go": goEntry(digest("f"), "51") });
    });

    it("rollback --app --dry-run prints exactly the writes rollback --app makes (only that app's image keys), and changes nothing", async () => {
        const dry = prod();
        const { ctx, io } = fakeContext([dry]);
        await rollback(ctx, opts({ app: "hello-go", dryRun: true }));
        assert.deepEqual(dry.mutations(), []);
        const commands = io.out
            .split("\n")
            .filter((line) => line.startsWith("  pulumi "))
            .map((line) => line.trim());
        assert.equal(commands.length, 2, commands.join("\n"));
        assert.match(commands[0]!, /^pulumi config set-all --stack prod --path( --plaintext \S+)+$/);
        assert.equal(commands[1], "pulumi up --stack prod --diff");
        const printed = Object.fromEntries(
            [...commands[0]!.matchAll(/--plaintext (\S+)/g)].map((m) => {
                const pair = m[1]!.replace(/^'|'$/g, "");
                return [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
            }),
        );
        const real = prod();
        await rollback(fakeContext([real]).ctx, opts({ app: "hello-go" }));
        assert.deepEqual(
            real.mutations().map((c) => c.method),
            ["setConfigPaths", "up"],
        );
        assert.deepEqual(printed, real.callsOf("setConfigPaths")[0]!.args[0]);
        assert.ok(
            Object.keys(printed).every((key) => key.startsWith("slipway:apps.hello-go.image.")),
            Object.keys(printed).join(", "),
        );
    });

    it("rollback --list --app lists the app's own digests per update", async () => {
        const stack = prod();
        const { ctx, io } = fakeContext([stack]);
        await rollback(ctx, opts({ app: "hello-go", list: true }));
        const lines = io.out.trim().split("\n");
        assert.deepEqual(
            lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(" ")),
            ["12 succeeded sha256:ffffffffffff", "11 succeeded sha256:eeeeeeeeeeee", "10 succeeded sha256:eeeeeeeeeeee"],
        );
    });

    /** dev runs both apps, built; qa pins both. */
    function devAndQa() {
        const appsOutput = {
            hello: {
                imageRef: `${REPO}@${digest("1")}`,
                imageDigest: digest("1"),
                buildNumber: "61",
                gitBranch: "main",
                gitSha: "1".repeat(40),
            },
            "hello-go": {
                imageRef: `${GO_REPO}@${digest("2")}`,
                imageDigest: digest("2"),
                buildNumber: "61",
                gitBranch: "main",
                gitSha: "1".repeat(40),
            },
        };
        const dev = new FakeStageStack("dev", {
            outputs: outputsFor(digest("1"), { apps: appsOutput, buildNumber: "61" }),
            config: {
                "slipway:app": { name: "hello" },
                "slipway:image": { source: "build" },
                "slipway:apps": { "hello-go": { image: { source: "build" } } },
            },
            history: [update({ version: 30, stage: "dev", build: { gitSha: "1".repeat(40), buildNumber: "61" } })],
        });
        const qa = new FakeStageStack("qa", {
            config: {
                "slipway:stage": "qa",
                "slipway:app": { name: "hello" },
                "slipway:image": pin(REPO, digest("a"), "40"),
                "slipway:apps": { "hello-go": goEntry(digest("e"), "50") },
            },
            history: [
                update({
                    version: 5,
                    stage: "qa",
                    pin: { digest: digest("a") },
                    apps: { "hello-go": { digest: digest("e"), repo: GO_REPO } },
                }),
            ],
        });
        return { dev, qa };
    }

    it("promote moves every app's digest into the target as one change: both pins, one up", async () => {
        const { dev, qa } = devAndQa();
        const { ctx, io } = fakeContext([dev, qa]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.equal((qa.object("slipway:image") as { ref: string }).ref, `${REPO}@${digest("1")}`);
        assert.deepEqual(qa.object("slipway:apps"), {
            "hello-go": { replicas: 2, image: { ...pin(GO_REPO, digest("2"), "61"), buildNumber: 61, gitSha: "1".repeat(40) } },
        });
        assert.equal(qa.callsOf("up").length, 1);
        assert.match(
            (qa.callsOf("up")[0].args[0] as { message: string }).message,
            new RegExp(`^promote dev → qa: hello ${REPO}@${digest("1")}, hello-go ${GO_REPO}@${digest("2")}$`),
        );
        assert.match(io.out, /^promoted dev → qa: hello .*sha256:1{64} .*, hello-go .*sha256:2{64} /);
    });

    it("promote --app hello-go moves that app alone", async () => {
        const { dev, qa } = devAndQa();
        const { ctx } = fakeContext([dev, qa]);
        await promote(ctx, { from: "dev", to: "qa", app: "hello-go", yes: true });
        assert.equal((qa.object("slipway:image") as { ref: string }).ref, `${REPO}@${digest("a")}`);
        assert.equal(
            (qa.object("slipway:apps") as Record<string, { image: { ref: string } }>)["hello-go"].image.ref,
            `${GO_REPO}@${digest("2")}`,
        );
        await refusal(
            promote(ctx, { from: "dev", to: "qa", app: "hello-rust", yes: true }),
            /^stack qa has no app "hello-rust"; its apps: hello, hello-go$/,
        );
    });

    it("promote matches apps by name, not position: a target whose first app is the source's second gets that app's digest", async () => {
        const { dev } = devAndQa();
        const qa = new FakeStageStack("qa", {
            config: { "slipway:stage": "qa", "slipway:app": { name: "hello-go" }, "slipway:image": pin(GO_REPO, digest("e"), "50") },
            history: [update({ version: 5, stage: "qa", pin: { digest: digest("e"), repo: GO_REPO } })],
        });
        const { ctx } = fakeContext([dev, qa]);
        await promote(ctx, { from: "dev", to: "qa", yes: true });
        assert.equal((qa.object("slipway:image") as { ref: string }).ref, `${GO_REPO}@${digest("2")}`);
        const web = new FakeStageStack("web-qa", {
            config: { "slipway:app": { name: "web" }, "slipway:image": pin(REPO, digest("a"), "1") },
        });
        await refusal(
            promote(fakeContext([dev, web]).ctx, { from: "dev", to: "web-qa", yes: true }),
            /^stack dev has no app web \(its apps: hello, hello-go\); nothing was written$/,
        );
        assert.deepEqual(web.mutations(), []);
    });

    it("an earlier update's image of an app is found by the app's name then: an app that was the first app is read from slipway:image", () => {
        const then = update({ version: 3, pin: { digest: digest("9"), repo: GO_REPO } });
        then.config!["slipway:app"] = { value: JSON.stringify({ name: "hello-go" }), secret: false };
        const config = then.config as Parameters<typeof imageConfigInUpdate>[0];
        assert.equal(imageConfigInUpdate(config, { name: "hello-go", first: false })?.ref, `${GO_REPO}@${digest("9")}`);
        assert.equal(imageConfigInUpdate(config, { name: "hello", first: true }), undefined, "hello was not in that update");
        // Outputs of a state from before the apps output: the top-level ones belong to the first app only.
        const outputs = outputsFor(digest("9"), {}, GO_REPO);
        assert.equal(appOutputsIn(outputs, { name: "hello-go", first: true }).imageDigest, digest("9"));
        assert.deepEqual(appOutputsIn(outputs, { name: "hello", first: false }), {});
    });

    it("pinning an app of slipway:apps that builds removes its build-only keys and writes its image key by key, keeping the rest", async () => {
        const local = new FakeStageStack("local", {
            config: {
                "slipway:apps": {
                    "hello-go": { replicas: 1, env: { LOG_LEVEL: "info" }, image: { source: "build", context: "hello-go" } },
                },
            },
        });
        await writeImagePin(local, { ref: `${GO_REPO}@${digest("4")}`, buildNumber: "7" }, { name: "hello-go", first: false });
        assert.deepEqual(local.object("slipway:apps"), {
            "hello-go": {
                replicas: 1,
                env: { LOG_LEVEL: "info" },
                image: { source: "pinned", ref: `${GO_REPO}@${digest("4")}`, buildNumber: 7, gitBranch: "unknown", gitSha: "unknown" },
            },
        });
        assert.deepEqual(
            local.mutations().map((c) => [c.method, c.args[0]]),
            [
                ["removeConfig", "slipway:apps.hello-go.image"],
                ["setConfigPaths", local.callsOf("setConfigPaths")[0]!.args[0]],
            ],
        );
    });
});
