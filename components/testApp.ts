import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export const TEST_NAMESPACE = "sample";
export const HELLOWORLD_PORT = 5000;

export const HELLOWORLD_VERSIONS = ["v1", "v2"] as const;
export type HelloworldVersion = (typeof HELLOWORLD_VERSIONS)[number];

export interface TestAppArgs {
    readonly provider: k8s.Provider;
    /** Which helloworld version this cluster serves. */
    readonly version: HelloworldVersion;
    readonly helloworldImage: string;
    readonly curlImage: string;
    /** When false, nothing waits for pods to become ready (API servers without nodes). */
    readonly awaitWorkloads: boolean;
}

/**
 * Istio's multicluster sample for one cluster: the `sample` namespace with sidecar injection, the
 * `helloworld` Service (present in every cluster, so each cluster's istiod merges the endpoints of all),
 * one helloworld version, and a curl client to send requests from.
 */
export class TestApp extends pulumi.ComponentResource {
    readonly namespace: pulumi.Output<string>;
    readonly helloworld: k8s.apps.v1.Deployment;
    readonly curl: k8s.apps.v1.Deployment;

    constructor(name: string, args: TestAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:app:TestApp", name, {}, opts);
        // Objects have fixed names that other tooling (and the verification) rely on, so a
        // replacement must delete the old object first.
        const childOpts = { parent: this, provider: args.provider, deleteBeforeReplace: true };
        const annotations = args.awaitWorkloads ? undefined : { "pulumi.com/skipAwait": "true" };

        // Everything else is created in this namespace, so the component's dependencies apply here.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-sample-namespace`,
            { metadata: { name: TEST_NAMESPACE, labels: { "istio-injection": "enabled" } } },
            { ...childOpts, dependsOn: opts?.dependsOn },
        );
        this.namespace = namespace.metadata.name;
        const metadata = (objectName: string, labels: Record<string, string>) => ({
            name: objectName,
            namespace: this.namespace,
            labels,
            annotations,
        });

        new k8s.core.v1.Service(
            `${name}-helloworld`,
            {
                metadata: metadata("helloworld", { app: "helloworld", service: "helloworld" }),
                spec: {
                    selector: { app: "helloworld" },
                    ports: [{ name: "http", port: HELLOWORLD_PORT, targetPort: HELLOWORLD_PORT }],
                },
            },
            childOpts,
        );

        const helloworldLabels = { app: "helloworld", version: args.version };
        this.helloworld = new k8s.apps.v1.Deployment(
            `${name}-helloworld-${args.version}`,
            {
                metadata: metadata(`helloworld-${args.version}`, helloworldLabels),
                spec: {
                    replicas: 1,
                    selector: { matchLabels: helloworldLabels },
                    template: {
                        metadata: { labels: helloworldLabels },
                        spec: {
                            containers: [
                                {
                                    name: "helloworld",
                                    image: args.helloworldImage,
                                    ports: [{ containerPort: HELLOWORLD_PORT }],
                                    resources: { requests: { cpu: "100m" } },
                                },
                            ],
                        },
                    },
                },
            },
            childOpts,
        );

        const curlLabels = { app: "curl" };
        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-curl`, { metadata: metadata("curl", curlLabels) }, childOpts);
        this.curl = new k8s.apps.v1.Deployment(
            `${name}-curl`,
            {
                metadata: metadata("curl", curlLabels),
                spec: {
                    replicas: 1,
                    selector: { matchLabels: curlLabels },
                    template: {
                        metadata: { labels: curlLabels },
                        spec: {
                            serviceAccountName: serviceAccount.metadata.name,
                            // Stop at once on delete: curl sleeps and has nothing to drain.
                            terminationGracePeriodSeconds: 0,
                            containers: [{ name: "curl", image: args.curlImage, command: ["/bin/sleep", "infinity"] }],
                        },
                    },
                },
            },
            childOpts,
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}
