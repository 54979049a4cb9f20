import * as fs from "node:fs";
import * as path from "node:path";
import { mustRun, run, waitFor } from "../kube";
import { LocalIstiod } from "../localIstiod";
import { logTail } from "../localMesh";
import { Kubelet } from "./kubelet";
import { PodNetwork } from "./podNetwork";
import { Runtime } from "./runningPod";

/**
 * The whole data plane of the test clusters on this host: one pod network, and per cluster a kubelet
 * whose pods run and a local istiod that listens at its own pod IP (an address of this host on the
 * pod network, so the sidecars and gateways reach it as they would in a cluster). The kubelets sync
 * in the background, once a second, until `stop`.
 */
export class DataPlane {
    readonly network: PodNetwork;
    readonly istiods: LocalIstiod[];
    readonly kubelets: Kubelet[];
    private syncing = false;
    private loop?: Promise<void>;
    private lastError?: unknown;

    constructor(
        readonly clusters: readonly string[],
        /** Each cluster's network: pods of different networks reach each other only through gateways. */
        private readonly networks: readonly string[],
        adminKubeconfig: (cluster: string) => string,
        private readonly work: string,
        runtime: Runtime,
        prefix: string,
    ) {
        this.network = new PodNetwork(prefix);
        this.istiods = clusters.map((cluster, i) => {
            const podIp = DataPlane.istiodAddress(i);
            return new LocalIstiod(cluster, adminKubeconfig(cluster), podIp, podIp, path.join(work, `istiod-${cluster}`), "pilot-discovery");
        });
        this.kubelets = clusters.map(
            (cluster, i) =>
                new Kubelet(
                    adminKubeconfig(cluster),
                    `node-${cluster}`,
                    `198.19.0.${i + 1}`,
                    DataPlane.podRange(i),
                    this.network,
                    runtime,
                    work,
                    this.istiods[i],
                    DataPlane.gatewayAddress(i),
                ),
        );
    }

    /** The first three octets of cluster `i`'s pod IPs. */
    static podRange(i: number): string {
        return `198.19.${11 + i}`;
    }

    static istiodAddress(i: number): string {
        return `198.19.1.${i + 1}`;
    }

    /** The load-balancer address of cluster `i`'s east-west gateway, delivered into the gateway pod's namespace. */
    static gatewayAddress(i: number): string {
        return `198.19.20.${i + 1}`;
    }

    /**
     * The pod network, the nodes, and the kubelets' background sync: from here on every pod that the
     * clusters schedule runs, istiod's included, so `pulumi up` can wait for workloads to be ready.
     */
    start(): void {
        // The proxies run as their own user, and Envoy resolves its config's full path: that user must
        // traverse the work directory to its pod's root (711: no listing; what is inside keeps its mode).
        fs.chmodSync(this.work, 0o711);
        fs.mkdirSync(path.join(this.work, "pods"), { mode: 0o711, recursive: true });
        this.network.create(this.istiods.map((istiod) => istiod.podIp));
        for (let i = 0; i < this.clusters.length; i++) {
            for (let j = i + 1; j < this.clusters.length; j++) {
                if (this.networks[i] !== this.networks[j]) {
                    this.network.separate(`${DataPlane.podRange(i)}.0/24`, `${DataPlane.podRange(j)}.0/24`);
                }
            }
        }
        this.kubelets.forEach((kubelet) => kubelet.registerNode());
        this.syncing = true;
        this.loop = (async () => {
            while (this.syncing) {
                for (const kubelet of this.kubelets) {
                    await kubelet.sync().catch((error) => (this.lastError = error));
                }
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
        })();
    }

    /** Waits until a pod `<namespace>/<name prefix>` of every cluster runs with every container ready. */
    async waitRunning(namespace: string, prefix: string, seconds: number): Promise<void> {
        for (const [i, kubelet] of this.kubelets.entries()) {
            await waitFor(`${this.clusters[i]}: ${namespace}/${prefix}* ready`, seconds, async () => {
                const pod = kubelet.find(namespace, prefix);
                return pod && (await pod.states()).every((s) => s.ready);
            }, () => this.diagnose(i));
        }
    }

    /** Runs a command in the network namespace of cluster `i`'s pod `<namespace>/<prefix>*`; fails when it fails. */
    inPod(i: number, namespace: string, prefix: string, command: string[]): string {
        return mustRun("ip", ["netns", "exec", this.netnsOf(i, namespace, prefix), ...command]).stdout;
    }

    /** The same, returning what it printed however it ended. */
    tryInPod(i: number, namespace: string, prefix: string, command: string[]): string {
        return run("ip", ["netns", "exec", this.netnsOf(i, namespace, prefix), ...command]).stdout;
    }

    private netnsOf(i: number, namespace: string, prefix: string): string {
        const pod = this.kubelets[i].find(namespace, prefix);
        if (!pod) {
            throw new Error(`${this.clusters[i]}: no running pod ${namespace}/${prefix}*`);
        }
        return pod.netns;
    }

    /** What went wrong so far, for a failed wait. */
    diagnose(i: number): string {
        const failures = [...this.kubelets[i].startFailures].map(([pod, why]) => `${pod}: ${why}`);
        return [`sync error: ${this.lastError ?? "none"}`, ...failures, logTail(this.istiods[i])].join("\n");
    }

    async stop(): Promise<void> {
        this.syncing = false;
        await this.loop;
        await Promise.all(this.kubelets.map((kubelet) => kubelet.stopAll()));
        await Promise.all(this.istiods.map((istiod) => istiod.stop()));
        this.kubelets.forEach((kubelet) => kubelet.deregisterNode());
        this.network.destroy();
    }
}
