import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLocation, defaultRevisionOf, IN_PLACE, IstioCharts, mergeValues, renderingDigest, Revisions } from "./helmValues";
import { REPAIR_EDITS_ON_UP } from "./ownership";

export const EAST_WEST_GATEWAY = "istio-eastwestgateway";
export const EAST_WEST_SELECTOR = { istio: "eastwestgateway" };

export interface EastWestGatewayArgs {
    readonly provider: k8s.Provider;
    readonly network: string;
    readonly namespace: pulumi.Input<string>;
    readonly istio: IstioCharts;
    /**
     * The cluster's istiod revisions. The gateway is upgraded in place, as Istio's guides do for gateways:
     * it is of the version of the revision the `default` tag points to and, with named revisions,
     * labelled with that revision, so a move of the tag rolls its pods, which that revision injects.
     */
    readonly revisions: Revisions;
    /**
     * What the gateway pod needs to get its proxy from an injector: istiod's chart (installed after
     * istio-base and its CRDs), whose webhook also validates the Gateway; on a remote, also what lets its
     * primary's istiod inject it (the remote secret in the primary, istiod exposed on the primary's gateway).
     */
    readonly injector: pulumi.Resource[];
    /**
     * Whether this cluster also exposes the mesh's services to the other networks (`cross-network-gateway`).
     * A primary's does; a remote's gateway serves what its primary exposes, and on one network a primary's
     * gateway only exposes istiod to its remotes.
     */
    readonly exposeServices: boolean;
    /**
     * An address the other networks reach this gateway on without a load balancer (a kind node): the
     * Service gets it as an external IP, which istiod announces as the network's gateway. Without it the
     * Service is a LoadBalancer and istiod announces the load balancer's address.
     */
    readonly externalAddress?: pulumi.Input<string>;
    readonly awaitWorkloads: boolean;
    /**
     * The remotes' install reads this gateway's address (the primary exposes istiod on it): a load
     * balancer's Service is awaited until it has one, even when workloads are not awaited.
     */
    readonly addressRead: boolean;
    /** What the chart is applied only after, besides `injector` (see IstioControlPlaneArgs.rolloutAfter). */
    readonly rolloutAfter?: Promise<pulumi.Resource[]>;
}

/**
 * Makes the provider wait until the gateway's Service has a load balancer's address (and for nothing else:
 * `waitFor` replaces the Service's readiness checks, which also wait for ready pods), whether or not the
 * chart's workloads are awaited: the exposure reads that address once, right after the chart.
 */
export const awaitLoadBalancerAddress: pulumi.ResourceTransform = ({ type, props, opts }) =>
    type === "kubernetes:core/v1:Service" && props.metadata?.name === EAST_WEST_GATEWAY
        ? {
              props: {
                  ...props,
                  metadata: {
                      ...props.metadata,
                      annotations: { ...props.metadata.annotations, "pulumi.com/skipAwait": "false", "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress}" },
                  },
              },
              opts,
          }
        : undefined;

/**
 * The east-west gateway of one network, from the official `gateway` chart, and (when it exposes
 * services) the Gateway that exposes every `*.local` service on port 15443 with AUTO_PASSTHROUGH so the
 * other networks can reach this cluster's workloads over mTLS.
 */
export class EastWestGateway extends pulumi.ComponentResource {
    readonly chart: k8s.helm.v4.Chart;
    /** Changes whenever the gateway's objects are rendered from another chart version or other values. */
    readonly chartDigest: pulumi.Output<string>;
    readonly gateway: k8s.apiextensions.CustomResource | undefined;
    /** The gateway's Service as `<namespace>/<name>` (the chart names it after the `name` value). */
    readonly service: pulumi.Output<string>;

    constructor(name: string, args: EastWestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:istio:EastWestGateway", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };

        const service = args.externalAddress
            ? { type: "ClusterIP", externalIPs: [args.externalAddress] }
            : { type: "LoadBalancer" };
        // `networkGateway` makes the chart add the network label, ISTIO_META_REQUESTED_NETWORK_VIEW and the
        // ports 15021, 15443, 15012 and 15017.
        const { name: revision, version } = defaultRevisionOf(args.revisions);
        const values = mergeValues(
            {
                name: EAST_WEST_GATEWAY,
                networkGateway: args.network,
                labels: { ...EAST_WEST_SELECTOR, app: EAST_WEST_GATEWAY },
                service,
                ...(revision === IN_PLACE ? {} : { revision }),
            },
            args.istio.values.gateway,
        );
        // One resource per object, like istiod's chart (see IstioControlPlane), under the same release name.
        this.chart = new k8s.helm.v4.Chart(
            `${name}-${EAST_WEST_GATEWAY}`,
            {
                name: EAST_WEST_GATEWAY,
                ...chartLocation(args.istio.chartSource, "gateway"),
                version,
                namespace: args.namespace,
                values,
                skipAwait: !args.awaitWorkloads,
            },
            {
                ...childOpts,
                dependsOn: args.rolloutAfter?.then<pulumi.Resource[]>((after) => [...args.injector, ...after]) ?? args.injector,
                transforms: args.addressRead && !args.externalAddress ? [awaitLoadBalancerAddress] : [],
            },
        );
        this.chartDigest = renderingDigest("gateway", version, values);
        this.service = pulumi.interpolate`${args.namespace}/${EAST_WEST_GATEWAY}`;

        this.gateway = !args.exposeServices ? undefined : new k8s.apiextensions.CustomResource(
            `${name}-cross-network-gateway`,
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Gateway",
                metadata: {
                    name: "cross-network-gateway",
                    namespace: args.namespace,
                    // Deleted in the background: a foreground delete adds a finalizer whose removal is an
                    // update that Istio's validation webhook must admit, so with istiod already gone (fail
                    // closed) `pulumi destroy` would wait for it forever. The Gateway has no dependents.
                    annotations: { "pulumi.com/deletionPropagationPolicy": "background", ...REPAIR_EDITS_ON_UP },
                },
                spec: {
                    selector: EAST_WEST_SELECTOR,
                    servers: [
                        {
                            port: { number: 15443, name: "tls", protocol: "TLS" },
                            tls: { mode: "AUTO_PASSTHROUGH" },
                            hosts: ["*.local"],
                        },
                    ],
                },
            },
            { ...childOpts, dependsOn: args.injector },
        );
        this.registerOutputs({ chartDigest: this.chartDigest, service: this.service });
    }
}
