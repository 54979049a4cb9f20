/**
 * What the upgrade suite's scenarios share (test/e2e/upgrade.sh): the hollow kubelets that give each
 * istiod pod its address, re-injected pods, and the changes of a step.
 */
import { admin, CLUSTERS } from "./e2eStack";
import { HollowKubelet } from "./hollowKubelet";
import { getJson, mustKubectl, waitFor } from "./kube";

/** The changes of a preview or an update, without what stays the same. */
export const changesOf = (summary: Record<string, number>) => Object.fromEntries(Object.entries(summary).filter(([op]) => op !== "same"));

/** The pod IP of the istiod in `slot` (one per revision) in cluster i; its process listens on the same address in 127.18.0.0/15. */
export const istiodIp = (slot: number, i: number) => `198.18.${3 + slot}.${i + 1}`;

/** A hollow kubelet per cluster; the pods of `istio-system` that `istiodSlot` names get that istiod's address. */
export function kubeletsFor(istiodSlot: (name: string) => number | undefined): HollowKubelet[] {
    return CLUSTERS.map(
        (cluster, i) =>
            new HollowKubelet(admin(cluster), `hollow-${cluster}`, `198.18.0.${i + 1}`, (ns, name, n) => {
                const slot = ns === "istio-system" ? istiodSlot(name) : undefined;
                return slot === undefined ? `198.18.${10 + i}.${n + 1}` : istiodIp(slot, i);
            }),
    );
}

/**
 * Re-creates the pods of `app` in the test app's namespace and waits until each cluster's is injected
 * (through whatever the namespace's label selects); starts them and returns them.
 */
export async function reinject(kubelets: readonly HollowKubelet[], namespace: string, app: string, context: (i: number) => string): Promise<any[]> {
    const pods: any[] = [];
    for (const [i, cluster] of CLUSTERS.entries()) {
        mustKubectl(admin(cluster), ["delete", "replicasets", "-n", namespace, "-l", `app=${app}`]);
        pods.push(
            await waitFor(`${cluster}: a new ${app} pod injected`, 90, () => {
                kubelets[i].finishTerminatingPods();
                const found = getJson(admin(cluster), ["pods", "-n", namespace, "-l", `app=${app}`]).items;
                return found.find((p: any) => !p.metadata.deletionTimestamp && p.metadata.annotations?.["sidecar.istio.io/status"]);
            }, () => context(i)),
        );
        kubelets[i].startPendingPods((pod) => pod.metadata.namespace === namespace);
    }
    return pods;
}
