import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { registrationDigests } from "./harness/registrations";
import { problemsOf } from "./harness/configProblems";
import { existingCluster } from "./harness/scenarios";

const CHART = "kubernetes:helm.sh/v4:Chart";
const [cluster1, cluster2] = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
const remote = { ...existingCluster("cluster3", "network3", 3), role: "remote" as const, primary: "cluster1" };
const gone = { ...existingCluster("cluster4", "network4", 4), gone: true };

const mesh = (rolloutOrder?: string[], clusters: StackConfigInput["clusters"] = [cluster1, cluster2], istio: StackConfigInput["istio"] = {}): StackConfigInput => ({
    meshId: "mesh1",
    clusters,
    istio: { ...istio, ...(rolloutOrder === undefined ? {} : { rolloutOrder }) },
});

async function registered(raw: StackConfigInput): Promise<RecordedResource[]> {
    return (await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState)).resources;
}

/** For each chart of `cluster`, the charts of other clusters it waits for (by name). */
function waitsFor(resources: readonly RecordedResource[], cluster: string): Record<string, string[]> {
    const charts = resources.filter((r) => r.type === CHART);
    const nameOf = new Map(charts.map((c) => [c.urn, c.name]));
    return Object.fromEntries(
        charts
            .filter((c) => c.name.startsWith(`${cluster}-`))
            .map((c) => [c.name, c.dependencies.flatMap((d) => nameOf.get(d) ?? []).filter((n) => !n.startsWith(`${cluster}-`)).sort()]),
    );
}

const each = (names: string[], waits: string[]) => Object.fromEntries(names.map((n) => [n, waits]));

describe("istio.rolloutOrder: each cluster's Istio charts after the previous cluster's istiod and gateway", () => {
    it("cluster1 first: cluster2's base, istiod and gateway charts wait for cluster1's istiod and gateway, cluster1's for nothing", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"]));
        assert.deepEqual(waitsFor(resources, "cluster1"), each(["cluster1-istio-base", "cluster1-istiod", "cluster1-istio-eastwestgateway"], []));
        assert.deepEqual(
            waitsFor(resources, "cluster2"),
            each(["cluster2-istio-base", "cluster2-istiod", "cluster2-istio-eastwestgateway"], ["cluster1-istio-eastwestgateway", "cluster1-istiod"]),
        );
    });

    it("cluster2 first: the reverse", async () => {
        const resources = await registered(mesh(["cluster2", "cluster1"]));
        assert.deepEqual(
            waitsFor(resources, "cluster1"),
            each(["cluster1-istio-base", "cluster1-istiod", "cluster1-istio-eastwestgateway"], ["cluster2-istio-eastwestgateway", "cluster2-istiod"]),
        );
        assert.deepEqual(waitsFor(resources, "cluster2"), each(["cluster2-istio-base", "cluster2-istiod", "cluster2-istio-eastwestgateway"], []));
    });

    it("unset or empty: no chart waits for another cluster's, and an empty order registers what an unset one does", async () => {
        const resources = await registered(mesh());
        for (const cluster of ["cluster1", "cluster2"]) {
            assert.deepEqual(waitsFor(resources, cluster), each([`${cluster}-istio-base`, `${cluster}-istiod`, `${cluster}-istio-eastwestgateway`], []));
        }
        assert.deepEqual(await registrationDigests(mesh([])), await registrationDigests(mesh()));
    });

    it("with revisions: every revision's istiod is in the checkpoint, and every one of the next cluster waits", async () => {
        const istio = { upgradeStrategy: "RevisionBased" as const, revisions: [{ name: "stable", version: "1.30.4" }, { name: "canary", version: "1.31.1" }], defaultRevision: "stable" };
        const resources = await registered(mesh(["cluster1", "cluster2"], [cluster1, cluster2], istio));
        const previous = ["cluster1-istio-eastwestgateway", "cluster1-istiod-canary", "cluster1-istiod-stable"];
        assert.deepEqual(waitsFor(resources, "cluster2"), each(["cluster2-istio-base", "cluster2-istiod-stable", "cluster2-istiod-canary", "cluster2-istio-eastwestgateway"], previous));
    });

    it("a primary's remotes: their istiod in its checkpoint", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"], [cluster1, remote, cluster2]));
        const previous = ["cluster1-istio-eastwestgateway", "cluster1-istiod", "cluster3-istiod"];
        assert.deepEqual(waitsFor(resources, "cluster2"), each(["cluster2-istio-base", "cluster2-istiod", "cluster2-istio-eastwestgateway"], previous));
    });

    it("a primary's remotes: their charts wait with their primary's", async () => {
        const resources = await registered(mesh(["cluster2", "cluster1"], [cluster1, remote, cluster2]));
        const waits = waitsFor(resources, "cluster3");
        for (const chart of ["cluster3-istio-base", "cluster3-istiod", "cluster3-istio-eastwestgateway"]) {
            for (const previous of ["cluster2-istiod", "cluster2-istio-eastwestgateway"]) {
                assert.ok(waits[chart].includes(previous), `${chart} does not wait for ${previous}`);
            }
        }
    });

    it("logs the order once, remotes with their primary", async (t) => {
        const info = t.mock.method(pulumi.log, "info", () => undefined);
        await registered(mesh(["cluster2", "cluster1"], [cluster1, remote, cluster2]));
        const notes = () => info.mock.calls.map((c) => String(c.arguments[0])).filter((m) => m.startsWith("rollout order"));
        assert.deepEqual(notes(), [
            "rollout order: cluster2 → cluster1 (with cluster3); each cluster's Istio charts wait until the previous cluster's istiod and east-west gateway are ready, so when one fails, the clusters after it keep what they run; " +
                "no peer-sync check: cluster2 (cluster2, cluster1, cluster3 not read: kind, behind a proxy, or not allowed to list webhooks), cluster1 (the last in the order, which no cluster waits for); " +
                "no traffic gate: cluster2 (cluster1, cluster3, cluster2 not read: kind, behind a proxy, or not allowed to list webhooks), cluster1 (the last in the order, which no cluster waits for)",
        ]);
        info.mock.resetCalls();
        await registered(mesh());
        assert.deepEqual(notes(), []);
    });
});

const PRIMARY = "the name of a primary cluster of this mesh (cluster1, cluster2)";

const CASES: { title: string; raw: StackConfigInput; problems: string[] }[] = [
    {
        title: "a name no cluster has, so a primary is missing",
        raw: mesh(["cluster1", "cluster9"]),
        problems: [
            `istio.rolloutOrder[1]: got "cluster9"; expected ${PRIMARY}; no cluster is named "cluster9"`,
            'istio.rolloutOrder: got ["cluster1","cluster9"]; expected every primary cluster of this mesh once (cluster1, cluster2); cluster2 is missing',
        ],
    },
    {
        title: "a remote",
        raw: mesh(["cluster1", "cluster3", "cluster2"], [cluster1, remote, cluster2]),
        problems: [`istio.rolloutOrder[1]: got "cluster3"; expected ${PRIMARY}; clusters[1] is a remote, which goes with its primary cluster1`],
    },
    {
        title: "a cluster that is gone",
        raw: mesh(["cluster1", "cluster2", "cluster4"], [cluster1, cluster2, gone]),
        problems: [`istio.rolloutOrder[2]: got "cluster4"; expected ${PRIMARY}; clusters[2] is gone`],
    },
    {
        title: "a primary missing",
        raw: mesh(["cluster2"]),
        problems: ['istio.rolloutOrder: got ["cluster2"]; expected every primary cluster of this mesh once (cluster1, cluster2); cluster1 is missing'],
    },
    {
        title: "a primary twice",
        raw: mesh(["cluster1", "cluster2", "cluster1"]),
        problems: ['istio.rolloutOrder[2]: got "cluster1"; expected a cluster not listed before (istio.rolloutOrder[0] is already "cluster1")'],
    },
    {
        title: "not a list of names",
        raw: { ...mesh(), istio: { rolloutOrder: "cluster1,cluster2" as unknown as string[] } },
        problems: ['istio.rolloutOrder: got "cluster1,cluster2"; expected a list of the names of the primary clusters'],
    },
    {
        title: "without waiting for readiness",
        raw: { ...mesh(["cluster1", "cluster2"]), workloads: { awaitReady: false } },
        problems: [
            'istio.rolloutOrder: got ["cluster1","cluster2"]; expected no value while workloads.awaitReady is false: Pulumi would not wait for any cluster\'s istiod or east-west gateway to be ready, so the next cluster would wait for nothing (set workloads.awaitReady: true, or remove istio.rolloutOrder)',
        ],
    },
];

describe("istio.rolloutOrder is refused, naming the key, the value and what is allowed", () => {
    for (const { title, raw, problems } of CASES) {
        it(title, () => assert.deepEqual(problemsOf(raw), problems));
    }

    it("is accepted empty without waiting for readiness: no order, nothing to wait for", () => {
        assert.deepEqual(problemsOf({ ...mesh([]), workloads: { awaitReady: false } }), []);
    });
});
