/**
 * Real packets: the program's mesh on two clusters and two networks, with a data plane that runs —
 * pods in network namespaces of their own, the injected sidecars and the east-west gateways as
 * pilot-agent + Envoy, a real istiod per cluster — and requests from one cluster's curl pod answered
 * by the other cluster's helloworld, through the other cluster's east-west gateway, with mTLS.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { DataPlane } from "./dataplane/dataPlane";
import { admin, CLUSTERS, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { mustKubectl, waitFor } from "./kube";
import { ProjectStack } from "./projectStack";

/**
 * Settings of this test's stack only, never defaults of the program: the upstream Envoy here lacks
 * the extensions Istio's proxy build adds (istio.stats, istio.metadata_exchange, istio.alpn) and
 * would reject the config that uses them. Access logs on, so each Envoy's log shows its requests.
 */
export const UPSTREAM_ENVOY_VALUES = {
    pilot: { env: { PILOT_ENABLE_METADATA_EXCHANGE: "false", PILOT_ENABLE_ALPN_FILTER: "false" } },
    telemetry: { enabled: false },
    meshConfig: { accessLogFile: "/dev/stdout" },
};

/** The stack a user would write, with the default every user has: `pulumi up` waits for the workloads. */
function trafficStackConfig(): Record<string, unknown> {
    const config = stackConfig("traffic");
    const istio = config.istio as Record<string, unknown>;
    return { ...config, istio: { ...istio, values: { istiod: UPSTREAM_ENVOY_VALUES } }, workloads: { awaitReady: true } };
}

const HELLO = "http://helloworld.sample:5000/hello";

describe("real packets through the mesh", { concurrency: 1 }, () => {
    let project: ProjectStack;
    const dataPlane = new DataPlane(
        CLUSTERS,
        admin,
        work,
        { pilotAgent: path.join(process.env.ISTIO_BIN_DIR!, "pilot-agent"), envoy: process.env.ENVOY_BIN!, helloworld: path.resolve("test/e2e/dataplane/helloworld.mjs") },
        process.env.E2E_POD_NETWORK!,
    );

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/run.sh");
        project = await ProjectStack.create("traffic", projectDir);
        project.writeConfig(trafficStackConfig());
        dataPlane.start();
    });

    after(async () => {
        await dataPlane.stop();
        await project.stack.destroy().catch(() => undefined);
    });

    it("pulumi up, waiting for every workload, succeeds while the clusters run istiod, the gateways and the test app", async () => {
        const up = await project.stack.up();
        assert.equal(up.summary.result, "succeeded");
        for (const prefix of ["istio-system/istio-eastwestgateway-", "sample/helloworld-", "sample/curl-"]) {
            const [namespace, name] = prefix.split("/");
            await dataPlane.waitRunning(namespace, name, 30);
        }
    });

    for (const [from, to] of [
        [1, 0],
        [0, 1],
    ]) {
        const version = `v${to + 1}`;
        it(`${CLUSTERS[from]}'s curl gets answers from helloworld ${version} in ${CLUSTERS[to]}, through ${CLUSTERS[to]}'s east-west gateway, with mTLS`, async () => {
            const gatewayBefore = gatewayPassthrough(to);
            const answer = await waitFor(`${CLUSTERS[from]} -> helloworld ${version}`, 120, async () => {
                const reply = dataPlane.inPod(from, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]);
                return reply.includes(`version: ${version}`) ? reply : undefined;
            }, () => dataPlane.diagnose(from));
            assert.match(answer, new RegExp(`^Hello version: ${version}, instance: helloworld-${version}-`));
            assert.ok(gatewayPassthrough(to) > gatewayBefore, `${CLUSTERS[to]}'s gateway passed no connection on 15443`);
            // The server-side Envoy accepted the client's certificate and reports its identity to the app.
            const serverLog = helloworldLog(to);
            assert.match(serverLog, /URI=spiffe:\/\/cluster\.local\/ns\/sample\/sa\/curl/);
        });
    }

    it("without cluster1's remote secret for cluster2, cluster1 no longer reaches v2 while cluster2 still reaches v1; the next pulumi up restores it", async () => {
        mustKubectl(admin("cluster1"), ["delete", "secret", "istio-remote-secret-cluster2", "-n", "istio-system"]);
        await waitFor("cluster1 -> v2 fails", 60, async () => !versionsAnswering(0, 10).has("v2"), () => dataPlane.diagnose(0));
        assert.ok(versionsAnswering(1, 20).has("v1"), "cluster2 -> v1 stopped too");
        const up = await project.stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        await waitFor("cluster1 -> v2 again", 120, async () => versionsAnswering(0, 10).has("v2"), () => dataPlane.diagnose(0));
    });

    it("without cluster1's cross-network Gateway, cluster2 no longer reaches v1; the next pulumi up restores it", async () => {
        mustKubectl(admin("cluster1"), ["delete", "gateways.networking.istio.io", "cross-network-gateway", "-n", "istio-system"]);
        await waitFor("cluster2 -> v1 fails", 60, async () => !versionsAnswering(1, 10).has("v1"), () => dataPlane.diagnose(1));
        const up = await project.stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        await waitFor("cluster2 -> v1 again", 120, async () => versionsAnswering(1, 10).has("v1"), () => dataPlane.diagnose(1));
    });

    it("leaves every Envoy and istiod without a rejected config", async () => {
        for (const [i] of CLUSTERS.entries()) {
            for (const prefix of ["sample/helloworld-", "sample/curl-", "istio-system/istio-eastwestgateway-"]) {
                const [namespace, name] = prefix.split("/");
                const stats = dataPlane.inPod(i, namespace, name, ["curl", "-sS", "http://127.0.0.1:15000/stats?filter=update_rejected"]);
                const rejected = stats.split("\n").filter((line) => /update_rejected: [1-9]/.test(line));
                assert.deepEqual(rejected, [], `${CLUSTERS[i]} ${prefix}`);
            }
            const metrics = await (await fetch(`http://${dataPlane.istiods[i].podIp}:15014/metrics`)).text();
            const rejects = metrics.split("\n").filter((line) => /^pilot_total_xds_rejects\S* [1-9]/.test(line));
            assert.deepEqual(rejects, [], `${CLUSTERS[i]} istiod`);
        }
    });

    /** The helloworld versions that answered `requests` requests from cluster `i`'s curl pod. */
    function versionsAnswering(i: number, requests: number): Set<string> {
        const versions = new Set<string>();
        for (let n = 0; n < requests; n++) {
            const reply = dataPlane.tryInPod(i, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]);
            const version = /version: (v\d+)/.exec(reply)?.[1];
            if (version) {
                versions.add(version);
            }
        }
        return versions;
    }

    /** Connections cluster `i`'s east-west gateway accepted on its AUTO_PASSTHROUGH listener (15443). */
    function gatewayPassthrough(i: number): number {
        const stats = dataPlane.inPod(i, "istio-system", "istio-eastwestgateway-", ["curl", "-sS", "http://127.0.0.1:15000/stats?filter=listener.0.0.0.0_15443.downstream_cx_total"]);
        return Number(/downstream_cx_total: (\d+)/.exec(stats)?.[1] ?? 0);
    }

    /** The access log of cluster `i`'s helloworld sidecar and the app's own log. */
    function helloworldLog(i: number): string {
        const pod = dataPlane.kubelets[i].find("sample", "helloworld-")!;
        const logs = `${path.join(work, "pods", `node-${CLUSTERS[i]}-${pod.pod.metadata.name}`)}.logs`;
        return fs.readdirSync(logs).map((file) => fs.readFileSync(path.join(logs, file), "utf8")).join("\n");
    }
});
