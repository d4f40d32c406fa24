import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { SLIPWAY_ENV, STAGES } from "../contracts";
import { parseStackConfig } from "../stacks/config";
import { single, evaluateStack, readStackConfig, REPO_ROOT, STACKS } from "./support/stacks";

/**
 * The program and the sample service must agree: every stack's container environment and mounted
 * config file are fed to the service's own config loader (app/src/config.ts, loaded as the ESM
 * TypeScript it is, through Node 24's type stripping). A key the service rejects here would be a
 * crash-looping pod after `pulumi up`.
 */
type LoadConfig = (env: Record<string, string | undefined>) => {
    PORT: number;
    METRICS_PORT: number;
    STAGE: string;
    LOG_LEVEL: string;
    file: Record<string, unknown>;
};

/** The service's env schema: a zod object whose fields are (defaulted) zod schemas. */
type ZodLike = { _zod: { def: { type: string; innerType?: ZodLike; entries?: Record<string, string> } } };
type EnvSchema = { shape: Record<string, ZodLike> };

/** The options of an enum field, under optional/default wrappers; undefined for any other type. */
function enumOptions(schema: ZodLike): string[] | undefined {
    const def = schema._zod.def;
    if ((def.type === "default" || def.type === "optional") && def.innerType) {
        return enumOptions(def.innerType);
    }
    return def.type === "enum" && def.entries ? Object.values(def.entries) : undefined;
}

async function appConfigModule(): Promise<{ loadConfig: LoadConfig; EnvSchema: EnvSchema }> {
    const url = pathToFileURL(path.join(REPO_ROOT, "app", "src", "config.ts")).href;
    return (await import(url)) as { loadConfig: LoadConfig; EnvSchema: EnvSchema };
}

async function appLoadConfig(): Promise<LoadConfig> {
    return (await appConfigModule()).loadConfig;
}

describe("every stack's container config is accepted by the sample service", () => {
    for (const stack of STACKS) {
        it(`${stack}: env and mounted config file load without error`, async () => {
            const loadConfig = await appLoadConfig();
            const resources = await evaluateStack(stack);
            const container = single(resources, "kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0];
            const env: Record<string, string> = {};
            for (const variable of container.env) {
                if (variable.value !== undefined) {
                    env[variable.name] = variable.value;
                }
            }
            // The ConfigMap's file, written where CONFIG_FILE points inside a scratch folder.
            const data = single(resources, "kubernetes:core/v1:ConfigMap").inputs.data as Record<string, string>;
            const [[fileName, content]] = Object.entries(data);
            assert.equal(path.posix.basename(env.CONFIG_FILE), fileName);
            const dir = mkdtempSync(path.join(tmpdir(), `slipway-${stack}-`));
            writeFileSync(path.join(dir, fileName), content);

            const config = loadConfig({ ...env, CONFIG_FILE: path.join(dir, fileName) });
            assert.equal(config.PORT, container.ports.find((p: any) => p.name === "http").containerPort);
            assert.equal(config.METRICS_PORT, container.ports.find((p: any) => p.name === "metrics").containerPort);
            assert.equal(config.STAGE, stack);
            assert.equal(typeof config.file.message, "string");
        });
    }

    it("the service knows exactly Slipway's stages", async () => {
        const { EnvSchema } = await appConfigModule();
        assert.deepEqual(enumOptions(EnvSchema.shape.STAGE), [...STAGES]);
    });

    it("Slipway sets exactly the service's own variables that are not the stage's to set", async () => {
        const { EnvSchema } = await appConfigModule();
        // HOST is the service's own (tests bind 127.0.0.1) and LOG_LEVEL the stage's, through app.env.
        const platform = Object.keys(EnvSchema.shape).filter((name) => !["HOST", "LOG_LEVEL"].includes(name));
        assert.deepEqual([...platform].sort(), [...SLIPWAY_ENV].sort());
    });

    it("values are the service's to check: the stack config takes any LOG_LEVEL text, the service refuses a bad one", async () => {
        const loadConfig = await appLoadConfig();
        const raw = structuredClone(readStackConfig("dev")) as any;
        raw.app.env.LOG_LEVEL = "debug";
        assert.equal(parseStackConfig(raw).app.env.LOG_LEVEL, "debug", "the platform checks names only");
        assert.throws(() => loadConfig({ LOG_LEVEL: "debug" }), /LOG_LEVEL/);
        for (const stack of STACKS) {
            const env = (readStackConfig(stack).app as { env: Record<string, string> }).env;
            assert.doesNotThrow(() => loadConfig(env), `${stack}'s app.env`);
        }
    });

    it("a config key the service does not know is caught here, before any deploy", async () => {
        const loadConfig = await appLoadConfig();
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-bad-"));
        writeFileSync(path.join(dir, "config.yaml"), "greeting: hi\n");
        assert.throws(() => loadConfig({ CONFIG_FILE: path.join(dir, "config.yaml") }), /greeting/);
    });
});
