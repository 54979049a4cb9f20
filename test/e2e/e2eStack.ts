/**
 * What every e2e suite shares about its stacks: the control planes run.sh/faults.sh started in
 * $E2E_WORK, the official charts, and the stack config a user would write for them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const work = process.env.E2E_WORK!;
export const projectDir = process.env.E2E_PROJECT!;
export const CLUSTERS = ["cluster1", "cluster2"] as const;
export const admin = (cluster: string) => path.join(work, cluster, "admin.kubeconfig");
/** The official charts (test/e2e/toolchain/build-istio.sh), as an air-gapped site would hold them. */
export const chartsDir = process.env.ISTIO_CHARTS_DIR!;
/** The version the charts themselves carry (a development build of Istio names none of its own). */
export const chartVersion = (yaml.load(fs.readFileSync(path.join(chartsDir ?? "", "base", "Chart.yaml"), "utf8")) as any)?.version;
export const apiServer = (cluster: string) => (yaml.load(fs.readFileSync(admin(cluster), "utf8")) as any).clusters[0].cluster.server;

/** The stack config of `clusters` (CLUSTERS unless given; each on a network of its own unless `networks` says otherwise). */
export function stackConfig(meshId: string, networks?: readonly string[], clusters: readonly string[] = CLUSTERS): Record<string, unknown> {
    return {
        meshId,
        // The API servers listen on loopback, which the program refuses to take from a kubeconfig; said
        // explicitly, it is kept (with a warning), as every istiod of this test runs on this host.
        clusters: clusters.map((name, i) => ({ name, network: networks?.[i] ?? `network${i + 1}`, kubeconfig: admin(name), apiServer: apiServer(name) })),
        istio: { version: chartVersion, chartRepo: chartsDir },
        workloads: { awaitReady: false },
        verify: { enabled: false },
    };
}

/** True when the run scripts set up the control planes and charts this suite needs. */
export function inHarness(): boolean {
    return Boolean(work && fs.existsSync(admin("cluster1")) && chartsDir);
}
