import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EAST_WEST_SELECTOR } from "./eastWestGateway";
import { REPAIR_EDITS_ON_UP } from "./ownership";

import { IN_PLACE } from "./helmValues";

/**
 * The routes of the exposure: for an in-place istiod, every connection on 15012 and 15017 to `istiod`
 * (as `expose-istiod.yaml`); for named revisions, each by the name a remote's proxies and API server
 * ask for (SNI), `istiod-<revision>.istio-system.svc`, to that revision's istiod, so a remote's
 * revisions reach the primary's revisions of the same name through one gateway.
 */
export function istiodRoutes(revisions: readonly string[]): object[] {
    // The unnamed istiod's catch-all last (a stack migrating from InPlace runs it beside named revisions):
    // the first route that matches takes the connection.
    const ordered = [...revisions.filter((r) => r !== IN_PLACE), ...revisions.filter((r) => r === IN_PLACE)];
    return ordered.flatMap((revision) => {
        const service = revision === IN_PLACE ? "istiod" : `istiod-${revision}`;
        const host = `${service}.istio-system.svc.cluster.local`;
        const sniHosts = revision === IN_PLACE ? ["*"] : [`${service}.istio-system.svc`];
        return [
            { match: [{ port: 15012, sniHosts }], route: [{ destination: { host, port: { number: 15012 } } }] },
            { match: [{ port: 15017, sniHosts }], route: [{ destination: { host, port: { number: 443 } } }] },
        ];
    });
}

export interface IstiodExposureArgs {
    /** The primary's provider. */
    readonly provider: k8s.Provider;
    readonly namespace: pulumi.Input<string>;
    /** The primary's istiod chart: its webhook validates the Gateway and the VirtualService. */
    readonly istiod: pulumi.Resource;
    /** The names of the primary's istiod revisions ("" for an in-place one). */
    readonly revisions: readonly string[];
    /** The primary's east-west gateway chart, which makes the Service the remotes reach istiod through. */
    readonly gatewayChart: pulumi.Resource;
    /** That Service, `<namespace>/<name>`. */
    readonly gatewayService: pulumi.Input<string>;
}

/** What a Service's external address is read from: its load balancer's, or else its first external IP. */
export interface ServiceAddresses {
    readonly spec?: { readonly externalIPs?: readonly string[] };
    readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string; readonly hostname?: string }[] } };
}

/**
 * The address other clusters reach a gateway Service on: its load balancer's ingress (as the guides read
 * it, `.status.loadBalancer.ingress[0].ip`, or the hostname some clouds give instead), or its first
 * external IP (kind clusters, `istio.values.gateway.service.externalIPs`).
 */
export function externalAddressOf(service: ServiceAddresses, id: string): string {
    const ingress = service.status?.loadBalancer?.ingress?.[0];
    const address = ingress?.ip || ingress?.hostname || service.spec?.externalIPs?.[0];
    if (!address) {
        throw new Error(`the east-west gateway Service ${id} has no external address (no load-balancer ingress, no externalIPs), so remotes cannot reach istiod`);
    }
    return address;
}

/**
 * Istiod of a primary exposed to its remotes through the primary's east-west gateway, as Istio's
 * `samples/multicluster/expose-istiod.yaml`: discovery and CA on 15012, the injection and validation
 * webhooks on 15017 (istiod's 443), passed through by SNI. `address` is where remotes reach them.
 */
export class IstiodExposure extends pulumi.ComponentResource {
    readonly gateway: k8s.apiextensions.CustomResource;
    readonly virtualService: k8s.apiextensions.CustomResource;
    /**
     * The gateway's external address (`global.remotePilotAddress` of the remotes), known once the
     * exposure exists: a remote installed from it waits for the exposure and is destroyed before it.
     */
    readonly address: pulumi.Output<string>;

    constructor(name: string, args: IstiodExposureArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:istio:IstiodExposure", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider, dependsOn: [args.istiod, args.gatewayChart] };
        // Deleted in the background, like the cross-network Gateway: istiod may be gone (its webhook failing
        // closed) by the time these are deleted.
        const metadata = (objectName: string) => ({
            name: objectName,
            namespace: args.namespace,
            annotations: { "pulumi.com/deletionPropagationPolicy": "background", ...REPAIR_EDITS_ON_UP },
        });

        this.gateway = new k8s.apiextensions.CustomResource(
            `${name}-istiod-gateway`,
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Gateway",
                metadata: metadata("istiod-gateway"),
                spec: {
                    selector: EAST_WEST_SELECTOR,
                    servers: [
                        { port: { name: "tls-istiod", number: 15012, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
                        { port: { name: "tls-istiodwebhook", number: 15017, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
                    ],
                },
            },
            childOpts,
        );

        this.virtualService = new k8s.apiextensions.CustomResource(
            `${name}-istiod-vs`,
            {
                apiVersion: "networking.istio.io/v1",
                kind: "VirtualService",
                metadata: metadata("istiod-vs"),
                spec: {
                    hosts: ["*"],
                    gateways: [this.gateway.metadata.name],
                    tls: istiodRoutes(args.revisions),
                },
            },
            childOpts,
        );

        // Read, not created: the Service is the gateway chart's. The read waits for the VirtualService, made
        // after the chart: its uid is unknown until it exists, so a first preview skips the read instead of
        // failing on a Service that is not there yet.
        const serviceId = pulumi.all([args.gatewayService, this.virtualService.metadata.uid]).apply(([id]) => id);
        const service = k8s.core.v1.Service.get(`${name}-eastwest-service`, serviceId, { parent: this, provider: args.provider });
        this.address = pulumi.all([serviceId, service.spec, service.status]).apply(([id, spec, status]) => externalAddressOf({ spec, status }, id));
        this.registerOutputs({ address: this.address });
    }
}
