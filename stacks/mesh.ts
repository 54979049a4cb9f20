import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { BaseCrdRenderings, CrdSetProvider } from "../components/crdSet";
import { CrossClusterCheck, CrossClusterResult } from "../components/crossClusterCheck";
import { defaultRevisionOf } from "../components/helmValues";
import { MeshTrust } from "../components/meshTrust";
import { GoneControlPlane } from "../components/istioControlPlane";
import { TestApp } from "../components/testApp";
import { rootWarning, rootWarningHours } from "./caExpiry";
import { StackConfig } from "./config";
import { Installed } from "./installedRevisions";
import { installIstio } from "./istio";
import { rootRotationAnnotations, rootRotationStatus } from "./rootRotation";
import { planMesh, Role } from "./topology";

export interface ClusterSummary {
    readonly name: string;
    readonly network: string;
    readonly role: Role;
    /** The cluster whose istiod serves this one (itself, for a primary). */
    readonly controlPlane: string;
    readonly apiServer: pulumi.Output<string>;
    readonly istioVersion: string;
}

export interface MeshOutputs {
    readonly meshId: string;
    readonly topology: string;
    readonly clusters: ClusterSummary[];
    /** The mesh's root CA certificate (public). */
    readonly rootCert: pulumi.Output<string>;
    /** One result per cluster, or undefined when the verification is disabled. */
    readonly verification: pulumi.Output<CrossClusterResult[]> | undefined;
}

/**
 * Composes the components into the mesh the config's topology describes: the config becomes their args
 * here. A cluster that is gone keeps only its providers and its CRD set, which let go of its objects. `cacertsAnnotations`:
 * by cluster, what its `cacerts` records of a root rotation (by default as for clusters that were not read).
 * `installed`: by cluster, the istiod revisions it runs now (by default none read).
 */
export function deployMesh(
    config: StackConfig,
    cacertsAnnotations: Readonly<Record<string, Readonly<Record<string, string>>>> = rootRotationAnnotations(config, {}, new Date()),
    installed: Installed = {},
): MeshOutputs {
    const entries = config.clusters.filter((c) => !c.gone);
    const plan = planMesh(entries);
    const awaitWorkloads = config.workloads.awaitReady;
    const crdSetProvider = new CrdSetProvider("istio-crds-provider");
    const clusters = config.clusters.flatMap((entry) => {
        const cluster = new Cluster(entry.name, entry);
        if (entry.gone) {
            const primary = entry.role === "remote" ? entry.primary! : undefined;
            new GoneControlPlane(entry.name, { clusterName: entry.name, primary, connection: cluster.connection, crdSetProvider });
        }
        return entry.gone ? [] : [cluster];
    });
    const trust = new MeshTrust("mesh-trust", { ca: config.ca, clusterNames: clusters.map((c) => c.clusterName) });
    const status = rootRotationStatus(config, cacertsAnnotations);
    if (status !== undefined) {
        pulumi.log.info(status);
    } else if (config.ca.type === "generated") {
        // Known in every preview but the first; not while a rotation replaces the root.
        const hours = rootWarningHours(config.ca);
        trust.rootNotAfter.apply((notAfter) => {
            const warning = notAfter === undefined ? undefined : rootWarning(notAfter, hours, false, new Date());
            if (warning !== undefined) {
                pulumi.log.warn(warning);
            }
        });
    }
    const { planes, gateways, exposures, remoteSecrets } = installIstio(config, plan, clusters, trust, { provider: crdSetProvider, renderings: new BaseCrdRenderings() }, cacertsAnnotations, installed);

    let verification: pulumi.Output<CrossClusterResult[]> | undefined;
    if (config.testApp.enabled) {
        // The app's pods need the injector (istiod; a remote's is its primary's, reached through the
        // exposure) and, to be reachable from the other clusters, the remote secrets and east-west
        // gateways; none of that is data the app consumes.
        const meshReady = [
            ...planes.map((p) => p.istiod),
            ...remoteSecrets.map((r) => r.secret),
            ...gateways.map((g) => g.chart),
            ...exposures.flatMap((e) => [e.gateway, e.virtualService]),
        ];
        const apps = clusters.map(
            (cluster, i) =>
                new TestApp(
                    cluster.clusterName,
                    {
                        provider: cluster.provider,
                        version: entries[i].helloworldVersion,
                        helloworldImage: entries[i].helloworldVersion === "v1" ? config.images.helloworldV1 : config.images.helloworldV2,
                        curlImage: config.images.curl,
                        awaitWorkloads,
                    },
                    { dependsOn: meshReady },
                ),
        );
        if (config.verify.enabled) {
            const expectedVersions = [...new Set(entries.map((e) => e.helloworldVersion))];
            // Upgrades of the charts, new remote secrets and a changed helloworld run the check again. The charts
            // count by what their objects are rendered from, as a Helm release's revision did: the objects'
            // own metadata would miss a change to the mesh config (a ConfigMap has no generation) or, with
            // resourceVersion, change on every status write, which the refresh before each run reads.
            const triggers = [
                ...planes.map((p) => p.istiodDigest),
                ...gateways.map((g) => g.chartDigest),
                ...remoteSecrets.map((r) => r.secret.metadata.uid),
                ...apps.map((a) => a.helloworld.metadata.generation),
            ];
            const checks = clusters.map(
                (cluster, i) =>
                    new CrossClusterCheck(
                        cluster.clusterName,
                        {
                            clusterName: cluster.clusterName,
                            provider: cluster.provider,
                            namespace: apps[i].namespace,
                            curlImage: config.images.curl,
                            expectedVersions,
                            requests: config.verify.requests,
                            attempts: config.verify.attempts,
                            triggers,
                        },
                        // Every cluster's app must be up: the point is to reach the versions elsewhere.
                        { dependsOn: apps },
                    ),
            );
            verification = pulumi.all(checks.map((c) => c.result));
        }
    }

    return {
        meshId: config.meshId,
        topology: config.topology,
        clusters: clusters.map((c, i) => ({
            name: c.clusterName,
            network: c.network,
            role: plan.clusters[i].role,
            controlPlane: plan.clusters[i].controlPlane,
            apiServer: c.apiServer,
            istioVersion: defaultRevisionOf(entries[i].istio).version,
        })),
        rootCert: trust.rootCert,
        verification,
    };
}
