import * as fs from "node:fs";
import * as path from "node:path";
import { HollowKubelet } from "./hollowKubelet";
import { mustKubectl, waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";

/**
 * The data plane's stand-in and the real control plane for each test cluster: a hollow kubelet and
 * a local istiod. Pod IPs come from 198.18.0.0/15; the istiod pod's IP is reached through the control
 * plane's pod-network proxy at the same address in 127.18.0.0/15, where its process listens, so that
 * the API server's webhook calls reach it. Nothing connects to any other pod IP.
 */
export class LocalMesh {
    readonly istiods: LocalIstiod[];
    readonly kubelets: HollowKubelet[];

    constructor(
        readonly clusters: readonly string[],
        private readonly adminKubeconfig: (cluster: string) => string,
        work: string,
    ) {
        this.istiods = clusters.map(
            (cluster, i) =>
                new LocalIstiod(cluster, adminKubeconfig(cluster), `198.18.1.${i + 1}`, `127.18.1.${i + 1}`, path.join(work, `istiod-${cluster}`), "pilot-discovery"),
        );
        this.kubelets = clusters.map(
            (cluster, i) =>
                new HollowKubelet(adminKubeconfig(cluster), `hollow-${cluster}`, `198.18.0.${i + 1}`, (namespace, name, n) =>
                    namespace === "istio-system" && name.startsWith("istiod-") ? this.istiods[i].podIp : `198.18.${10 + i}.${n + 1}`,
                ),
        );
    }

    /** The load-balancer address of cluster `i`'s east-west gateway (nothing connects to it). */
    static gatewayAddress(i: number): string {
        return `198.18.20.${i + 1}`;
    }

    /** Registers the nodes, starts the pods that exist (istiod's), addresses the load balancers, starts istiod. */
    start(): void {
        for (const [i, kubelet] of this.kubelets.entries()) {
            kubelet.registerNode();
            kubelet.startPendingPods();
            kubelet.assignLoadBalancers(LocalMesh.gatewayAddress(i));
            this.istiods[i].start();
        }
    }

    /**
     * What the rollout of a changed istiod Deployment does: its new pod runs (the hollow kubelet starts it
     * with istiod's pod IP) and each istiod is restarted from the Deployment as it now reads.
     */
    async restartIstiods(): Promise<void> {
        for (const [i, istiod] of this.istiods.entries()) {
            this.kubelets[i].startPendingPods();
            await istiod.stop();
            istiod.start();
        }
    }

    async waitReady(seconds: number): Promise<void> {
        for (const istiod of this.istiods) {
            await waitFor(`${istiod.cluster} istiod ready`, seconds, async () => (await fetch(`${istiod.debugUrl}/ready`))?.ok, () => logTail(istiod));
        }
    }

    /** Waits until every istiod reports every other cluster `synced` (what `istioctl remote-clusters` shows). */
    async waitAllSynced(seconds: number): Promise<void> {
        for (const istiod of this.istiods) {
            for (const other of this.clusters.filter((c) => c !== istiod.cluster)) {
                await waitFor(`${istiod.cluster} sees ${other} synced`, seconds, async () => {
                    const clusters: any[] = await istiod.debug("clusterz");
                    return clusters.some((c) => c.id === other && c.syncStatus === "synced");
                }, () => logTail(istiod));
            }
        }
    }

    /**
     * Lets the ReplicaSets of `namespaces` create their pods through istiod's injection webhook and
     * starts them. The ReplicaSets failed while no istiod answered the webhook; recreated, they try at
     * once instead of after their back-off. Waits until a pod of each `<namespace>/<name prefix>` runs.
     */
    async admitWorkloads(expected: string[], seconds: number): Promise<void> {
        const namespaces = [...new Set(expected.map((pod) => pod.split("/")[0]))];
        for (const [i, kubelet] of this.kubelets.entries()) {
            const cluster = this.clusters[i];
            for (const namespace of namespaces) {
                mustKubectl(this.adminKubeconfig(cluster), ["delete", "replicasets", "--all", "-n", namespace]);
            }
            const started: string[] = [];
            await waitFor(`${cluster}: pods admitted and started`, seconds, () => {
                started.push(...kubelet.startPendingPods());
                return expected.every((prefix) => started.some((pod) => pod.startsWith(prefix)));
            }, () => logTail(this.istiods[i]));
        }
    }

    /** The endpoints of `host` in namespace `namespace` that cluster `from`'s istiod holds from cluster `of`. */
    async endpointsOf(from: number, host: string, namespace: string, of: string, seconds: number): Promise<any[]> {
        const istiod = this.istiods[from];
        return waitFor(`${istiod.cluster} holds ${of}'s ${host} endpoints`, seconds, async () => {
            const shards = (await istiod.debug("endpointShardz"))[host]?.[namespace]?.Shards ?? {};
            const endpoints = Object.entries<any[]>(shards).find(([key]) => key.endsWith(`/${of}`))?.[1] ?? [];
            return endpoints.length > 0 ? endpoints : undefined;
        });
    }

    async stop(): Promise<void> {
        await Promise.all(this.istiods.map((istiod) => istiod.stop()));
        this.kubelets.forEach((kubelet) => kubelet.deregisterNode());
    }
}

export function logTail(istiod: LocalIstiod): string {
    return fs.existsSync(istiod.logFile) ? fs.readFileSync(istiod.logFile, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
}
