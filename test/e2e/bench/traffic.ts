/**
 * For `npm run bench -- traffic`: on the harness's clusters with their data plane running, per run
 * - `pulumi up` of the traffic stack without the traffic check, then the seconds from its end until a
 *   request from each cluster's curl pod is first answered by the other cluster's helloworld;
 * - `pulumi up` of the same stack with the check (the program's Jobs must pass inside it);
 * each followed by `pulumi destroy`. Prints one JSON line per run.
 *   node build/test/e2e/bench/traffic.js <runs>
 */
import { harnessDataPlane, trafficStackConfig } from "../dataplane/trafficStack";
import { CLUSTERS, projectDir } from "../e2eStack";
import { waitFor } from "../kube";
import { ProjectStack } from "../projectStack";

const HELLO = "http://helloworld.sample:5000/hello";

async function seconds(action: () => Promise<unknown>): Promise<number> {
    const start = performance.now();
    await action();
    return Number(((performance.now() - start) / 1000).toFixed(1));
}

async function main(): Promise<void> {
    const runs = Number(process.argv[2] ?? 3);
    const dataPlane = harnessDataPlane();
    const project = await ProjectStack.create("traffic-bench", projectDir);
    dataPlane.start();
    try {
        for (let run = 1; run <= runs; run++) {
            project.writeConfig(trafficStackConfig({ enabled: false }));
            const upWithoutCheck = await seconds(() => project.stack.up());
            const upEnd = performance.now();
            const firstAnswer: Record<string, number> = {};
            await Promise.all(
                CLUSTERS.map(async (from, i) => {
                    const version = `v${2 - i}`; // the other cluster's
                    await waitFor(`${from} -> helloworld ${version}`, 300, async () => dataPlane.tryInPod(i, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]).includes(`version: ${version}`));
                    firstAnswer[`${from}->${CLUSTERS[1 - i]}`] = Number(((performance.now() - upEnd) / 1000).toFixed(1));
                }),
            );
            const destroy = await seconds(() => project.stack.destroy());
            project.writeConfig(trafficStackConfig());
            const upWithCheck = await seconds(() => project.stack.up());
            await project.stack.destroy();
            console.log(JSON.stringify({ run, upWithoutCheck, firstAnswer, upWithCheck, destroy }));
        }
    } finally {
        await project.stack.destroy().catch(() => undefined);
        await dataPlane.stop();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
