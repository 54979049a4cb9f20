import { StackConfigInput } from "../../stacks/config";
import { fakeKubeconfig } from "./fakeCluster";
import { localChartsDir } from "./localCharts";

type ClusterInput = StackConfigInput["clusters"][number];

/** An existing cluster given by kubeconfig content; its API server is https://10.0.<i>.1:6443. */
export function existingCluster(name: string, network: string, i: number): ClusterInput {
    return { name, network, kubeconfig: fakeKubeconfig(name, `https://10.0.${i}.1:6443`) };
}

export const kindCluster = (name: string, network: string): ClusterInput => ({ name, network, kind: {} });

export const TWO_CLUSTERS_ONE_NETWORK: StackConfigInput = {
    meshId: "mesh1",
    clusters: [existingCluster("east", "net1", 1), { ...existingCluster("west", "net1", 2), helloworldVersion: "v2" }],
    istio: { version: "1.30.4" },
};

/** The embedded default: two kind clusters on two networks. */
export const TWO_CLUSTERS_TWO_NETWORKS: StackConfigInput = {
    meshId: "mesh1",
    clusters: [kindCluster("cluster1", "network1"), kindCluster("cluster2", "network2")],
    istio: { version: "1.30.4" },
};

export const THREE_CLUSTERS_TWO_NETWORKS: StackConfigInput = {
    meshId: "mesh2",
    trustDomain: "example.org",
    clusters: [existingCluster("alpha", "net-a", 1), { ...existingCluster("beta", "net-a", 2), helloworldVersion: "v2" }, kindCluster("gamma", "net-b")],
    istio: { version: "1.29.2", chartRepo: localChartsDir("1.29.2"), values: { istiod: { pilot: { resources: { requests: { cpu: "50m" } } } } } },
};

const remoteOf = (cluster: ClusterInput, primary: string): ClusterInput => ({ ...cluster, role: "remote", primary });

/** Istio's primary-remote guide: one primary and its remote on one network. */
export const PRIMARY_REMOTE_ONE_NETWORK: StackConfigInput = {
    meshId: "mesh1",
    clusters: [existingCluster("east", "net1", 1), remoteOf(existingCluster("west", "net1", 2), "east")],
    istio: { version: "1.30.4" },
};

/** One kind primary and two remotes on a second network (the primary-remote multi-network guide, with two remotes). */
export const PRIMARY_TWO_REMOTES_TWO_NETWORKS: StackConfigInput = {
    meshId: "mesh1",
    clusters: [
        { ...kindCluster("hub", "network1"), role: "primary" },
        remoteOf(existingCluster("spoke1", "network2", 1), "hub"),
        remoteOf(existingCluster("spoke2", "network2", 2), "hub"),
    ],
    istio: { version: "1.30.4" },
};

/** Two primaries on one network, each with a remote. */
export const TWO_PRIMARIES_EACH_WITH_A_REMOTE: StackConfigInput = {
    meshId: "mesh1",
    clusters: [
        existingCluster("alpha", "net1", 1),
        remoteOf(existingCluster("alpha-edge", "net1", 2), "alpha"),
        existingCluster("beta", "net1", 3),
        remoteOf(existingCluster("beta-edge", "net1", 4), "beta"),
    ],
    istio: { version: "1.30.4" },
};

/**
 * Six clusters on five networks: `east` has a remote on its own network and one on another, `west` (kind)
 * a kind remote, and `north` is a primary without remotes on `east`'s network.
 */
export const SIX_CLUSTERS_MIXED: StackConfigInput = {
    meshId: "mesh3",
    clusters: [
        existingCluster("east", "net-east", 1),
        remoteOf(existingCluster("east-edge", "net-east", 2), "east"),
        kindCluster("west", "net-west"),
        remoteOf(kindCluster("west-edge", "net-west-edge"), "west"),
        existingCluster("north", "net-east", 3),
        remoteOf(existingCluster("south", "net-south", 4), "east"),
    ],
    istio: { version: "1.30.4" },
};
