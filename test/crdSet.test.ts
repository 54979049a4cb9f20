import assert from "node:assert/strict";
import * as net from "node:net";
import * as zlib from "node:zlib";
import { describe, it } from "node:test";
import { crdDigest, packCrds } from "../components/crdSet";
import { CHANGED_IN_CLUSTER, crdSetProvider, CrdSetOutputs } from "../components/crdSetProvider";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { retainBaseChartCrds } from "../scripts/take-over-crds";
import { fakeState } from "./harness/fakeCluster";
import { FAKE_BASE_CRDS, fakeHelmTemplate, HELM_TEMPLATE } from "./harness/fakeHelmTemplate";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { PRIMARY_TWO_REMOTES_TWO_NETWORKS, TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

const CHART = "kubernetes:helm.sh/v4:Chart";
const CRD_SET = "pulumi-nodejs:dynamic:Resource";

async function registered(raw: StackConfigInput): Promise<RecordedResource[]> {
    return (await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState)).resources;
}
const byName = (resources: RecordedResource[], name: string) => resources.find((r) => r.name === name)!;

describe("Istio's CRDs as one resource per cluster", () => {
    it("every cluster, primary or remote, has one set with the base chart's CRDs, and no CRD is a resource of its own", async () => {
        const resources = await registered(PRIMARY_TWO_REMOTES_TWO_NETWORKS);
        const sets = resources.filter((r) => r.type === CRD_SET);
        assert.deepEqual(sets.map((s) => s.name).sort(), ["hub-istio-crds", "spoke1-istio-crds", "spoke2-istio-crds"]);
        assert.deepEqual(resources.filter((r) => r.type.endsWith(":CustomResourceDefinition")), []);
        for (const set of sets) {
            assert.deepEqual(Object.keys(set.inputs.digests).sort(), FAKE_BASE_CRDS, set.name);
            assert.ok(set.secretInputs.has("kubeconfig"), `${set.name}: the admin kubeconfig is a secret`);
            assert.ok(set.secretInputs.has("manifests"), `${set.name}: shown as [secret] in a diff, not as a long string`);
            assert.ok(!set.secretInputs.has("digests"), `${set.name}: the digests show in a diff`);
            assert.deepEqual([set.inputs.keep, set.inputs.gone], [false, false]);
            // Not the default provider of dynamic resources, which takes the whole stack config as its inputs.
            const provider = resources.find((r) => set.provider?.startsWith(`${r.urn}::`))!;
            assert.equal(provider.type, "pulumi:providers:pulumi-nodejs");
            assert.deepEqual(Object.keys(provider.inputs).filter((k) => !k.startsWith("__")), []);
        }
        // One provider, so one Node.js process, for every cluster's set.
        assert.equal(new Set(sets.map((s) => s.provider)).size, 1);
        assert.equal(resources.filter((r) => r.type === "pulumi:providers:pulumi-nodejs").length, 1);
    });

    it("holds the chart's CRDs as rendered, compressed, each digest from its manifest (labels with the chart's version and release)", async () => {
        const set = byName(await registered(TWO_CLUSTERS_TWO_NETWORKS), "cluster1-istio-crds");
        const crds: any[] = JSON.parse(zlib.gunzipSync(Buffer.from(set.inputs.manifests, "base64")).toString("utf8"));
        assert.deepEqual(crds.map((c) => c.kind), ["CustomResourceDefinition", "CustomResourceDefinition"], "the chart's other objects are not in it");
        assert.equal(crds[0].metadata.labels["app.kubernetes.io/instance"], "cluster1-istio-base", "rendered under the base Chart's release name");
        assert.deepEqual(set.inputs.digests, Object.fromEntries(crds.map((c) => [c.metadata.name, crdDigest(c)])));
    });

    it("renders the base chart once for clusters with the same chart and values, each cluster's copy labelled with its own release", async () => {
        const { resources, calls } = await runWithMocks(() => deployMesh(parseStackConfig(TWO_CLUSTERS_TWO_NETWORKS).config), fakeState);
        assert.deepEqual(calls.filter((c) => c.token === HELM_TEMPLATE).map((c) => JSON.parse(c.inputs.jsonOpts as string).release_name), ["cluster1-istio-base"]);
        const set = byName(resources, "cluster2-istio-crds");
        const crds: any[] = JSON.parse(zlib.gunzipSync(Buffer.from(set.inputs.manifests, "base64")).toString("utf8"));
        const ownRendering = fakeHelmTemplate({ jsonOpts: JSON.stringify({ ...JSON.parse(calls[0].inputs.jsonOpts as string), release_name: "cluster2-istio-base" }) });
        assert.deepEqual(crds, ownRendering.result.filter((o: any) => o.kind === "CustomResourceDefinition"), "what its own rendering gives");
    });

    it("renders it again where the values differ: a primary's and its remotes' base values are not the same", async () => {
        const { calls } = await runWithMocks(() => deployMesh(parseStackConfig(PRIMARY_TWO_REMOTES_TWO_NETWORKS).config), fakeState);
        assert.deepEqual(calls.filter((c) => c.token === HELM_TEMPLATE).map((c) => JSON.parse(c.inputs.jsonOpts as string).release_name).sort(), ["hub-istio-base", "spoke1-istio-base"]);
    });

    it("the base chart renders everything but those CRDs, after the set, and istiod waits for the set too", async () => {
        const resources = await registered(TWO_CLUSTERS_TWO_NETWORKS);
        const set = byName(resources, "cluster1-istio-crds");
        const base = byName(resources, "cluster1-istio-base");
        assert.equal(base.type, CHART);
        assert.deepEqual(base.inputs.values.base.excludedCRDs, FAKE_BASE_CRDS);
        assert.ok(base.dependencies.includes(set.urn));
        assert.ok(byName(resources, "cluster1-istiod").dependencies.includes(set.urn));
    });

    it("keeps the CRDs the user's base values exclude out of the set, and excluded from the chart", async () => {
        const [first] = FAKE_BASE_CRDS;
        const resources = await registered({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { values: { base: { base: { excludedCRDs: [first] } } } } });
        assert.deepEqual(Object.keys(byName(resources, "cluster1-istio-crds").inputs.digests), FAKE_BASE_CRDS.slice(1));
        assert.deepEqual(byName(resources, "cluster1-istio-base").inputs.values.base.excludedCRDs, FAKE_BASE_CRDS);
    });

    it("istio.keepCrds reaches the set", async () => {
        const set = byName(await registered({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { keepCrds: true } }), "cluster2-istio-crds");
        assert.equal(set.inputs.keep, true);
    });

    it("another chart version changes every digest, which is what the preview shows", async () => {
        const older = byName(await registered({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { version: "1.30.4" } }), "cluster1-istio-crds");
        const newer = byName(await registered({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { version: "1.31.1" } }), "cluster1-istio-crds");
        for (const name of FAKE_BASE_CRDS) {
            assert.notEqual(older.inputs.digests[name], newer.inputs.digests[name], name);
        }
    });
});

describe("the CRD set's provider, without a cluster", () => {
    const outputs = (digests: Record<string, string>, more: Partial<CrdSetOutputs> = {}): CrdSetOutputs => ({
        cluster: "cluster1",
        kubeconfig: "kubeconfig",
        manifests: packCrds([]),
        digests,
        keep: false,
        gone: false,
        generations: {},
        ...more,
    });

    it("plans an update, never a replacement, for a changed, missing or extra CRD, and nothing when all match", async () => {
        const current = { a: "1", b: "2" };
        const changed: Record<string, string>[] = [{ a: "1", b: "3" }, { a: "1" }, { a: "1", b: "2", c: "3" }, { a: "1", b: CHANGED_IN_CLUSTER }];
        for (const olds of changed) {
            const diff = await crdSetProvider.diff!("cluster1/istio-crds", outputs(olds), outputs(current));
            assert.deepEqual([diff.changes, diff.replaces], [true, []], JSON.stringify(olds));
        }
        assert.equal((await crdSetProvider.diff!("cluster1/istio-crds", outputs(current), outputs(current))).changes, false);
    });

    it("fails to delete from a cluster it cannot reach, naming the cluster and why (a transient outage loses nothing)", async () => {
        const closed = await new Promise<number>((resolve) => {
            const server = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = server.address() as net.AddressInfo;
                server.close(() => resolve(port));
            });
        });
        const kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${closed}"}}]`,
            "contexts: [{name: c, context: {cluster: c, user: u}}]",
            "current-context: c",
            "users: [{name: u, user: {token: t}}]",
        ].join("\n");
        await assert.rejects(crdSetProvider.delete!("cluster1/istio-crds", outputs({ a: "1" }, { kubeconfig })), /^Error: cluster cluster1: the cluster is unreachable: /);
    });

    it("refreshes a cluster that is gone into inputs with no key left undefined (the provider host sends only values)", async () => {
        const read = await crdSetProvider.read!("cluster1/istio-crds", outputs({ a: "1" }, { gone: true }));
        assert.deepEqual(Object.entries(read.inputs!).filter(([, value]) => value === undefined), []);
        assert.equal("generations" in read.inputs!, false);
    });

    it("lets go of a cluster that is gone, or of CRDs it keeps, without reaching it", async () => {
        // An unreachable kubeconfig: any request would fail.
        await crdSetProvider.delete!("cluster1/istio-crds", outputs({ a: "1" }, { gone: true, kubeconfig: "not: a kubeconfig" }));
        await crdSetProvider.delete!("cluster1/istio-crds", outputs({ a: "1" }, { keep: true, kubeconfig: "not: a kubeconfig" }));
        const updated = await crdSetProvider.update!("cluster1/istio-crds", outputs({ a: "1" }), { ...outputs({}, { gone: true, kubeconfig: "not: a kubeconfig" }) });
        assert.equal(updated.outs!.gone, true);
    });
});

describe("npm run take-over-crds", () => {
    const urn = (type: string, name: string) => `urn:pulumi:dev::istio-multicluster::${type}::${name}`;
    const base = urn(`istio-multicluster:istio:ControlPlane$${CHART}`, "cluster1-istio-base");
    const crdType = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

    it("marks retainOnDelete every CRD the base chart rendered, and nothing else", () => {
        const state = {
            deployment: {
                resources: [
                    { urn: base, type: CHART },
                    { urn: urn(`${CHART}$${crdType}`, "gateways.networking.istio.io"), type: crdType, parent: base },
                    { urn: urn(`${CHART}$kubernetes:core/v1:ServiceAccount`, "istio-system/istio-reader-service-account"), type: "kubernetes:core/v1:ServiceAccount", parent: base },
                    { urn: urn(crdType, "widgets.example.com"), type: crdType },
                ] as { urn: string; type: string; parent?: string; retainOnDelete?: boolean }[],
            },
        };
        assert.deepEqual(retainBaseChartCrds(state), [state.deployment.resources[1].urn]);
        assert.deepEqual(state.deployment.resources.map((r) => r.retainOnDelete === true), [false, true, false, false]);
    });
});
