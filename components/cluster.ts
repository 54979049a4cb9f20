import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../stacks/types";

export interface ClusterArgs {
    readonly config: ClusterConfig;
}

/**
 * One cluster of the mesh: its explicit Kubernetes provider and the API-server address the other
 * clusters use. A kind cluster is created and deleted with it; an existing cluster is only connected to.
 */
export class Cluster extends pulumi.ComponentResource {
    readonly clusterName: string;
    readonly network: string;
    readonly provider: k8s.Provider;
    /** Admin kubeconfig (secret), for the provider and for the traffic verification. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly context: string | undefined;
    /** API-server URL reachable from the other clusters' istiod. */
    readonly apiServer: pulumi.Output<string>;
    /** For kind: the node address the other clusters reach, used to expose the east-west gateway. */
    readonly nodeAddress: pulumi.Output<string> | undefined;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:cluster:Cluster", name, {}, opts);
        const { config } = args;
        this.clusterName = config.name;
        this.network = config.network;

        if (config.source.type === "kind") {
            const environment = {
                KIND_CLUSTER_NAME: config.name,
                ...(config.source.nodeImage ? { KIND_NODE_IMAGE: config.source.nodeImage } : {}),
            };
            const kind = new command.local.Command(
                `${name}-kind`,
                {
                    create: "bash scripts/kind-create.sh",
                    delete: "kind delete cluster --name \"$KIND_CLUSTER_NAME\"",
                    environment,
                    // stdout is the admin kubeconfig: never echo it to the console.
                    logging: command.local.Logging.Stderr,
                },
                { parent: this, additionalSecretOutputs: ["stdout"] },
            );
            const node = new command.local.Command(
                `${name}-node-address`,
                { create: "bash scripts/kind-node-address.sh", environment, triggers: [kind.id] },
                { parent: this },
            );
            this.kubeconfig = pulumi.secret(kind.stdout);
            this.context = undefined;
            this.nodeAddress = node.stdout;
            this.apiServer = pulumi.interpolate`https://${node.stdout}:6443`;
        } else {
            this.kubeconfig = pulumi.secret(config.source.kubeconfig);
            this.context = config.source.context;
            this.nodeAddress = undefined;
            this.apiServer = pulumi.output(config.source.apiServer);
        }

        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, context: this.context },
            { parent: this },
        );
        this.registerOutputs({ apiServer: this.apiServer, network: this.network });
    }
}
