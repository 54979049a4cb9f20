/**
 * Which primaries of `istio.rolloutOrder` get a peer-sync check in their checkpoint. The check waits
 * for istiod to list every peer as synced, so the peers' remote secrets must exist; on a first install
 * they wait for the peers' istiod, which waits for this checkpoint. So only where the clusters, read
 * before any resource is registered, already run Istio: the change is to an existing mesh.
 */
import type { Installed } from "./installedRevisions";
import { MeshPlan } from "./topology";

export interface PeerSyncPlan {
    /** By primary, the clusters its istiod must list as synced before the next primary's charts change. */
    readonly checked: ReadonlyMap<string, readonly string[]>;
    /** The primaries without a check, each with why. */
    readonly unchecked: readonly { readonly cluster: string; readonly reason: string }[];
}

/** The clusters whose remote secrets `primary`'s istiod reads: their names are the IDs its clusterz lists. */
export const peersOf = (plan: MeshPlan, primary: string): string[] => plan.remoteSecrets.filter((s) => s.target === primary).map((s) => s.source);

/**
 * Every primary but the last, whose checkpoint no cluster waits for (the traffic check runs after it),
 * is checked when it and every peer run Istio now.
 */
export function planPeerSync(order: readonly string[], plan: MeshPlan, installed: Installed): PeerSyncPlan {
    const checked = new Map<string, string[]>();
    const unchecked: { cluster: string; reason: string }[] = [];
    order.forEach((primary, i) => {
        const peers = peersOf(plan, primary);
        const involved = [primary, ...peers];
        const notRead = involved.filter((c) => installed[c] === undefined);
        const withoutIstio = involved.filter((c) => installed[c]?.length === 0);
        if (i === order.length - 1) {
            unchecked.push({ cluster: primary, reason: "the last in the order, which no cluster waits for" });
        } else if (notRead.length > 0) {
            unchecked.push({ cluster: primary, reason: `${notRead.join(", ")} not read: kind, behind a proxy, or not allowed to list webhooks` });
        } else if (withoutIstio.length > 0) {
            unchecked.push({ cluster: primary, reason: `a first install: ${withoutIstio.join(", ")} run${withoutIstio.length === 1 ? "s" : ""} no Istio yet` });
        } else {
            checked.set(primary, peers);
        }
    });
    return { checked, unchecked };
}
