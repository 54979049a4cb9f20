/**
 * What the e2e watches of the running istiods while a credential changes: whether each keeps its peer
 * synced and its endpoints, and the kubelet's part in getting a Secret's new files to them.
 */
import { CLUSTERS } from "./e2eStack";
import { LocalIstiod } from "./localIstiod";

export const HELLOWORLD = "helloworld.sample.svc.cluster.local";

/**
 * Samples every istiod every 200 ms until stopped: its `/debug/clusterz` (what `istioctl remote-clusters`
 * shows) and the other cluster's helloworld endpoints in its `/debug/endpointShardz` (what it serves).
 * A gap is a sample in which an istiod did not answer, did not list the other cluster or held none of
 * its endpoints. `syncing` counts the samples in which it listed the other cluster as not yet synced:
 * what istiod shows while a new client for an updated remote secret syncs and it keeps serving the
 * previous one (Istio 1.30 and later, pkg/kube/multicluster/clusterstore.go: Swap).
 */
export function sampleClusterz(istiods: readonly LocalIstiod[]): { stop: () => Promise<{ samples: number; gaps: string[]; syncing: string[] }> } {
    let running = true;
    let samples = 0;
    const gaps: string[] = [];
    const syncing: string[] = [];
    const loop = (async () => {
        while (running) {
            const started = performance.now();
            await Promise.all(
                istiods.map(async (istiod) => {
                    const at = new Date().toISOString();
                    try {
                        const [clusters, shards]: [any[], any] = await Promise.all([istiod.debug("clusterz"), istiod.debug("endpointShardz")]);
                        for (const other of CLUSTERS.filter((c) => c !== istiod.cluster)) {
                            const status = clusters.find((c) => c.id === other)?.syncStatus;
                            if (status === undefined) {
                                gaps.push(`${at} ${istiod.cluster}: ${other} not listed`);
                            } else if (status !== "synced") {
                                syncing.push(`${at} ${istiod.cluster}: ${other} ${status}`);
                            }
                            const held = Object.entries<any[]>(shards[HELLOWORLD]?.sample?.Shards ?? {}).find(([key]) => key.endsWith(`/${other}`))?.[1] ?? [];
                            if (held.length === 0) {
                                gaps.push(`${at} ${istiod.cluster}: no ${other} endpoints of ${HELLOWORLD}`);
                            }
                        }
                    } catch (err) {
                        gaps.push(`${at} ${istiod.cluster}: ${(err as Error).message}`);
                    }
                }),
            );
            samples++;
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, 200 - (performance.now() - started))));
        }
    })();
    return {
        stop: async () => {
            running = false;
            await loop;
            return { samples, gaps, syncing };
        },
    };
}

/** Does for the istiods what the kubelet does for their pods' `cacerts` volume, every second until stopped. */
export function syncVolumes(istiods: readonly LocalIstiod[]): { stop: () => void; synced: Map<string, number> } {
    const synced = new Map<string, number>();
    const timer = setInterval(() => {
        for (const istiod of istiods) {
            for (const secret of istiod.syncSecretVolumes(["cacerts"])) {
                synced.set(`${istiod.cluster}/${secret}`, Date.now());
            }
        }
    }, 1000);
    return { stop: () => clearInterval(timer), synced };
}
