import * as pulumi from "@pulumi/pulumi";
import { ApiServerConnection, kubeconfigConnection } from "../components/kubeconfig";
import { probeApiServer } from "./apiServerProbe";
import { StackConfig } from "./config";
import { stopProgram } from "./stopProgram";

/** A reachable API server answers in milliseconds; this leaves room for a slow VPN, not for a dead address. */
export const PROBE_TIMEOUT_MS = 10_000;

type Clusters = StackConfig["clusters"];

/**
 * Probes, in parallel, the API server of every cluster given by kubeconfig (the kubeconfig's server: the
 * one this program's provider talks to; `apiServer` is for the other clusters' istiod and may be
 * unreachable from here by design). kind clusters are skipped: the program creates them, so at the
 * first preview they do not exist yet. So is a cluster reached through a proxy (`proxy-url`, or
 * `HTTPS_PROXY` which client-go honours), which this probe does not speak; the provider reports it then.
 * Returns one problem per unreachable cluster, naming it, the address and the reason.
 */
export async function unreachableClusters(clusters: Clusters, timeoutMs: number): Promise<string[]> {
    const problems = await Promise.all(
        clusters.map(async ({ name, source }) => {
            if (source.type !== "existing") {
                return undefined;
            }
            let connection: ApiServerConnection;
            try {
                connection = kubeconfigConnection(source.kubeconfig, source.context);
            } catch (err) {
                return `${name}: ${(err as Error).message}`;
            }
            const proxy = proxyOf(connection);
            if (proxy !== undefined) {
                pulumi.log.info(`cluster ${name}: API server ${connection.server} not probed, it is reached through the proxy ${proxy}`);
                return undefined;
            }
            const reason = await probeApiServer(connection, timeoutMs);
            return reason === undefined ? undefined : `${name} at ${connection.server}: ${reason}`;
        }),
    );
    return problems.filter((p): p is string => p !== undefined);
}

/** The proxy client-go would reach the API server through: the kubeconfig's, else the environment's. */
export function proxyOf(connection: ApiServerConnection): string | undefined {
    const env = process.env;
    const fromEnvironment = new URL(connection.server).protocol === "http:" ? (env.HTTP_PROXY ?? env.http_proxy) : (env.HTTPS_PROXY ?? env.https_proxy);
    return connection.proxyUrl ?? fromEnvironment;
}

/**
 * Stops the program before any resource is registered when a cluster's API server does not answer.
 *
 * It stops `pulumi preview` as well as `pulumi up`. A preview of an unreachable cluster would succeed
 * and plan its objects as creates (the kubernetes provider, finding the cluster unreachable, previews
 * without it), so a reviewer would read a plan that `up` cannot carry out. In `up`, failing here,
 * before the engine touches any cluster, is what keeps a mesh-wide change whole: the engine applies
 * the clusters' resources in parallel and finishes those in flight when one fails, so the reachable
 * clusters would get part of a new mesh ID, CA or set of remote secrets while the other kept the old,
 * and the mesh would stay split until that cluster came back.
 */
export async function requireReachableClusters(config: StackConfig, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
    // A cluster that is gone is not asked: it is being let go of because it does not answer.
    const problems = await unreachableClusters(config.clusters.filter((c) => !c.gone), timeoutMs);
    if (problems.length > 0) {
        const count = problems.length === 1 ? "1 cluster" : `${problems.length} clusters`;
        throw stopProgram(
            `Cannot reach the API server of ${count}; stopped before changing anything:\n` + problems.map((p) => `  - ${p}`).join("\n"),
        );
    }
}
