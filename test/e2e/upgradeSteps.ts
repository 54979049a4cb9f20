/**
 * What the upgrade suite's scenarios share (test/e2e/upgrade.sh): the hollow kubelets that give each
 * istiod pod its address, re-injected pods, the changes of a step, and what a step leaves behind.
 */
import { admin, CLUSTERS } from "./e2eStack";
import { HollowKubelet } from "./hollowKubelet";
import { OLDER, tagOf } from "./istioReleases";
import { everyObject, getJson, mustKubectl, waitFor } from "./kube";

/** What istiod writes into every cluster it serves and no `pulumi destroy` removes. */
export const LEFT_BY_ISTIOD = /^configmaps (default|kube-system)\/istio-ca-(root-cert|crl)$/;

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

/**
 * Objects of `cluster` that still carry the older version (`helm.sh/chart`, `app.kubernetes.io/version`
 * and the like) or the older `revision` (`istio.io/rev`) in a label, and pods that run its images. A Deployment's earlier ReplicaSets,
 * kept at 0 replicas as its rollout history, are Kubernetes' record of the Deployment, not something
 * left behind.
 */
export function leftOf(cluster: string, revision: string | undefined): string[] {
    const history = new Set(
        getJson(admin(cluster), ["replicasets", "--all-namespaces"])
            .items.filter((rs: any) => rs.spec.replicas === 0 && rs.metadata.ownerReferences?.some((o: any) => o.kind === "Deployment"))
            .map((rs: any) => rs.metadata.uid),
    );
    const labelled = everyObject(admin(cluster)).flatMap(({ resource, metadata }) => {
        if (history.has(metadata.uid)) {
            return [];
        }
        const labels = Object.entries<string>(metadata.labels ?? {});
        const old = labels.filter(([key, value]) => value.includes(OLDER.version) || (revision !== undefined && key === "istio.io/rev" && value === revision));
        return old.map(([key, value]) => `${resource} ${metadata.namespace ?? ""}/${metadata.name} ${key}=${value}`);
    });
    const running = getJson(admin(cluster), ["pods", "--all-namespaces"]).items.flatMap((pod: any) =>
        [...(pod.spec.initContainers ?? []), ...pod.spec.containers]
            .filter((c: any) => tagOf(c.image) === OLDER.version)
            .map((c: any) => `pod ${pod.metadata.namespace}/${pod.metadata.name} runs ${c.image}`),
    );
    return [...labelled, ...running];
}

