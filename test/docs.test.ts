/**
 * The user docs tell the truth about the code: each test pins a fact that was once wrong in the README (a LOG_LEVEL
 * the service rejects, "hard spread = no two pods on one node", an undocumented TLS Secret, pin commits that break
 * on a protected main, a policy parity claim) or that keeps the README a two-minute read.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { pathToFileURL } from "node:url";
import { appSchema } from "../stacks/config/app";
import { imageSchema } from "../stacks/config/images";
import { parseStackConfig, stackConfigSchema } from "../stacks/config";
import { readStackConfig, REPO_ROOT, STACKS } from "./support/stacks";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");
const DOCS = ["README.md", ...readdirSync(path.join(REPO_ROOT, "docs")).map((f) => `docs/${f}`)];

/** Every TypeScript source of the program (where TSDoc lives). */
function sources(dir: string): string[] {
    return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : [],
    );
}

/** A `## ` section of a Markdown file, by the start of its heading. */
function section(markdown: string, heading: string): string {
    const found = markdown.split(/^#{2,3} /m).find((s) => s.startsWith(heading));
    assert.ok(found, `a section "${heading}"`);
    return found;
}

describe("the docs tell the truth", () => {
    it("README: the quickstart is on the first screen, the whole file a short read, nothing about test machines", () => {
        const lines = read("README.md").replace(/\n$/, "").split("\n");
        for (const command of ["npm run up:local", "npm run test:all"]) {
            const at = lines.findIndex((l) => l.replace(/^\$ /, "").startsWith(command));
            assert.ok(at >= 0 && at < 25, `${command} is on line ${at + 1}`);
        }
        assert.ok(lines.length <= 120, `README has ${lines.length} lines`);
        assert.doesNotMatch(read("README.md"), /stand-in|CI machines/i);
        // Words that only make sense inside this repository's own history.
        assert.doesNotMatch(read("README.md"), /\bthe main job\b|\bsaid so\b|\bissue \d+|#\d+\b/i);
    });

    it("README: says where the local stage is tested and where not, and which paths are tested under mocks only", () => {
        const readme = read("README.md");
        assert.match(readme, /\*\*Tested\*\*: Linux .*as root, on Slipway's own single-node Kubernetes/);
        for (const untested of ["kind", "k3d", "Docker Desktop", "macOS"]) {
            assert.match(section(readme, "Where the local stage runs"), new RegExp(`\\*\\*Untested\\*\\*:[^\\n]*${untested}`));
        }
        assert.match(readme, /`@pulumi\/docker`[\s\S]*tested under Pulumi mocks only/);
        assert.match(readme, /\*\*AWS\*\*[\s\S]*tested under Pulumi mocks only/);
    });

    it("no doc advertises an env value the service rejects (LOG_LEVEL)", async () => {
        // The sample service's own schema decides (the platform checks env names only).
        const url = pathToFileURL(path.join(REPO_ROOT, "app", "src", "config.ts")).href;
        const { EnvSchema } = (await import(url)) as {
            EnvSchema: { shape: { LOG_LEVEL: { safeParse(v: string): { success: boolean } } } };
        };
        for (const file of DOCS) {
            // "LOG_LEVEL: Invalid option" is the service's own refusal, quoted where a doc shows a failed rollout.
            for (const m of read(file).matchAll(/\bLOG_LEVEL[=: ]+(?!Invalid option)([A-Za-z]+)/g)) {
                assert.ok(EnvSchema.shape.LOG_LEVEL.safeParse(m[1]).success, `${file} says LOG_LEVEL ${m[1]}`);
            }
        }
    });

    it("hard topology spread is described as what it is (max skew 1, DoNotSchedule), never as one pod per node", () => {
        for (const file of [...DOCS, ...sources("components"), ...sources("stacks")]) {
            assert.doesNotMatch(read(file), /no two pods on one node|refuses two pods on one node/i, file);
        }
        const spread = section(read("docs/configuration.md"), "Topology spread");
        assert.match(spread, /maxSkew: 1/);
        assert.match(spread, /`hard` \(`DoNotSchedule`/);
    });

    it("every Ingress TLS Secret a stack names is documented with how to create it", () => {
        let named = 0;
        for (const stack of STACKS) {
            const app = readStackConfig(stack).app as { name: string; ingress?: { tlsSecretName?: string } };
            const secret = app.ingress?.tlsSecretName;
            if (secret === undefined) continue;
            named++;
            const howTo = new RegExp(`-n ${app.name}-${stack} create secret tls ${secret} `);
            assert.match(read("docs/operations.md"), howTo, `docs/operations.md creates ${secret}`);
            assert.match(read("docs/configuration.md"), /Slipway does not create it/);
        }
        assert.ok(named > 0, "prod names a TLS Secret");
    });

    it("every workflow job that pushes a pin to main is named where the docs explain branch protection", () => {
        const protection = section(read("docs/operations.md"), "Branch protection");
        const pushing: string[] = [];
        for (const file of readdirSync(path.join(REPO_ROOT, ".github", "workflows"))) {
            const workflow = parseYaml(read(`.github/workflows/${file}`)) as { jobs: Record<string, { steps: { run?: string }[] }> };
            for (const [name, job] of Object.entries(workflow.jobs)) {
                if (job.steps.some((s) => /git push origin HEAD:main/.test(s.run ?? ""))) {
                    pushing.push(`${file.replace(".yml", "")} ${name}`);
                    assert.ok(protection.includes(`\`${name}\``) && protection.includes(file), `${file} ${name}`);
                }
            }
        }
        assert.deepEqual(pushing.sort(), ["main promote-prod", "main promote-qa", "rollback rollback"]);
        assert.match(protection, /bypass/);
    });

    it("the policy README claims kube-score's pod-networkpolicy for the ingress half only", () => {
        const row = read("policy/README.md")
            .split("\n")
            .find((l) => l.startsWith("| `slipway-namespace-isolation`"));
        assert.ok(row);
        assert.match(row, /`pod-networkpolicy` \(ingress half only/);
    });

    it("docs/app-contract.md shows the error the program really gives for its example of bad input", () => {
        const shown = read("docs/app-contract.md").match(/```\n(Invalid Slipway stack config[^`]*)```/)?.[1];
        assert.ok(shown, "an example error");
        const raw = structuredClone(readStackConfig("dev")) as any;
        raw.app.port = 70000;
        raw.app.probes = { readiness: { path: "readyz" } };
        raw.app.runAsUser = 0;
        raw.image.buildArgs = { "GO-VERSION": "1.26" };
        assert.throws(
            () => parseStackConfig(raw),
            (e: unknown) => e instanceof Error && `${e.message}\n` === shown,
        );
    });

    it("the configuration reference documents every key of the stack config schema", () => {
        const reference = read("docs/configuration.md");
        type Shaped = { shape: Record<string, unknown> };
        const top = (stackConfigSchema as unknown as { _zod: { def: { in: Shaped } } })._zod.def.in.shape;
        const building = (imageSchema as unknown as { options: (Shaped & { shape: { source: { value: string } } })[] }).options.find(
            (o) => o.shape.source.value === "build",
        );
        assert.ok(building);
        const keys = [
            ...Object.keys(top),
            ...Object.keys((appSchema as unknown as Shaped).shape).map((k) => `app.${k}`),
            ...Object.keys(building.shape).map((k) => `image.${k}`),
        ];
        for (const key of keys) {
            assert.ok(reference.includes(`\`${key}\``) || reference.includes(`\`${key}.`), `docs/configuration.md documents ${key}`);
        }
    });
});
