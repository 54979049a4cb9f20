import { kubeconfigConnection } from "../components/kubeconfig";
import { ApiServerAnswer, getFromApiServer } from "./apiServerProbe";
import { StackConfig } from "./config";
import { proxyOf } from "./reachability";

/**
 * `GET <path>` on the API server of each cluster given by kubeconfig, all at once: each such cluster's
 * name and answer. kind clusters (the program creates them, and their credentials are in the state)
 * and clusters reached through a proxy are not asked, as for reachability.
 */
export async function getFromEachCluster(
    clusters: StackConfig["clusters"],
    path: string,
    accept: string,
    timeoutMs: number,
): Promise<{ readonly name: string; readonly answer: ApiServerAnswer }[]> {
    const asked = clusters.flatMap(({ name, source }) => {
        if (source.type !== "existing") {
            return [];
        }
        const connection = kubeconfigConnection(source.kubeconfig, source.context);
        return proxyOf(connection) === undefined ? [{ name, connection }] : [];
    });
    return Promise.all(asked.map(async ({ name, connection }) => ({ name, answer: await getFromApiServer(connection, path, accept, timeoutMs) })));
}
