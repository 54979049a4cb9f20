/**
 * For `npm run bench -- sync`, right after `pulumi up`: starts a real istiod per cluster (LocalMesh)
 * and prints the seconds until every istiod reports every other cluster synced, then stops them.
 *   node build/test/e2e/measureSync.js <work directory> <cluster>...
 */
import * as path from "node:path";
import { LocalMesh } from "./localMesh";

async function main(): Promise<void> {
    const [work, ...clusters] = process.argv.slice(2);
    const mesh = new LocalMesh(clusters, (cluster) => path.join(work, cluster, "admin.kubeconfig"), work);
    const start = performance.now();
    try {
        mesh.start();
        await mesh.waitAllSynced(180);
        console.log(((performance.now() - start) / 1000).toFixed(1));
    } finally {
        await mesh.stop();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
