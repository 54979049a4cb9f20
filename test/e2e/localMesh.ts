import * as fs from "node:fs";
import * as path from "node:path";
import { HollowKubelet } from "./hollowKubelet";
import { waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";

/**
 * The data plane's stand-in and the real control plane for each test cluster: a hollow kubelet and
 * a local istiod. The istiod pod's IP is the address its process listens on, so that the API server's
 * webhook calls reach it; every other pod gets an address nothing ever connects to.
 */
export class LocalMesh {
    readonly istiods: LocalIstiod[];
    readonly kubelets: HollowKubelet[];

    constructor(
        readonly clusters: readonly string[],
        adminKubeconfig: (cluster: string) => string,
        work: string,
    ) {
        this.istiods = clusters.map(
            (cluster, i) => new LocalIstiod(cluster, adminKubeconfig(cluster), `127.0.1.${i + 1}`, path.join(work, `istiod-${cluster}`), "pilot-discovery"),
        );
        this.kubelets = clusters.map(
            (cluster, i) =>
                new HollowKubelet(adminKubeconfig(cluster), `hollow-${cluster}`, (namespace, name, n) =>
                    namespace === "istio-system" && name.startsWith("istiod-") ? this.istiods[i].podIp : `127.0.${10 + i}.${n + 1}`,
                ),
        );
    }

    /** The load-balancer address of cluster `i`'s east-west gateway. */
    static gatewayAddress(i: number): string {
        return `127.0.20.${i + 1}`;
    }

    /** Registers the nodes, starts the pods that exist (istiod's), addresses the gateways, starts istiod. */
    start(): void {
        for (const [i, kubelet] of this.kubelets.entries()) {
            kubelet.registerNode();
            kubelet.startPendingPods();
            kubelet.assignLoadBalancer("istio-system", "istio-eastwestgateway", LocalMesh.gatewayAddress(i));
            this.istiods[i].start();
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

    stop(): Promise<void> {
        return Promise.all(this.istiods.map((istiod) => istiod.stop())).then(() => undefined);
    }
}

export function logTail(istiod: LocalIstiod): string {
    return fs.existsSync(istiod.logFile) ? fs.readFileSync(istiod.logFile, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
}
