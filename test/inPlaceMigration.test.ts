import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { istiodRoutes } from "../components/istiodExposure";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { revisionsOf, skippedMinorProblems, tagBeforeRevisionProblems, unnamedDroppedProblems } from "../stacks/installedRevisions";
import { deployMesh } from "../stacks/mesh";
import { problemsOf } from "./harness/configProblems";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { plan } from "./harness/registrations";
import { existingCluster } from "./harness/scenarios";

const CHART = "kubernetes:helm.sh/v4:Chart";
const CANARY = { name: "canary", version: "1.31.1" };
const clusters = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
const remote = { ...existingCluster("cluster3", "network3", 3), role: "remote" as const, primary: "cluster1" };

/** The migration's steps as configs: in place; a revision beside the unnamed istiod; the tag on it; the unnamed istiod dropped. */
const IN_PLACE: StackConfigInput = { meshId: "mesh1", clusters, istio: { version: "1.30.4" } };
const migrating = (defaultRevision?: string, entries: StackConfigInput["clusters"] = clusters): StackConfigInput => ({
    meshId: "mesh1",
    clusters: entries,
    istio: { upgradeStrategy: "RevisionBased", inPlaceVersion: "1.30.4", revisions: [CANARY], ...(defaultRevision === undefined ? {} : { defaultRevision }) },
});
const BESIDE = migrating();
const MOVED = migrating("canary");
const DROPPED: StackConfigInput = { meshId: "mesh1", clusters, istio: { upgradeStrategy: "RevisionBased", revisions: [CANARY], defaultRevision: "canary" } };

async function registered(raw: StackConfigInput): Promise<RecordedResource[]> {
    const { config } = parseStackConfig(raw);
    return (await runWithMocks(() => deployMesh(config), fakeState)).resources;
}
const charts = (resources: RecordedResource[]) => Object.fromEntries(resources.filter((r) => r.type === CHART).map((r) => [r.name, r.inputs]));

const istioOnly = (names: string[]) => names.filter((n) => n.includes("istio"));

describe("from InPlace to RevisionBased: the config", () => {
    it("takes istio.inPlaceVersion with RevisionBased, with or without defaultRevision", () => {
        assert.deepEqual(problemsOf(BESIDE), []);
        assert.deepEqual(problemsOf(MOVED), []);
        assert.deepEqual(problemsOf(migrating(undefined, [{ ...clusters[0], defaultRevision: "canary" }, clusters[1]])), []);
    });

    it("refuses istio.inPlaceVersion with InPlace, naming the key, the value and what is allowed", () => {
        assert.deepEqual(problemsOf({ meshId: "mesh1", clusters, istio: { version: "1.30.4", inPlaceVersion: "1.30.4" } }), [
            'istio.inPlaceVersion: got "1.30.4"; expected no value with upgradeStrategy "InPlace" (it keeps the unnamed istiod while migrating to "RevisionBased"; in place, istio.version is its version)',
        ]);
    });

    it("refuses a version that is no version, and istio.version kept with RevisionBased pointing to istio.inPlaceVersion", () => {
        assert.deepEqual(problemsOf({ ...BESIDE, istio: { ...(BESIDE.istio as object), inPlaceVersion: "1.30" } }), [
            'istio.inPlaceVersion: got "1.30"; expected a chart version like "1.30.4" (MAJOR.MINOR.PATCH)',
        ]);
        assert.deepEqual(problemsOf({ meshId: "mesh1", clusters, istio: { upgradeStrategy: "RevisionBased", version: "1.30.4", revisions: [CANARY] } }), [
            'istio.version: got "1.30.4"; expected no value with upgradeStrategy "RevisionBased": each of istio.revisions names its version (to keep the unnamed istiod of an InPlace install while migrating, move its version to istio.inPlaceVersion)',
            'istio.defaultRevision: missing; expected the name of one of istio.revisions (canary), which the revision tag default points to',
        ]);
    });

    it("still requires defaultRevision without istio.inPlaceVersion, and one of the revisions with it", () => {
        assert.deepEqual(problemsOf(migrating("stable")), [
            'istio.defaultRevision: got "stable"; expected the name of one of istio.revisions (canary), which the revision tag default points to (or no value, while the unnamed istiod of istio.inPlaceVersion still injects)',
        ]);
    });

    it("holds istio.inPlaceVersion to the support policy with the revisions", () => {
        const problems = problemsOf({ ...BESIDE, istio: { ...(BESIDE.istio as object), inPlaceVersion: "1.29.2" } });
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^istio\.revisions\[0\]\.version: got "1\.31\.1"; expected a version within one minor version of 1\.29\.2 \(istio\.inPlaceVersion: cluster1, cluster2\)/);
    });
});

describe("from InPlace to RevisionBased: step by step", () => {
    it("1. the revision beside: the unnamed istiod unchanged and still injecting, the revision untagged, base at the newest version; nothing deleted", async () => {
        const c = charts(await registered(BESIDE));
        const before = charts(await registered(IN_PLACE));
        assert.deepEqual(c["cluster1-istiod"], before["cluster1-istiod"]);
        assert.equal(c["cluster1-istiod"].values.global.operatorManageWebhooks, undefined);
        assert.equal(c["cluster1-istiod-canary"].values.revision, "canary");
        assert.equal(c["cluster1-istiod-canary"].values.revisionTags, undefined);
        assert.equal(c["cluster1-istio-base"].version, "1.31.1");
        assert.equal(c["cluster1-istio-base"].values.defaultRevision, "default");
        assert.equal(c["cluster1-istio-eastwestgateway"].version, "1.30.4");
        assert.equal(c["cluster1-istio-eastwestgateway"].values.revision, undefined);
        const { create, delete: deleted, update } = await plan(IN_PLACE, BESIDE);
        assert.deepEqual(istioOnly(create), ["cluster1-istiod-canary", "cluster2-istiod-canary"]);
        assert.deepEqual(deleted.filter((n) => !n.startsWith("cross-cluster-check")), []);
        assert.deepEqual(istioOnly(update), ["cluster1-istio-base", "cluster1-istio-crds", "cluster2-istio-base", "cluster2-istio-crds"]);
    });

    it("2. the tag on the revision: the unnamed istiod's chart renders its injector no more; base's validator and the gateways follow the tag; nothing created or deleted", async () => {
        const c = charts(await registered(MOVED));
        assert.equal(c["cluster1-istiod"].values.global.operatorManageWebhooks, true);
        assert.equal(c["cluster1-istiod"].values.revision, undefined);
        assert.deepEqual(c["cluster1-istiod-canary"].values.revisionTags, ["default"]);
        assert.equal(c["cluster1-istio-base"].values.defaultRevision, "canary");
        assert.equal(c["cluster1-istio-eastwestgateway"].values.revision, "canary");
        assert.equal(c["cluster1-istio-eastwestgateway"].version, "1.31.1");
        const { create, delete: deleted, update } = await plan(BESIDE, MOVED);
        assert.deepEqual(istioOnly(create), []);
        assert.deepEqual(deleted.filter((n) => !n.startsWith("cross-cluster-check")), []);
        for (const cluster of ["cluster1", "cluster2"]) {
            for (const chart of ["istiod", "istiod-canary", "istio-base", "istio-eastwestgateway"]) {
                assert.ok(update.includes(`${cluster}-${chart}`), `${cluster}-${chart} updated: ${update.join(" ")}`);
            }
        }
        // The rollback is this step backwards: the same charts, the same values as before it.
        assert.deepEqual(charts(await registered(migrating())), charts(await registered(BESIDE)));
    });

    it("the tag moved one cluster at a time with a primary's own defaultRevision", async () => {
        const c = charts(await registered(migrating(undefined, [{ ...clusters[0], defaultRevision: "canary" }, clusters[1]])));
        assert.equal(c["cluster1-istiod"].values.global.operatorManageWebhooks, true);
        assert.deepEqual(c["cluster1-istiod-canary"].values.revisionTags, ["default"]);
        assert.equal(c["cluster2-istiod"].values.global.operatorManageWebhooks, undefined);
        assert.equal(c["cluster2-istiod-canary"].values.revisionTags, undefined);
    });

    it("3. the unnamed istiod dropped: its chart deleted in each cluster, nothing else of Istio changes", async () => {
        const { create, delete: deleted, update } = await plan(MOVED, DROPPED);
        assert.deepEqual(istioOnly(create), []);
        assert.deepEqual(istioOnly(deleted), ["cluster1-istiod", "cluster2-istiod"]);
        assert.deepEqual(istioOnly(update), []);
    });

    it("a stack that does not opt in registers what it did: InPlace unchanged, RevisionBased unchanged", async () => {
        const c = charts(await registered(IN_PLACE));
        assert.deepEqual(c["cluster1-istiod"].values.revision, undefined);
        assert.equal(c["cluster1-istiod"].values.global.operatorManageWebhooks, undefined);
        assert.deepEqual(Object.keys(c).filter((n) => n.startsWith("cluster1")).sort(), ["cluster1-istio-base", "cluster1-istio-eastwestgateway", "cluster1-istiod"]);
    });

    it("a remote follows its primary; its primary's exposure routes the named revision before the unnamed istiod's catch-all", async () => {
        const resources = await registered(migrating("canary", [clusters[0], remote, clusters[1]]));
        const c = charts(resources);
        assert.equal(c["cluster3-istiod"].values.profile, "remote");
        assert.equal(c["cluster3-istiod"].values.global.operatorManageWebhooks, true);
        assert.deepEqual(c["cluster3-istiod-canary"].values.revisionTags, ["default"]);
        const tls: any[] = resources.find((r) => r.name === "cluster1-istiod-vs")!.inputs.spec.tls;
        assert.deepEqual(tls[0].match[0].sniHosts, ["istiod-canary.istio-system.svc"]);
        assert.deepEqual(tls[tls.length - 1].match[0].sniHosts, ["*"]);
        assert.deepEqual(istiodRoutes(["", "canary"]), istiodRoutes(["canary", ""]));
        assert.deepEqual(tls, istiodRoutes(["canary", ""]));
    });
});

describe("from InPlace to RevisionBased: against what the clusters run", () => {
    const webhook = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels } });
    const UNNAMED = webhook("istio-sidecar-injector", { "istio.io/rev": "default", "helm.sh/chart": "istiod-1.30.4" });
    const REVISION = webhook("istio-sidecar-injector-canary", { "istio.io/rev": "canary", "helm.sh/chart": "istiod-1.31.1" });
    const configOf = (raw: StackConfigInput) => parseStackConfig(raw).config;

    it("refuses to drop the unnamed istiod while its injector still injects: the key, the cluster, the version, the webhook", () => {
        const installed = { cluster1: revisionsOf([UNNAMED]), cluster2: revisionsOf([UNNAMED, REVISION]) };
        const problems = unnamedDroppedProblems(configOf(DROPPED), installed);
        assert.deepEqual(
            problems.map((p) => p.split(": a stack")[0]),
            [
                'istio.inPlaceVersion: missing; expected "1.30.4", the version of the unnamed istiod cluster1 runs now (webhook istio-sidecar-injector still injects namespaces labelled istio-injection: enabled)',
                'istio.inPlaceVersion: missing; expected "1.30.4", the version of the unnamed istiod cluster2 runs now (webhook istio-sidecar-injector still injects namespaces labelled istio-injection: enabled)',
            ],
        );
        assert.match(problems[0], /until istio\.defaultRevision has moved the tag default .* to a revision, and drops it in an up after that/);
    });

    it("lets each step pass: the revision beside, the tag moved, the unnamed istiod dropped once its injector is gone, and any stack that does not migrate", () => {
        const before = { cluster1: revisionsOf([UNNAMED]), cluster2: revisionsOf([UNNAMED]) };
        assert.deepEqual(unnamedDroppedProblems(configOf(BESIDE), before), []);
        assert.deepEqual(unnamedDroppedProblems(configOf(MOVED), { cluster1: revisionsOf([UNNAMED, REVISION]) }), []);
        // After step 2 the unnamed istiod's injector is gone, so the clusters show the revision only.
        assert.deepEqual(unnamedDroppedProblems(configOf(DROPPED), { cluster1: revisionsOf([REVISION]), cluster2: revisionsOf([REVISION]) }), []);
        assert.deepEqual(unnamedDroppedProblems(configOf(IN_PLACE), before), []);
        // A cluster that was not read (kind, behind a proxy) is not checked.
        assert.deepEqual(unnamedDroppedProblems(configOf(DROPPED), {}), []);
    });

    it("refuses to move the tag to a revision a cluster does not run yet while its unnamed istiod injects: steps 1 and 2 in one up", () => {
        const unnamedOnly = { cluster1: revisionsOf([UNNAMED]), cluster2: revisionsOf([UNNAMED]) };
        assert.deepEqual(
            tagBeforeRevisionProblems(configOf(MOVED), unnamedOnly).map((p) => p.split(": install")[0]),
            ["cluster1", "cluster2"].map(
                (c) => `istio.defaultRevision: got "canary"; expected no value until revision canary runs in ${c} beside its unnamed istiod (webhook istio-sidecar-injector)`,
            ),
        );
        // A primary's own defaultRevision is named as its key.
        const own = configOf(migrating(undefined, [clusters[0], { ...clusters[1], defaultRevision: "canary" }]));
        assert.deepEqual(
            tagBeforeRevisionProblems(own, unnamedOnly).map((p) => p.split(";")[0]),
            ['clusters[1].defaultRevision: got "canary"'],
        );
        // Once the revision runs, after step 1; the rollback and forward again; a cluster not read; stacks that do not migrate.
        const beside = { cluster1: revisionsOf([UNNAMED, REVISION]), cluster2: revisionsOf([UNNAMED, REVISION]) };
        assert.deepEqual(tagBeforeRevisionProblems(configOf(MOVED), beside), []);
        assert.deepEqual(tagBeforeRevisionProblems(configOf(MOVED), { cluster1: revisionsOf([REVISION]), cluster2: revisionsOf([REVISION]) }), []);
        assert.deepEqual(tagBeforeRevisionProblems(configOf(MOVED), {}), []);
        assert.deepEqual(tagBeforeRevisionProblems(configOf(BESIDE), unnamedOnly), []);
        assert.deepEqual(tagBeforeRevisionProblems(configOf(DROPPED), unnamedOnly), []);
        assert.deepEqual(tagBeforeRevisionProblems(configOf(IN_PLACE), unnamedOnly), []);
    });

    it("names istio.inPlaceVersion when the unnamed istiod would skip a minor version", () => {
        const config = configOf({ ...BESIDE, istio: { ...(BESIDE.istio as object), inPlaceVersion: "1.31.0" } });
        const problems = skippedMinorProblems(config, { cluster1: revisionsOf([webhook("istio-sidecar-injector", { "istio.io/rev": "default", "helm.sh/chart": "istiod-1.29.0" })]) });
        assert.ok(problems.some((p) => p.startsWith('istio.inPlaceVersion: got "1.31.0"; expected a version within one minor version of 1.29.0, which cluster1 runs now (in place')), problems.join("\n"));
    });
});
