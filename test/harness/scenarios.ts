import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StackConfigInput } from "../../stacks/config";
import { fakeKubeconfig } from "./fakeCluster";

type ClusterInput = StackConfigInput["clusters"][number];

/** An existing cluster given by kubeconfig content; its API server is https://10.0.<i>.1:6443. */
export function existingCluster(name: string, network: string, i: number): ClusterInput {
    return { name, network, kubeconfig: fakeKubeconfig(name, `https://10.0.${i}.1:6443`) };
}

export const kindCluster = (name: string, network: string): ClusterInput => ({ name, network, kind: {} });

export const TWO_CLUSTERS_ONE_NETWORK: StackConfigInput = {
    meshId: "mesh1",
    clusters: [existingCluster("east", "net1", 1), existingCluster("west", "net1", 2)],
    istio: { version: "1.30.4" },
};

/** The embedded default: two kind clusters on two networks. */
export const TWO_CLUSTERS_TWO_NETWORKS: StackConfigInput = {
    meshId: "mesh1",
    clusters: [kindCluster("cluster1", "network1"), kindCluster("cluster2", "network2")],
    istio: { version: "1.30.4" },
};

/** A local chart directory, as an air-gapped site holds the charts (only its layout matters under mocks). */
function localChartsDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    for (const chart of ["base", "istiod", "gateway"]) {
        fs.mkdirSync(path.join(dir, chart));
    }
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

export const THREE_CLUSTERS_TWO_NETWORKS: StackConfigInput = {
    meshId: "mesh2",
    trustDomain: "example.org",
    clusters: [existingCluster("alpha", "net-a", 1), existingCluster("beta", "net-a", 2), kindCluster("gamma", "net-b")],
    istio: { version: "1.29.2", chartRepo: localChartsDir(), values: { istiod: { pilot: { resources: { requests: { cpu: "50m" } } } } } },
};
