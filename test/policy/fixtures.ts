/**
 * Hand-built resources in the shape Slipway's program produces: each `good…` fixture passes every rule, and tests
 * break one field at a time.
 */
import { TestResource } from "./harness";

export const DIGEST = "sha256:" + "ab12".repeat(16);
export const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
export const APP_IMAGE = `${REGISTRY}/hello@${DIGEST}`;
export const NAMESPACE = "hello-prod";
export const POD_LABELS = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello-prod" };
const SERVICE_LABELS = { ...POD_LABELS, "app.kubernetes.io/part-of": "slipway" };

/** A deep copy, so a test can break a fixture without touching the others. */
export function clone<T>(value: T): T {
    return structuredClone(value);
}

/** The app container as AppDeployment builds it. */
export function goodContainer(): Record<string, any> {
    return {
        name: "hello",
        image: APP_IMAGE,
        ports: [
            { name: "http", containerPort: 8080 },
            { name: "metrics", containerPort: 9464 },
        ],
        env: [
            { name: "PORT", value: "8080" },
            { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "hello-secret", key: "API_TOKEN" } } },
        ],
        resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
        startupProbe: { httpGet: { path: "/healthz", port: "http" }, failureThreshold: 30 },
        lifecycle: { preStop: { sleep: { seconds: 5 } } },
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/** A Deployment with 3 replicas, zero-downtime rollout and topology spread. */
export function goodDeployment(): TestResource {
    return {
        type: "kubernetes:apps/v1:Deployment",
        name: "app-deployment",
        props: {
            metadata: { name: "hello", namespace: NAMESPACE, labels: SERVICE_LABELS },
            spec: {
                replicas: 3,
                selector: { matchLabels: POD_LABELS },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels: POD_LABELS },
                    spec: {
                        terminationGracePeriodSeconds: 30,
                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                        topologySpreadConstraints: [
                            {
                                maxSkew: 1,
                                topologyKey: "kubernetes.io/hostname",
                                whenUnsatisfiable: "ScheduleAnyway",
                                labelSelector: { matchLabels: POD_LABELS },
                            },
                        ],
                        containers: [goodContainer()],
                        volumes: [{ name: "tmp", emptyDir: {} }],
                    },
                },
            },
        },
    };
}

export function goodService(): TestResource {
    return {
        type: "kubernetes:core/v1:Service",
        name: "app-service",
        props: {
            metadata: { name: "hello", namespace: NAMESPACE, labels: SERVICE_LABELS },
            spec: {
                selector: POD_LABELS,
                ports: [
                    { name: "http", port: 80, targetPort: "http" },
                    { name: "metrics", port: 9464, targetPort: "metrics" },
                ],
            },
        },
    };
}

export function goodServiceMonitor(): TestResource {
    return {
        type: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        name: "app-servicemonitor",
        props: {
            metadata: { name: "hello", namespace: NAMESPACE },
            spec: { selector: { matchLabels: POD_LABELS }, endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }] },
        },
    };
}

export function goodPdb(): TestResource {
    return {
        type: "kubernetes:policy/v1:PodDisruptionBudget",
        name: "app-pdb",
        props: { metadata: { name: "hello", namespace: NAMESPACE }, spec: { maxUnavailable: 1, selector: { matchLabels: POD_LABELS } } },
    };
}

export function goodHpa(minReplicas = 3): TestResource {
    return {
        type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        name: "app-hpa",
        props: {
            metadata: { name: "hello", namespace: NAMESPACE },
            spec: { minReplicas, maxReplicas: 10, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "hello" } },
        },
    };
}

/** The namespace's isolation objects: default deny, the app's allow rule, a quota and a LimitRange. */
export function isolation(): TestResource[] {
    return [
        {
            type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            name: "app-deny-all",
            props: { metadata: { name: "deny-all", namespace: NAMESPACE }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
        },
        {
            type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            name: "app-netpol",
            props: {
                metadata: { name: "hello", namespace: NAMESPACE },
                spec: { podSelector: { matchLabels: POD_LABELS }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: "http" }] }] },
            },
        },
        {
            type: "kubernetes:core/v1:ResourceQuota",
            name: "app-quota",
            props: { metadata: { namespace: NAMESPACE }, spec: { hard: { pods: "20" } } },
        },
        { type: "kubernetes:core/v1:LimitRange", name: "app-limits", props: { metadata: { namespace: NAMESPACE }, spec: { limits: [] } } },
    ];
}

/** Every Kubernetes object of a healthy prod stack. */
export function goodStack(): TestResource[] {
    return [goodDeployment(), goodService(), goodServiceMonitor(), goodPdb(), goodHpa(), ...isolation()];
}

export function goodEcrRepository(name = "hello"): TestResource {
    return {
        type: "aws:ecr/repository:Repository",
        name: `registry-${name}`,
        props: {
            name,
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            forceDelete: false,
            repositoryUrl: `${REGISTRY}/${name}`,
        },
    };
}

export const LIFECYCLE = JSON.stringify({
    rules: [
        {
            rulePriority: 1,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
        },
        {
            rulePriority: 2,
            selection: { tagStatus: "tagged", tagPrefixList: ["build-"], countType: "imageCountMoreThan", countNumber: 50 },
            action: { type: "expire" },
        },
    ],
});

export function goodLifecyclePolicy(repository = "hello"): TestResource {
    return {
        type: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        name: `registry-${repository}-lifecycle`,
        props: { repository, policy: LIFECYCLE },
    };
}

export function goodBuildImage(): TestResource {
    return {
        type: "docker-build:index:Image",
        name: "app-image",
        props: {
            push: true,
            tags: [`${REGISTRY}/hello:build-1042`, `${REGISTRY}/hello:sha-9f2c4e1`],
            registries: [{ address: REGISTRY, username: "AWS", password: "token" }],
            buildArgs: {
                BUILD_IMAGE: `${REGISTRY}/slipway-build-env@${DIGEST}`,
                RUNTIME_BASE_IMAGE: `node:24-bookworm-slim@${DIGEST}`,
                BUILD_NUMBER: "1042",
            },
            dockerfile: {
                inline: "ARG BUILD_IMAGE\nARG RUNTIME_BASE_IMAGE\nFROM ${BUILD_IMAGE} AS build\nFROM build AS test\nFROM ${RUNTIME_BASE_IMAGE} AS runtime\nFROM scratch AS artifact\n",
            },
            target: "runtime",
        },
    };
}

/** A fixture's pod spec, for tests that edit it. */
export function podSpec(resource: TestResource): Record<string, any> {
    return resource.props.spec.template.spec;
}

/** The first container of a fixture. */
export function container(resource: TestResource): Record<string, any> {
    return podSpec(resource).containers[0];
}
