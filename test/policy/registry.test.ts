import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
    buildBaseImagesPinned,
    ecrLifecyclePolicy,
    ecrNoForceDelete,
    ecrRepository,
    imagesOnStackRegistry,
    unpinnedFromLines,
} from "../../policy/rules/registry";
import { isDigestPinned, normaliseRegistry, parseImageRef } from "../../policy/lib/images";
import { runResource, runStack } from "./harness";
import { DIGEST, REGISTRY, clone, container, goodBuildImage, goodDeployment, goodEcrRepository, goodLifecyclePolicy } from "./fixtures";

describe("policy: slipway-ecr-repository", () => {
    it("passes IMMUTABLE (and IMMUTABLE_WITH_EXCLUSION) with scan on push", async () => {
        assert.deepEqual((await runResource(ecrRepository, goodEcrRepository())).violations, []);
        const withExclusion = goodEcrRepository();
        withExclusion.props.imageTagMutability = "IMMUTABLE_WITH_EXCLUSION";
        assert.deepEqual((await runResource(ecrRepository, withExclusion)).violations, []);
    });

    it("rejects mutable tags (also by default) and no scanning", async () => {
        const repo = goodEcrRepository();
        delete repo.props.imageTagMutability;
        repo.props.imageScanningConfiguration = { scanOnPush: false };
        assert.deepEqual((await runResource(ecrRepository, repo)).violations, [
            'imageTagMutability is MUTABLE: a re-pushed build-<n> or sha-<sha> tag would point rollback at different content. Fix: set imageTagMutability: "IMMUTABLE" (or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters for tags that must move).',
            "imageScanningConfiguration.scanOnPush is not true, so pushed images are never scanned for vulnerabilities. Fix: set imageScanningConfiguration: { scanOnPush: true }.",
        ]);
    });
});

describe("policy: slipway-ecr-no-force-delete", () => {
    it("passes forceDelete false and rejects true", async () => {
        assert.deepEqual((await runResource(ecrNoForceDelete, goodEcrRepository())).violations, []);
        const repo = goodEcrRepository();
        repo.props.forceDelete = true;
        assert.deepEqual((await runResource(ecrNoForceDelete, repo)).violations, [
            "forceDelete is true: destroying the stack deletes the repository with every image in it, including the digests that stack history would roll back to. Fix: set slipway:registry.forceDelete to false for this stage.",
        ]);
    });
});

describe("policy: slipway-ecr-lifecycle-policy (stack)", () => {
    it("passes when every repository has a policy expiring untagged images", async () => {
        const run = await runStack(ecrLifecyclePolicy, [
            goodEcrRepository("hello"),
            goodEcrRepository("build"),
            goodLifecyclePolicy("hello"),
            goodLifecyclePolicy("build"),
        ]);
        assert.deepEqual(run.violations, []);
    });

    it("rejects a repository without a policy and a policy that keeps untagged images", async () => {
        const weak = goodLifecyclePolicy("build");
        weak.props.policy = JSON.stringify({
            rules: [
                {
                    rulePriority: 1,
                    selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 100 },
                    action: { type: "expire" },
                },
            ],
        });
        const run = await runStack(ecrLifecyclePolicy, [goodEcrRepository("hello"), goodEcrRepository("build"), weak]);
        assert.deepEqual(run.violations, [
            'ECR repository "hello" has no lifecycle policy, so untagged layers and old builds accumulate forever. Fix: add an aws.ecr.LifecyclePolicy with repository set to this repository\'s name (configure slipway:registry.lifecycle).',
            'the lifecycle policy of ECR repository "build" never expires untagged images. Fix: include a rule { selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: N }, action: { type: "expire" } }.',
        ]);
    });

    it("is not applicable without ECR", async () => {
        assert.equal((await runStack(ecrLifecyclePolicy, [goodDeployment()])).notApplicable, "no ECR repositories");
    });
});

describe("policy: slipway-build-base-images-pinned", () => {
    it("passes pinned image build args and a Dockerfile built from them", async () => {
        assert.deepEqual((await runResource(buildBaseImagesPinned, goodBuildImage())).violations, []);
    });

    it("rejects an unpinned IMAGE build arg", async () => {
        const image = goodBuildImage();
        image.props.buildArgs.RUNTIME_BASE_IMAGE = "node:24-bookworm-slim";
        assert.deepEqual((await runResource(buildBaseImagesPinned, image)).violations, [
            'build arg RUNTIME_BASE_IMAGE is "node:24-bookworm-slim", not pinned by digest, so the same commit can build on a different base tomorrow. Fix: pass RUNTIME_BASE_IMAGE as <repository>@sha256:<64 hex> (docker buildx imagetools inspect <tag> prints the digest).',
            'Dockerfile "FROM ${RUNTIME_BASE_IMAGE}": RUNTIME_BASE_IMAGE is "node:24-bookworm-slim", not pinned by digest. Fix: write FROM ${SOME_IMAGE} with ARG SOME_IMAGE passed pinned by digest, or FROM <repository>@sha256:<64 hex>.',
        ]);
    });

    it("reads the Dockerfile from disk relative to the program directory", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "slipway-policy-"));
        writeFileSync(path.join(dir, "Dockerfile"), "ARG BASE=debian:bookworm\nFROM ${BASE}\nFROM alpine:3.20 AS tools\n");
        const image = goodBuildImage();
        image.props.dockerfile = { location: "Dockerfile" };
        const run = await runResource(buildBaseImagesPinned, image, { programDirectory: dir });
        assert.deepEqual(
            run.violations.map((v) => v.split(". Fix:")[0]),
            [
                'Dockerfile "FROM ${BASE}": BASE is "debian:bookworm", not pinned by digest',
                'Dockerfile "FROM alpine:3.20" is not pinned by digest',
            ],
        );
    });

    it("understands stages, scratch, ARG defaults and --platform", () => {
        const pinned = `node:24@${DIGEST}`;
        assert.deepEqual(
            unpinnedFromLines(`ARG B=${pinned}\nFROM --platform=$BUILDPLATFORM \${B} AS base\nFROM base AS test\nFROM scratch\n`, {}),
            [],
        );
        assert.deepEqual(unpinnedFromLines("FROM $MISSING\n", {}), [
            'Dockerfile "FROM $MISSING": MISSING is not passed and has no default, not pinned by digest',
        ]);
    });
});

describe("policy: slipway-images-on-stack-registry (stack)", () => {
    it("passes pushes and pulls on the stack's registry", async () => {
        const run = await runStack(imagesOnStackRegistry, [goodEcrRepository(), goodBuildImage(), goodDeployment()]);
        assert.deepEqual(run.violations, []);
    });

    it("rejects implicit push, Docker Hub tags, foreign registries, missing credentials and foreign pulls", async () => {
        const implicit = goodBuildImage();
        implicit.name = "build-env";
        delete implicit.props.push;
        const wrong = goodBuildImage();
        wrong.props.tags = ["hello:build-1", "ghcr.io/acme/hello:build-1"];
        const noCredentials = clone(goodBuildImage());
        noCredentials.name = "other";
        noCredentials.props.registries = [];
        const deployment = goodDeployment();
        container(deployment).image = `docker.io/library/nginx@${DIGEST}`;
        const run = await runStack(imagesOnStackRegistry, [goodEcrRepository(), implicit, wrong, noCredentials, deployment]);
        assert.deepEqual(run.violations, [
            'docker-build image "build-env" leaves push unset. Fix: set push explicitly (true to publish to the stack\'s registry, false for a local-only build).',
            `docker-build image "app-image" pushes "hello:build-1" without a registry host, i.e. to Docker Hub. Fix: prefix the tag with the stack's registry server (${REGISTRY}).`,
            `docker-build image "app-image" pushes "ghcr.io/acme/hello:build-1" to ghcr.io, which is not this stack's registry (${REGISTRY}). Fix: tag it on the stack's registry server.`,
            `docker-build image "other" pushes to ${REGISTRY} without credentials for it. Fix: add { address: "${REGISTRY}", username, password } to registries (from the Registry component's outputs).`,
            `Deployment "app-deployment" container "hello" pulls "docker.io/library/nginx@${DIGEST}" from docker.io, outside this stack's registry (${REGISTRY}). Fix: mirror the image into the stack's registry and reference it there by digest.`,
        ]);
    });

    it("takes the registry from the stack's registryServer output where the stack creates none (a pinned stage)", async () => {
        const stack = { type: "pulumi:pulumi:Stack", name: "slipway-qa", props: { stageName: "qa", registryServer: REGISTRY } };
        assert.deepEqual((await runStack(imagesOnStackRegistry, [stack, goodDeployment()])).violations, []);
        const foreign = goodDeployment();
        container(foreign).image = `ghcr.io/acme/hello@${DIGEST}`;
        assert.deepEqual((await runStack(imagesOnStackRegistry, [stack, foreign])).violations, [
            `Deployment "app-deployment" container "hello" pulls "ghcr.io/acme/hello@${DIGEST}" from ghcr.io, outside this stack's registry (${REGISTRY}). Fix: mirror the image into the stack's registry and reference it there by digest.`,
        ]);
        // Without that output, and with no registry resource, there is nothing to compare pulls to.
        assert.deepEqual((await runStack(imagesOnStackRegistry, [foreign])).violations, []);
        // A policy config that names the servers still wins over what the stack says.
        assert.equal(
            (await runStack(imagesOnStackRegistry, [stack, goodDeployment()], { registryServers: ["ghcr.io"] })).violations.length,
            1,
        );
    });

    it("takes the registry from policy config, and needs no credentials for a loopback registry", async () => {
        const local = goodBuildImage();
        local.props.tags = ["localhost:5001/hello:build-1"];
        local.props.registries = [];
        const deployment = goodDeployment();
        container(deployment).image = `localhost:5001/hello@${DIGEST}`;
        assert.deepEqual(
            (await runStack(imagesOnStackRegistry, [local, deployment], { registryServers: ["http://localhost:5001"] })).violations,
            [],
        );
        const run = await runStack(imagesOnStackRegistry, [goodBuildImage()], { registryServers: ["localhost:5001"] });
        assert.equal(run.violations.length, 2);
        assert.match(
            run.violations[0],
            new RegExp(`pushes "${REGISTRY}/hello:build-1042" to ${REGISTRY}, which is not this stack's registry \\(localhost:5001\\)`),
        );
    });
});

describe("image references", () => {
    it("parses registry, tag and digest like Docker", () => {
        assert.deepEqual(parseImageRef("localhost:5001/team/hello:1.0@" + DIGEST), {
            registry: "localhost:5001",
            explicitRegistry: true,
            repository: "team/hello",
            tag: "1.0",
            digest: DIGEST,
        });
        assert.deepEqual(parseImageRef("library/nginx"), {
            registry: "docker.io",
            explicitRegistry: false,
            repository: "library/nginx",
            tag: undefined,
            digest: undefined,
        });
        assert.equal(isDigestPinned(`hello@${DIGEST}`), true);
        assert.equal(isDigestPinned(`hello@${DIGEST.toUpperCase()}`), false);
        assert.equal(normaliseRegistry("https://Registry.Example.com/v2/"), "registry.example.com");
    });
});
