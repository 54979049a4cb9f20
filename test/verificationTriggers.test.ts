import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { runWithMocks } from "./harness/mockRuntime";
import { TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

/**
 * The names of the clusters' check Jobs. A Job runs once and its pod template cannot change, so the
 * check runs again exactly when a Job's name changes: Pulumi then creates the new Job, awaits it, and
 * deletes the old one.
 */
async function jobNamesOf(raw: StackConfigInput): Promise<string[]> {
    const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
    const jobs = resources.filter((r) => r.type === "kubernetes:batch/v1:Job");
    assert.deepEqual(jobs.map((j) => j.name), ["cluster1-cross-cluster-check", "cluster2-cross-cluster-check"]);
    return jobs.map((j) => j.inputs.metadata.name);
}

const withIstio = (istio: StackConfigInput["istio"]): StackConfigInput => ({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { ...TWO_CLUSTERS_TWO_NETWORKS.istio, ...istio } });

/** Asserts that every cluster's Job has a new name, a new one for each. */
function assertAllRenamed(after: string[], before: string[]): void {
    for (const [i, name] of after.entries()) {
        assert.notEqual(name, before[i], `cluster${i + 1}'s check runs again`);
    }
}

describe("what runs the cross-cluster check again", () => {
    it("is a change of the Job's name, a digest of what the check depends on and what it runs, one Job per cluster", async () => {
        const names = await jobNamesOf(TWO_CLUSTERS_TWO_NETWORKS);
        for (const name of names) {
            assert.match(name, /^cross-cluster-check-[0-9a-f]{10}$/);
        }
        assert.notEqual(names[0], names[1], "each cluster's pod differs (CLUSTER)");
        assert.deepEqual(await jobNamesOf(TWO_CLUSTERS_TWO_NETWORKS), names, "the same mesh does not run the check again");
    });

    it("changes with istiod's values, the gateway's values, the charts' version and the mesh settings", async () => {
        const before = await jobNamesOf(TWO_CLUSTERS_TWO_NETWORKS);
        assertAllRenamed(await jobNamesOf(withIstio({ values: { istiod: { pilot: { env: { PILOT_TRACE_SAMPLING: "1" } } } } })), before);
        assertAllRenamed(await jobNamesOf(withIstio({ values: { gateway: { resources: { requests: { cpu: "200m" } } } } })), before);
        assertAllRenamed(await jobNamesOf(withIstio({ version: "1.30.5" })), before);
        assertAllRenamed(await jobNamesOf({ ...TWO_CLUSTERS_TWO_NETWORKS, trustDomain: "example.org" }), before);
    });

    it("changes with the check's own settings and image, which its pod is made from", async () => {
        const before = await jobNamesOf(TWO_CLUSTERS_TWO_NETWORKS);
        assertAllRenamed(await jobNamesOf({ ...TWO_CLUSTERS_TWO_NETWORKS, verify: { requests: 50 } }), before);
        assertAllRenamed(await jobNamesOf({ ...TWO_CLUSTERS_TWO_NETWORKS, verify: { attempts: 3 } }), before);
        assertAllRenamed(await jobNamesOf({ ...TWO_CLUSTERS_TWO_NETWORKS, images: { curl: "registry.example.com/curl:8.16.0" } }), before);
    });

    it("does not change with how Pulumi awaits the workloads, which neither the mesh nor the check is made from", async () => {
        const before = await jobNamesOf(TWO_CLUSTERS_TWO_NETWORKS);
        assert.deepEqual(await jobNamesOf({ ...TWO_CLUSTERS_TWO_NETWORKS, workloads: { awaitReady: false } }), before);
    });
});
