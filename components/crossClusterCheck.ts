import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HelloworldVersion } from "./testApp";

export interface CrossClusterCheckArgs {
    readonly clusterName: string;
    /** Admin kubeconfig of the cluster the requests start from (secret; passed on stdin). */
    readonly kubeconfig: pulumi.Input<string>;
    readonly context?: string;
    /** Every version that must answer, wherever it runs. */
    readonly expectedVersions: readonly HelloworldVersion[];
    readonly requests: number;
    readonly attempts: number;
    /** Changes to these (the mesh and the test app) run the check again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/** What one cluster's curl client saw. */
export interface CrossClusterResult {
    readonly cluster: string;
    readonly requests: number;
    readonly attempts: number;
    /** Replies per helloworld version. */
    readonly answers: Readonly<Record<string, number>>;
}

/**
 * Proves that traffic crosses clusters: from this cluster's curl client, requests to
 * `helloworld.sample:5000/hello` must be answered by every helloworld version, including those that only
 * run in other clusters. If not, `pulumi up` fails with a message naming the cluster and the versions.
 */
export class CrossClusterCheck extends pulumi.ComponentResource {
    readonly result: pulumi.Output<CrossClusterResult>;

    constructor(name: string, args: CrossClusterCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:verify:CrossClusterCheck", name, {}, opts);
        const script = "bash scripts/verify-cross-cluster.sh";
        const check = new command.local.Command(
            `${name}-verify`,
            {
                create: script,
                update: script,
                stdin: args.kubeconfig,
                environment: {
                    CLUSTER: args.clusterName,
                    EXPECTED_VERSIONS: args.expectedVersions.join(" "),
                    REQUESTS: String(args.requests),
                    ATTEMPTS: String(args.attempts),
                    ...(args.context ? { KUBE_CONTEXT: args.context } : {}),
                },
                triggers: args.triggers,
            },
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.result = check.stdout.apply((stdout) => JSON.parse(stdout) as CrossClusterResult);
        this.registerOutputs({ result: this.result });
    }
}
