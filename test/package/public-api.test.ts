/**
 * The package's public API is exactly what the entry point (index.ts) exports: one namespace per area, and in each the
 * names below. An export added or removed anywhere under index.ts (a component's file, contracts/, the config
 * barrel) fails here, so it is a decision, written down in CHANGELOG.md, never an accident.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const REPO = path.resolve(__dirname, "..", "..");
const ENTRY = path.join(REPO, "index.ts");

/** Every name of the public API, values and types, by namespace. Types are not seen at run time. */
const PUBLIC_API: Record<string, { values: string[]; types: string[] }> = {
    app: { values: ["AppDeployment"], types: ["AppDeploymentArgs"] },
    config: {
        values: ["StackConfigError", "decodeProjectConfig", "parseStackConfig", "stackConfigSchema"],
        types: ["BuildingStackConfig", "PinnedStackConfig", "StackConfig"],
    },
    contracts: {
        values: [
            "APPS_CONFIG_KEY",
            "APP_CONFIG_KEY",
            "APP_PORT_NAMES",
            "BUILD_ARG_NAME",
            "CACHE_TAG",
            "ComponentType",
            "DEPLOYED_STAGES",
            "ENV_NAME",
            "IMAGE_CONFIG_KEY",
            "IMAGE_LABELS",
            "LABEL_NAME",
            "LOCAL_STAGE",
            "METRIC_NAME",
            "MIN_APP_PORT",
            "PINNED_STAGES",
            "PROBE_PATH",
            "SHORT_SHA_LENGTH",
            "SLIPWAY_BUILD_ARGS",
            "SLIPWAY_ENV",
            "STACK_OUTPUTS",
            "STAGES",
            "StackOutput",
            "TAG_PREFIX",
            "TARGET_NAME",
            "UNKNOWN",
            "digestPinnedImage",
            "imageTag",
            "imageTags",
            "isAppPort",
            "isNonRootUid",
            "isPinnedStage",
            "isSlipwayEnv",
            "metadataFromLabels",
            "pinnedImageSchema",
            "shortSha",
        ],
        types: [
            "AppOutputs",
            "BuildMetadata",
            "ComponentTypeToken",
            "PinnedImage",
            "RegistryCredentials",
            "SlipwayEnvName",
            "Stage",
            "StackOutputName",
        ],
    },
    image: {
        values: ["AppImage", "BuildImage"],
        types: ["AppImageArgs", "AppImageBuildSource", "AppImagePinnedSource", "BuildImageArgs"],
    },
    registry: { values: ["Registry"], types: ["EcrRegistryArgs", "ExternalRegistryArgs", "LocalRegistryArgs", "RegistryArgs"] },
    stage: { values: ["defineStage", "StageNamespace"], types: ["StackOutputs", "StageNamespaceArgs", "StageOptions"] },
};

/** A module's exported names as the source declares them, following `export * from` and `export … from` syntactically. */
function exportedNames(file: string, seen = new Set<string>()): Map<string, string | undefined> {
    // name → for `export * as name from`, the module it names; else undefined
    const names = new Map<string, string | undefined>();
    if (seen.has(file)) return names;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const resolve = (spec: ts.Expression) => {
        const base = path.resolve(path.dirname(file), (spec as ts.StringLiteral).text);
        return (
            [`${base}.ts`, path.join(base, "index.ts")].find((f) => ts.sys.fileExists(f)) ??
            assert.fail(`cannot resolve ${base} from ${file}`)
        );
    };
    for (const statement of source.statements) {
        if (ts.isExportDeclaration(statement)) {
            const clause = statement.exportClause;
            if (clause === undefined) {
                for (const name of exportedNames(resolve(statement.moduleSpecifier!), seen).keys()) names.set(name, undefined);
            } else if (ts.isNamespaceExport(clause)) {
                names.set(clause.name.text, resolve(statement.moduleSpecifier!));
            } else {
                for (const element of clause.elements) names.set(element.name.text, undefined);
            }
            continue;
        }
        const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
        if (!exported) continue;
        if (ts.isVariableStatement(statement)) {
            for (const d of statement.declarationList.declarations) names.set((d.name as ts.Identifier).text, undefined);
        } else if (
            ts.isFunctionDeclaration(statement) ||
            ts.isClassDeclaration(statement) ||
            ts.isInterfaceDeclaration(statement) ||
            ts.isTypeAliasDeclaration(statement) ||
            ts.isEnumDeclaration(statement)
        ) {
            names.set(statement.name!.text, undefined);
        } else {
            assert.fail(`${file}: an export this test does not know: ${statement.getText().slice(0, 60)}`);
        }
    }
    return names;
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe("public API: what index.ts exports", () => {
    const namespaces = exportedNames(ENTRY);

    it("is one namespace per area and nothing else", () => {
        assert.deepEqual(sorted(namespaces.keys()), sorted(Object.keys(PUBLIC_API)));
        for (const [name, module] of namespaces) assert.ok(module, `index.ts exports ${name}, which is not a namespace`);
    });

    for (const [namespace, expected] of Object.entries(PUBLIC_API)) {
        it(`${namespace}: exactly the listed values and types`, () => {
            const module = namespaces.get(namespace);
            assert.ok(module, `index.ts has no namespace ${namespace}`);
            assert.deepEqual(sorted(exportedNames(module).keys()), sorted([...expected.values, ...expected.types]));
        });
    }

    it("at run time, each namespace holds exactly the listed values", function () {
        this.timeout(60_000);
        const lib = require(ENTRY);
        assert.deepEqual(sorted(Object.keys(lib)), sorted(Object.keys(PUBLIC_API)));
        for (const [namespace, expected] of Object.entries(PUBLIC_API)) {
            assert.deepEqual(sorted(Object.keys(lib[namespace])), sorted(expected.values), namespace);
        }
    });
});
