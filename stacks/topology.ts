/**
 * What runs where, from the clusters' roles and networks alone (no Pulumi): the mesh's topology, which
 * pieces each cluster gets, and which remote secrets exist. The config validates with it and the
 * composition follows it.
 */

export const ROLES = ["primary", "remote"] as const;
export type Role = (typeof ROLES)[number];

export const TOPOLOGIES = [
    "multi-primary",
    "multi-primary-multi-network",
    "primary-remote",
    "primary-remote-multi-network",
    "multi-primary-remote",
    "multi-primary-remote-multi-network",
] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** A cluster as far as the topology goes; a remote names its primary. */
export interface ClusterRole {
    readonly name: string;
    readonly network: string;
    readonly role: Role;
    readonly primary?: string;
}

export interface ClusterPlan {
    readonly name: string;
    readonly network: string;
    readonly role: Role;
    /** The cluster whose istiod serves this one: itself for a primary, its primary for a remote. */
    readonly controlPlane: string;
    /**
     * The east-west gateway: none; `network` (the gateway chart only); or `network-and-services`, which
     * also exposes the mesh's services on 15443 (the `cross-network-gateway`). A remote's gateway serves
     * what its primary exposes, as Istio's primary-remote multi-network guide does.
     */
    readonly eastWestGateway: "none" | "network" | "network-and-services";
    /** Exposes istiod on its east-west gateway for its remotes (`istiod-gateway`, `istiod-vs`). */
    readonly exposesIstiod: boolean;
}

/** The remote secret that lets `target`'s istiod read `source`'s API server. */
export interface RemoteSecretPair {
    readonly source: string;
    readonly target: string;
}

export interface MeshPlan {
    readonly topology: Topology;
    readonly clusters: readonly ClusterPlan[];
    readonly remoteSecrets: readonly RemoteSecretPair[];
}

/** The topology the clusters make: by how many primaries there are, whether any has remotes, and the networks. */
export function impliedTopology(clusters: readonly ClusterRole[]): Topology {
    const primaries = clusters.filter((c) => c.role === "primary").length;
    const hasRemotes = primaries < clusters.length;
    const control = !hasRemotes ? "multi-primary" : primaries === 1 ? "primary-remote" : "multi-primary-remote";
    return new Set(clusters.map((c) => c.network)).size > 1 ? `${control}-multi-network` : control;
}

/**
 * Every primary reads every other cluster, primaries and remotes; a remote reads nothing (its primary's
 * istiod does the reading). On several networks every cluster has an east-west gateway, and the
 * primaries expose the services on theirs; on one network only a primary with remotes has one, to
 * expose istiod.
 */
export function planMesh(clusters: readonly ClusterRole[]): MeshPlan {
    const multiNetwork = new Set(clusters.map((c) => c.network)).size > 1;
    const plans = clusters.map((c): ClusterPlan => {
        const exposesIstiod = clusters.some((r) => r.role === "remote" && r.primary === c.name);
        const eastWestGateway = multiNetwork ? (c.role === "primary" ? "network-and-services" : "network") : exposesIstiod ? "network" : "none";
        return { name: c.name, network: c.network, role: c.role, controlPlane: c.primary ?? c.name, eastWestGateway, exposesIstiod };
    });
    const remoteSecrets = clusters.flatMap((source) =>
        clusters.filter((target) => target !== source && target.role === "primary").map((target) => ({ source: source.name, target: target.name })),
    );
    return { topology: impliedTopology(clusters), clusters: plans, remoteSecrets };
}
