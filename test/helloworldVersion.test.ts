import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_IMAGES, parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { existingCluster } from "./harness/scenarios";

const mesh = (...clusters: StackConfigInput["clusters"]): StackConfigInput => ({ meshId: "mesh1", clusters });
const CLUSTER1 = existingCluster("cluster1", "network1", 1);
const CLUSTER2 = existingCluster("cluster2", "network2", 2);
const CLUSTER3 = existingCluster("cluster3", "network3", 3);

/** Each cluster's helloworld Deployment: its URN, name, version label and image. */
async function helloworlds(raw: StackConfigInput): Promise<Record<string, unknown>> {
    const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
    const deployments = resources.filter((r: RecordedResource) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.labels.app === "helloworld");
    return Object.fromEntries(
        deployments.map((d) => [
            d.name.split("-")[0],
            { urn: d.urn, name: d.inputs.metadata.name, version: d.inputs.metadata.labels.version, image: d.inputs.spec.template.spec.containers[0].image },
        ]),
    );
}

describe("the test app's helloworld version in each cluster", () => {
    it("is v1 in cluster1 and v2 in cluster2, as in Istio's guides, by the names' last digit", async () => {
        const found = await helloworlds(mesh(CLUSTER1, CLUSTER2, CLUSTER3));
        assert.deepEqual(
            Object.fromEntries(Object.entries(found).map(([cluster, d]: [string, any]) => [cluster, [d.name, d.image]])),
            {
                cluster1: ["helloworld-v1", DEFAULT_IMAGES.helloworldV1],
                cluster2: ["helloworld-v2", DEFAULT_IMAGES.helloworldV2],
                cluster3: ["helloworld-v1", DEFAULT_IMAGES.helloworldV1],
            },
        );
    });

    it("stays as it was in the third cluster when the second is removed", async () => {
        const before = await helloworlds(mesh(CLUSTER1, CLUSTER2, CLUSTER3));
        const after = await helloworlds(mesh(CLUSTER1, CLUSTER3));
        assert.deepEqual(after.cluster3, before.cluster3);
    });

    it("is the entry's helloworldVersion when set, wherever the entry stands", async () => {
        const found = await helloworlds(mesh({ ...existingCluster("west", "net1", 1), helloworldVersion: "v2" }, existingCluster("east", "net1", 2)));
        assert.deepEqual(
            Object.fromEntries(Object.entries(found).map(([cluster, d]: [string, any]) => [cluster, d.version])),
            { west: "v2", east: "v1" },
        );
    });

    it("is refused when it is not a version of the sample", () => {
        assert.throws(() => parseStackConfig(mesh(CLUSTER1, { ...CLUSTER2, helloworldVersion: "v3" as "v2" })), /clusters\[1\]\.helloworldVersion: got "v3"; expected "v1" or "v2"/);
    });

    it("is warned about when every cluster of the mesh runs the same one and the traffic check is on", () => {
        const expected =
            "clusters: every cluster of the mesh runs helloworld v1 (helloworldVersion; by default v2 only where the name ends in an even number), " +
            "so the traffic check cannot tell an answer from another cluster from a local one; set helloworldVersion: v2 on one of them";
        assert.deepEqual(parseStackConfig(mesh(CLUSTER1, CLUSTER3)).warnings, [expected]);
        assert.deepEqual(parseStackConfig(mesh(CLUSTER1, { ...CLUSTER2, gone: true }, CLUSTER3)).warnings, [expected], "a cluster that is gone serves nothing");
        assert.deepEqual(parseStackConfig({ ...mesh(CLUSTER1, CLUSTER3), verify: { enabled: false } }).warnings, []);
        assert.deepEqual(parseStackConfig(mesh(CLUSTER1, CLUSTER2)).warnings, []);
    });
});
