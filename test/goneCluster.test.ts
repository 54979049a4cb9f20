import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError, parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { requireReachableClusters } from "../stacks/reachability";
import { clusterOfProvider, fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks, valueOf } from "./harness/mockRuntime";
import { existingCluster, PRIMARY_TWO_REMOTES_TWO_NETWORKS } from "./harness/scenarios";

const PROVIDER = "pulumi:providers:kubernetes";

/** Three primaries on three networks, as Istio's guides name them. */
const THREE_PRIMARIES: StackConfigInput = {
    meshId: "mesh1",
    clusters: [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2), existingCluster("cluster3", "network3", 3)],
};

/** `raw` with the clusters named in `gone` marked gone. */
const withGone = (raw: StackConfigInput, ...gone: string[]): StackConfigInput => ({
    ...raw,
    clusters: raw.clusters.map((c) => (gone.includes(c.name) ? { ...c, gone: true } : c)),
});

const run = (raw: StackConfigInput) => runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
const providers = (resources: readonly RecordedResource[]) => resources.filter((r) => r.type === PROVIDER);

describe("each cluster's providers and PULUMI_K8S_DELETE_UNREACHABLE", () => {
    const saved = process.env.PULUMI_K8S_DELETE_UNREACHABLE;
    before(() => {
        // What the old recipe for a deleted cluster left set for the run.
        process.env.PULUMI_K8S_DELETE_UNREACHABLE = "true";
    });
    after(() => {
        if (saved === undefined) {
            delete process.env.PULUMI_K8S_DELETE_UNREACHABLE;
        } else {
            process.env.PULUMI_K8S_DELETE_UNREACHABLE = saved;
        }
    });

    it("never lets the variable into a provider's inputs: every provider says false itself", async () => {
        const { resources } = await run(PRIMARY_TWO_REMOTES_TWO_NETWORKS);
        const found = providers(resources);
        assert.equal(found.length, 5, "one per cluster and one per remote's istiod");
        for (const provider of found) {
            assert.equal(provider.inputs.deleteUnreachable, "false", provider.urn);
        }
    });
});

describe("a cluster that is gone", () => {
    let live: RecordedResource[];
    let gone: RecordedResource[];
    let outputs: Awaited<ReturnType<typeof run>>["result"];

    before(async () => {
        live = (await run(THREE_PRIMARIES)).resources;
        ({ resources: gone, result: outputs } = await run(withGone(THREE_PRIMARIES, "cluster3")));
    });

    it("keeps its provider under the same URN, now letting go of unreachable objects; the others' stay as they were", () => {
        const before = new Map(providers(live).map((p) => [p.urn, p.inputs.deleteUnreachable]));
        const after = new Map(providers(gone).map((p) => [p.urn, p.inputs.deleteUnreachable]));
        assert.deepEqual([...after.keys()], [...before.keys()]);
        for (const [urn, deleteUnreachable] of after) {
            assert.equal(deleteUnreachable, urn.endsWith("::cluster3-k8s") ? "true" : "false", urn);
        }
    });

    it("has nothing made in it but its CRD set, which lets go of it, and is not read by the others' istiod", () => {
        const inCluster3 = gone.filter((r) => r.type.startsWith("kubernetes:") && clusterOfProvider(r.provider) === "cluster3");
        assert.deepEqual(inCluster3.map((r) => r.urn), []);
        const byName = (resources: RecordedResource[], name: string) => resources.find((r) => r.name === name)!;
        const crdSetUrn = (resources: RecordedResource[]) => byName(resources, "cluster3-istio-crds").urn;
        const crdSet = gone.find((r) => r.name === "cluster3-istio-crds")!;
        assert.equal(crdSet.urn, crdSetUrn(live), "the same resource as while the cluster was there");
        assert.deepEqual([crdSet.inputs.gone, crdSet.inputs.digests], [true, {}]);
        const others = gone.filter((r) => /cluster3/.test(r.name) && r.type !== PROVIDER && r.type !== "istio-multicluster:cluster:Cluster" && r !== crdSet);
        assert.deepEqual(others.map((r) => r.type), ["istio-multicluster:istio:ControlPlane"], "its CRD set's parent, as before");
        assert.equal(crdSet.provider, byName(live, "cluster3-istio-crds").provider, "the same provider, the one of every set");
        const remoteSecrets = gone.filter((r) => r.name.endsWith("-remote-secret")).map((r) => r.name);
        assert.deepEqual(remoteSecrets.sort(), ["cluster1-to-cluster2-remote-secret", "cluster2-to-cluster1-remote-secret"]);
    });

    it("is left out of the stack outputs", async () => {
        assert.deepEqual(outputs.clusters.map((c) => c.name), ["cluster1", "cluster2"]);
        assert.deepEqual((await valueOf(outputs.verification!)).map((v) => v.cluster), ["cluster1", "cluster2"]);
    });

    it("as a remote, also keeps the provider its istiod objects were applied through, under the same URN", async () => {
        const before = providers((await run(PRIMARY_TWO_REMOTES_TWO_NETWORKS)).resources);
        const after = providers((await run(withGone(PRIMARY_TWO_REMOTES_TWO_NETWORKS, "spoke2"))).resources);
        assert.deepEqual(after.map((p) => p.urn).sort(), before.map((p) => p.urn).sort());
        const servedBy = after.find((p) => p.name === "spoke2-k8s-served-by-hub")!;
        assert.equal(servedBy.inputs.deleteUnreachable, "true");
        assert.equal(servedBy.inputs.kubeconfig, before.find((p) => p.name === "spoke2-k8s-served-by-hub")!.inputs.kubeconfig);
        assert.deepEqual(servedBy.dependencies, [], "it waits for no exposure of its primary");
        assert.equal(after.find((p) => p.name === "spoke1-k8s-served-by-hub")!.inputs.deleteUnreachable, "false");
    });

    it("takes its remotes with it: a remote of a gone primary must be marked gone too", () => {
        assert.throws(
            () => parseStackConfig(withGone(PRIMARY_TWO_REMOTES_TWO_NETWORKS, "hub", "spoke1")),
            (err: ConfigError) => {
                assert.deepEqual(err.problems, [
                    'clusters[2].primary: got "hub"; expected the name of a primary cluster of this mesh (hub); clusters[0] is gone, and its remotes with it: set gone: true here too',
                ]);
                return true;
            },
        );
    });

    it("is not asked whether its API server answers", async () => {
        const { config } = parseStackConfig(withGone(THREE_PRIMARIES, "cluster1", "cluster2", "cluster3"));
        // Their fake API servers (10.0.<i>.1) would not answer within the time.
        await requireReachableClusters(config, 100);
    });
});
