import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildTokenKubeconfig } from "./kubeconfig";
import { REPAIR_EDITS_ON_UP } from "./ownership";

/**
 * Created by the istio-base chart; the istiod chart grants it cluster-wide read access, and in the remote
 * profile also what the managing primary's istiod writes there (webhook certificates, ConfigMaps).
 */
export const ISTIO_READER_SERVICE_ACCOUNT = "istio-reader-service-account";

/** One end of the exchange: a cluster, its provider and its istio-system namespace. */
export interface RemoteSecretEnd {
    readonly name: string;
    readonly provider: k8s.Provider;
    readonly namespace: pulumi.Input<string>;
}

export interface RemoteSecretArgs {
    /** The cluster to be read: the reader token is made here. */
    readonly source: RemoteSecretEnd & {
        readonly apiServer: pulumi.Input<string>;
        /** istiod's chart, which grants the reader service account its role (after `base` created the account). */
        readonly istiod: pulumi.Resource;
    };
    /** The cluster whose istiod reads the source: the remote secret is stored here. */
    readonly target: RemoteSecretEnd;
    /**
     * The reader token's generation: another number makes a new token Secret (another name), which the
     * remote secret takes in place, and the old token is deleted once nothing refers to it any more.
     */
    readonly tokenGeneration: number;
}

/** The reader token Secret of generation `generation` for `target`: generation 0 keeps the name tokens always had. */
export function readerTokenName(target: string, generation: number): string {
    return generation === 0 ? `istio-reader-token-for-${target}` : `istio-reader-token-for-${target}-${generation}`;
}

/**
 * What `istioctl create-remote-secret` does for one ordered pair of clusters (source, target), without
 * istioctl: a token for the source's Istio reader service account, a kubeconfig for the source's API
 * server made from it, and that kubeconfig stored in the target as `istio-remote-secret-<source>`,
 * which the target's istiod watches to discover the source's services and endpoints.
 * Each target gets its own token, so one cluster's access can be revoked without touching the others.
 *
 * Rotation (another `tokenGeneration`): the token Secret gets a new name, so Pulumi replaces it create
 * first: the new token exists, the remote secret is updated in place with it (same Secret, same key:
 * istiod rebuilds the cluster's client when the kubeconfig's hash changes, and from Istio 1.30 keeps the
 * old registry until the new one has synced), and the engine deletes the replaced token last, after
 * every other step of the update. Deleting a `kubernetes.io/service-account-token` Secret revokes its
 * token. The remote secret is never deleted and recreated, which would drop the cluster from istiod.
 */
export class RemoteSecret extends pulumi.ComponentResource {
    readonly secretName: string;
    /** The remote secret in the target cluster. */
    readonly secret: k8s.core.v1.Secret;
    /** The kubeconfig stored in the remote secret (secret). */
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: RemoteSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:mesh:RemoteSecret", name, {}, opts);
        const { source, target } = args;

        // The token controller fills in `token` and `ca.crt`; the provider waits for them.
        const token = new k8s.core.v1.Secret(
            `${name}-reader-token`,
            {
                metadata: {
                    name: readerTokenName(target.name, args.tokenGeneration),
                    namespace: source.namespace,
                    annotations: { "kubernetes.io/service-account.name": ISTIO_READER_SERVICE_ACCOUNT },
                },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, provider: source.provider, dependsOn: [source.istiod] },
        );

        this.kubeconfig = pulumi.secret(
            pulumi.all([token.data, source.apiServer]).apply(([data, server]) =>
                buildTokenKubeconfig({
                    clusterName: source.name,
                    server,
                    certificateAuthorityData: data["ca.crt"],
                    token: Buffer.from(data["token"], "base64").toString("utf8"),
                }),
            ),
        );

        this.secretName = `istio-remote-secret-${source.name}`;
        this.secret = new k8s.core.v1.Secret(
            `${name}-remote-secret`,
            {
                metadata: {
                    name: this.secretName,
                    namespace: target.namespace,
                    labels: { "istio/multiCluster": "true" },
                    annotations: { "networking.istio.io/cluster": source.name, ...REPAIR_EDITS_ON_UP },
                },
                stringData: { [source.name]: this.kubeconfig },
            },
            { parent: this, provider: target.provider },
        );
        this.registerOutputs({ secretName: this.secretName });
    }
}
