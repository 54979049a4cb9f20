import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { BaseCrdRenderings } from "../components/crdSet";
import { EastWestGateway } from "../components/eastWestGateway";
import { ControlPlaneRole } from "../components/helmValues";
import { IstioControlPlane } from "../components/istioControlPlane";
import { IstiodExposure } from "../components/istiodExposure";
import { MeshTrust } from "../components/meshTrust";
import { PeerSyncCheck } from "../components/peerSyncCheck";
import { RemoteSecret } from "../components/remoteSecret";
import { TrafficGate } from "../components/trafficGate";
import { StackConfig } from "./config";
import { formerRevisions, Installed } from "./installedRevisions";
import { planPeerSync } from "./peerSync";
import { rolloutGates, rolloutOrderNote, stoppedAt } from "./rolloutOrder";
import { ClusterPlan, MeshPlan } from "./topology";
import { planTrafficGates } from "./trafficGate";

/** Istio across the mesh; lists in the config's cluster order. */
export interface IstioInstall {
    readonly planes: readonly IstioControlPlane[];
    readonly gateways: readonly EastWestGateway[];
    readonly exposures: readonly IstiodExposure[];
    readonly remoteSecrets: readonly RemoteSecret[];
}

/**
 * Istio in every cluster as `plan` says, each cluster's `cacerts` with what it records of a root rotation
 * (`cacertsAnnotations`). Primaries come first: a remote's install takes the address its
 * primary exposes istiod on. Then the remote secrets, and last the remotes' gateways, whose pods only
 * get a proxy once the primary's istiod reads the remote and is reachable from it. With
 * `istio.rolloutOrder`, each cluster's charts wait for the previous primary's (stacks/rolloutOrder.ts)
 * and, where `installed` shows an existing mesh, for its peer-sync check (stacks/peerSync.ts) and its
 * traffic gate (stacks/trafficGate.ts).
 */
export function installIstio(
    config: StackConfig,
    plan: MeshPlan,
    clusters: readonly Cluster[],
    trust: MeshTrust,
    crds: { readonly provider: pulumi.ProviderResource; readonly renderings: BaseCrdRenderings },
    cacertsAnnotations: Readonly<Record<string, Readonly<Record<string, string>>>>,
    installed: Installed,
): IstioInstall {
    const istio = { chartSource: config.istio.chartRepo, values: config.istio.values };
    const revisionsOf = (name: string) => config.clusters.find((c) => c.name === name)!.istio;
    const awaitWorkloads = config.workloads.awaitReady;
    const clusterNamed = (name: string) => clusters.find((c) => c.clusterName === name)!;
    const planes = new Map<string, IstioControlPlane>();
    const gateways = new Map<string, EastWestGateway>();
    const exposures = new Map<string, IstiodExposure>();
    // Each cluster's `cacerts` after the previous one's, in the order the planes are made.
    let previousCacerts: pulumi.Resource | undefined;
    const order = config.istio.rolloutOrder ?? [];
    const gates = rolloutGates(order);
    const peerSync = planPeerSync(order, plan, installed);
    const versions = Object.fromEntries(config.clusters.map((c) => [c.name, c.helloworldVersion]));
    const trafficGates = planTrafficGates({ order, plan, versions, installed, verify: config.verify.enabled });
    if (order.length > 0) {
        pulumi.log.info(rolloutOrderNote(order, plan, peerSync, trafficGates));
    }

    const controlPlane = ({ name, network, controlPlane: servedBy }: ClusterPlan, role: ControlPlaneRole) => {
        const plane = new IstioControlPlane(name, {
            provider: clusterNamed(name).provider,
            connection: clusterNamed(name).connection,
            clusterName: name,
            network,
            role,
            meshId: config.meshId,
            trustDomain: config.trustDomain,
            istio,
            revisions: revisionsOf(name),
            formerRevisions: formerRevisions(installed[name] ?? [], revisionsOf(name)),
            ca: trust.bundles[name],
            istioHub: config.images.istioHub,
            awaitWorkloads,
            keepCrds: config.istio.keepCrds,
            crdSetProvider: crds.provider,
            crdRenderings: crds.renderings,
            adoptExistingNamespace: config.clusters.find((c) => c.name === name)!.existingIstioNamespace,
            cacertsAfter: previousCacerts,
            cacertsAnnotations: cacertsAnnotations[name] ?? {},
            multiRootMesh: config.ca.rotation !== undefined,
            rolloutAfter: gates.after(servedBy),
        });
        previousCacerts = plane.cacerts;
        return plane;
    };
    const eastWestGateway = ({ name, network, eastWestGateway: gateway, controlPlane: servedBy, exposesIstiod }: ClusterPlan, injector: pulumi.Resource[]) =>
        new EastWestGateway(name, {
            provider: clusterNamed(name).provider,
            network,
            namespace: planes.get(name)!.namespace,
            istio,
            revisions: revisionsOf(name),
            injector,
            exposeServices: gateway === "network-and-services",
            externalAddress: clusterNamed(name).nodeAddress,
            awaitWorkloads,
            addressRead: exposesIstiod,
            rolloutAfter: gates.after(servedBy),
        });

    const primaries = plan.clusters.filter((c) => c.role === "primary");
    const remotes = plan.clusters.filter((c) => c.role === "remote");
    for (const primary of primaries) {
        const plane = controlPlane(primary, { type: "primary", servesRemotes: primary.exposesIstiod });
        planes.set(primary.name, plane);
        if (primary.eastWestGateway !== "none") {
            gateways.set(primary.name, eastWestGateway(primary, [plane.istiod]));
        }
        if (primary.exposesIstiod) {
            const exposure = new IstiodExposure(primary.name, {
                provider: clusterNamed(primary.name).provider,
                namespace: plane.namespace,
                istiod: plane.istiod,
                revisions: revisionsOf(primary.name).revisions.map((r) => r.name),
                gatewayChart: gateways.get(primary.name)!.chart,
                gatewayService: gateways.get(primary.name)!.service,
            });
            exposures.set(primary.name, exposure);
        }
    }
    for (const remote of remotes) {
        const exposure = exposures.get(remote.controlPlane)!;
        planes.set(remote.name, controlPlane(remote, { type: "remote", primary: remote.controlPlane, discoveryAddress: exposure.address, primaryExposure: exposure }));
    }

    // Each primary's rollout checkpoint: its istiod charts and its remotes', its gateway's and, on an
    // existing mesh, the peer-sync check and then the traffic gate, which no remote secret and no test app
    // precede: on a first install that is a cycle.
    for (const { name } of primaries) {
        const served = plan.clusters.filter((c) => c.controlPlane === name).map((c) => planes.get(c.name)!);
        const gateway = gateways.get(name);
        let checkpoint: pulumi.Resource[] = [...served.flatMap((p) => p.istiodCharts), ...(gateway === undefined ? [] : [gateway.chart])];
        // The digests are what the charts are rendered from; the checks must also wait for them to be ready.
        const triggers = [...served.map((p) => p.istiodDigest), ...(gateway === undefined ? [] : [gateway.chartDigest])];
        const peers = peerSync.checked.get(name);
        if (peers !== undefined) {
            const check = new PeerSyncCheck(
                name,
                {
                    clusterName: name,
                    provider: clusterNamed(name).provider,
                    namespace: planes.get(name)!.namespace,
                    curlImage: config.images.curl,
                    revisions: revisionsOf(name).revisions.map((r) => r.name),
                    peers,
                    triggers,
                },
                { dependsOn: checkpoint },
            );
            checkpoint = [...checkpoint, check.job];
        }
        const expectedVersions = trafficGates.gated.get(name);
        if (expectedVersions !== undefined) {
            const gate = new TrafficGate(
                name,
                {
                    clusterName: name,
                    provider: clusterNamed(name).provider,
                    curlImage: config.images.curl,
                    expectedVersions,
                    requests: config.verify.requests,
                    attempts: config.verify.attempts,
                    stopped: stoppedAt(order, plan, name),
                    triggers,
                },
                { dependsOn: checkpoint },
            );
            checkpoint = [...checkpoint, gate.job];
        }
        gates.reached(name, checkpoint);
    }

    const remoteSecrets = new Map(
        plan.remoteSecrets.map(({ source, target }) => {
            const from = clusterNamed(source);
            const to = clusterNamed(target);
            const secret = new RemoteSecret(`${source}-to-${target}`, {
                source: { name: source, provider: from.provider, namespace: planes.get(source)!.namespace, apiServer: from.apiServer, istiod: planes.get(source)!.istiod },
                target: { name: target, provider: to.provider, namespace: planes.get(target)!.namespace },
                tokenGeneration: config.remoteSecrets.tokenGeneration,
            });
            return [`${source}-to-${target}`, secret] as const;
        }),
    );

    for (const remote of remotes.filter((r) => r.eastWestGateway !== "none")) {
        const exposure = exposures.get(remote.controlPlane)!;
        const readByPrimary = remoteSecrets.get(`${remote.name}-to-${remote.controlPlane}`)!;
        gateways.set(remote.name, eastWestGateway(remote, [planes.get(remote.name)!.istiod, readByPrimary.secret, exposure.gateway, exposure.virtualService]));
    }

    const inOrder = <T>(byName: Map<string, T>) => plan.clusters.flatMap((c) => (byName.has(c.name) ? [byName.get(c.name)!] : []));
    return { planes: inOrder(planes), gateways: inOrder(gateways), exposures: inOrder(exposures), remoteSecrets: [...remoteSecrets.values()] };
}
