import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
/** A cluster the program creates itself with `kind`, for laptops and CI machines with Docker. */
export interface KindClusterSource {
    readonly type: "kind";
    /** kind node image, e.g. `kindest/node:v1.34.0`; kind's own default when absent. */
    readonly nodeImage?: string;
}

/** A cluster that already exists and is reached through a kubeconfig. */
export interface ExistingClusterSource {
    readonly type: "existing";
    /** The kubeconfig's YAML content. */
    readonly kubeconfig: string;
    readonly context?: string;
    /** The API-server URL that OTHER clusters' istiod must use. */
    readonly apiServer: string;
}

export interface ClusterArgs {
    /** The cluster's name in the mesh. */
    readonly name: string;
    readonly network: string;
    readonly source: KindClusterSource | ExistingClusterSource;
    /**
     * The cluster no longer exists: its providers drop its objects from the state instead of failing to
     * reach it. Nothing is made in a cluster that is gone.
     */
    readonly gone: boolean;
}

/** How to reach a cluster's API server as its admin. */
export interface ClusterConnection {
    /** The admin kubeconfig (secret). */
    readonly kubeconfig: pulumi.Input<string>;
    readonly context?: string;
    /** Whether objects of this cluster may be dropped from the state when its API server does not answer. */
    readonly deleteUnreachable: boolean;
}

/**
 * A Kubernetes provider for one cluster, with the settings every object of the program relies on.
 * A cluster usually has one; a second one serves to order objects whose chart cannot carry the order.
 */
export function clusterProvider(name: string, connection: ClusterConnection, opts: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(
        name,
        {
            kubeconfig: connection.kubeconfig,
            context: connection.context,
            // A `pulumi up` interrupted while it creates an object (a Deployment rolling out, a token
            // being filled in) leaves the object in the cluster but not in the state, as a pending
            // create. By default the next run's create fails with "already exists", and every run after
            // it; with this, the create is a server-side apply that takes the object over and the mesh
            // converges. A field another manager owns with a different value still stops it (a
            // conflict); docs/operations.md, "Objects that may already exist", says what that means for each object.
            upsertExistingObjects: true,
            // A Secret whose data changes (`cacerts` for another CA, a remote secret for a new token
            // or address) is updated in place instead of deleted and created again, so istiod never
            // sees it missing. Nothing the program sets makes its Secrets immutable or changes their type,
            // the two things that still force a replacement.
            enableSecretMutable: true,
            // Likewise a ConfigMap whose data changes (istiod's mesh and injector config), as Helm
            // updates them: a running istiod never finds its mesh config gone.
            enableConfigMapMutable: true,
            // Set explicitly, false but for a cluster that is gone: a provider given none takes
            // PULUMI_K8S_DELETE_UNREACHABLE from the environment of the run that registers it and keeps it in
            // the state, where a later `pulumi destroy` finds it and, while the cluster is briefly
            // unreachable, forgets all its objects, `cacerts` and its CA key among them, which stay in the
            // cluster. Set, it also overrides that variable in every later run.
            deleteUnreachable: connection.deleteUnreachable,
        },
        opts,
    );
}

/**
 * One cluster of the mesh: its explicit Kubernetes provider and the API-server address the other
 * clusters use. A kind cluster is created and deleted with it; an existing cluster is only connected to.
 */
export class Cluster extends pulumi.ComponentResource {
    readonly clusterName: string;
    readonly network: string;
    readonly provider: k8s.Provider;
    /** What a provider for this cluster is made from (see `clusterProvider`); the kubeconfig is secret. */
    readonly connection: ClusterConnection;
    /** API-server URL reachable from the other clusters' istiod. */
    readonly apiServer: pulumi.Output<string>;
    /** For kind: the node address the other clusters reach, used to expose the east-west gateway. */
    readonly nodeAddress: pulumi.Output<string> | undefined;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:cluster:Cluster", name, {}, opts);
        const { source } = args;
        this.clusterName = args.name;
        this.network = args.network;

        if (source.type === "kind") {
            const environment = {
                KIND_CLUSTER_NAME: args.name,
                ...(source.nodeImage ? { KIND_NODE_IMAGE: source.nodeImage } : {}),
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
            this.connection = { kubeconfig: pulumi.secret(kind.stdout), deleteUnreachable: args.gone };
            this.nodeAddress = node.stdout;
            this.apiServer = pulumi.interpolate`https://${node.stdout}:6443`;
        } else {
            this.connection = { kubeconfig: pulumi.secret(source.kubeconfig), context: source.context, deleteUnreachable: args.gone };
            this.nodeAddress = undefined;
            this.apiServer = pulumi.output(source.apiServer);
        }

        this.provider = clusterProvider(`${name}-k8s`, this.connection, { parent: this });
        this.registerOutputs({ apiServer: this.apiServer, network: this.network });
    }
}
