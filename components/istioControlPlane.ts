import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLocation, IstioCharts, mergeValues } from "./helmValues";
import { ClusterCaBundle } from "./meshTrust";

export const ISTIO_NAMESPACE = "istio-system";

export interface IstioControlPlaneArgs {
    readonly provider: k8s.Provider;
    readonly clusterName: string;
    readonly network: string;
    readonly meshId: string;
    readonly trustDomain: string;
    readonly istio: IstioCharts;
    readonly ca: ClusterCaBundle;
    /** Registry for istiod's and the proxies' images; the chart's default when absent. */
    readonly istioHub?: string;
    /** When false, Helm does not wait for istiod's pods (API servers without nodes). */
    readonly awaitWorkloads: boolean;
}

/**
 * Istio as a primary cluster of a multi-cluster mesh: the `istio-system` namespace labelled with the
 * cluster's network, the `cacerts` Secret from the shared root of trust, and the `base` and `istiod`
 * charts with the mesh ID, cluster name, network and trust domain.
 */
export class IstioControlPlane extends pulumi.ComponentResource {
    readonly namespace: pulumi.Output<string>;
    readonly base: k8s.helm.v3.Release;
    readonly istiod: k8s.helm.v3.Release;

    constructor(name: string, args: IstioControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:istio:ControlPlane", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const { istio } = args;

        const namespace = new k8s.core.v1.Namespace(
            `${name}-istio-system`,
            { metadata: { name: ISTIO_NAMESPACE, labels: { "topology.istio.io/network": args.network } } },
            childOpts,
        );
        this.namespace = namespace.metadata.name;

        const cacerts = new k8s.core.v1.Secret(
            `${name}-cacerts`,
            {
                metadata: { name: "cacerts", namespace: this.namespace },
                stringData: {
                    "ca-cert.pem": args.ca.caCert,
                    "ca-key.pem": args.ca.caKey,
                    "root-cert.pem": args.ca.rootCert,
                    "cert-chain.pem": args.ca.certChain,
                },
            },
            childOpts,
        );

        const release = (chart: "base" | "istiod", releaseName: string, values: Record<string, unknown>, dependsOn: pulumi.Resource[]) =>
            new k8s.helm.v3.Release(
                `${name}-${releaseName}`,
                {
                    name: releaseName,
                    ...chartLocation(istio.chartSource, chart),
                    version: istio.version,
                    namespace: this.namespace,
                    values: mergeValues(values, istio.values[chart]),
                    skipAwait: !args.awaitWorkloads,
                },
                { ...childOpts, dependsOn },
            );

        this.base = release(
            "base",
            "istio-base",
            {
                defaultRevision: "default",
                // CRDs as templates belong to the release, so uninstalling it removes them too.
                base: { enableCRDTemplates: true },
                global: { istioNamespace: ISTIO_NAMESPACE },
            },
            [],
        );

        // istiod reads `cacerts` only when it starts, so it must exist first (no data flows between them).
        this.istiod = release(
            "istiod",
            "istiod",
            {
                global: {
                    meshID: args.meshId,
                    multiCluster: { clusterName: args.clusterName },
                    network: args.network,
                    ...(args.istioHub ? { hub: args.istioHub } : {}),
                },
                meshConfig: { trustDomain: args.trustDomain },
            },
            [this.base, cacerts],
        );

        this.registerOutputs({ namespace: this.namespace });
    }
}
