import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { replaceDefaultValidatorOnRevision, revisionTagFollows } from "../components/chartTransforms";
import { istiodRoutes } from "../components/istiodExposure";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { plan } from "./harness/registrations";
import { existingCluster } from "./harness/scenarios";

const CHART = "kubernetes:helm.sh/v4:Chart";
const STABLE = { name: "stable", version: "1.30.4" };
const CANARY = { name: "canary", version: "1.31.1" };
const clusters = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
const remote = { ...existingCluster("cluster3", "network3", 3), role: "remote" as const, primary: "cluster1" };

/** The canary steps of issue #20 as configs: a revision, a second beside it, the tag moved, the first dropped. */
const step = (revisions: { name: string; version: string }[], defaultRevision: string, entries: StackConfigInput["clusters"] = clusters): StackConfigInput => ({
    meshId: "mesh1",
    clusters: entries,
    istio: { upgradeStrategy: "RevisionBased", revisions, defaultRevision },
});
const ONE = step([STABLE], "stable");
const BESIDE = step([STABLE, CANARY], "stable");
const MOVED = step([STABLE, CANARY], "canary");
const DROPPED = step([CANARY], "canary");

async function registered(raw: StackConfigInput): Promise<RecordedResource[]> {
    const { config } = parseStackConfig(raw);
    return (await runWithMocks(() => deployMesh(config), fakeState)).resources;
}
const charts = (resources: RecordedResource[]) => Object.fromEntries(resources.filter((r) => r.type === CHART).map((r) => [r.name, r.inputs]));


describe("the revision-based strategy, step by step", () => {
    it("one revision: istiod-<revision> with the default tag, base's validator and the gateway on it, the test app's namespace labelled as ever", async () => {
        const resources = await registered(ONE);
        const c = charts(resources);
        assert.deepEqual(Object.keys(c).filter((n) => n.startsWith("cluster1")).sort(), ["cluster1-istio-base", "cluster1-istio-eastwestgateway", "cluster1-istiod-stable"]);
        const istiod = c["cluster1-istiod-stable"];
        assert.equal(istiod.name, "istiod-stable");
        assert.equal(istiod.version, "1.30.4");
        assert.equal(istiod.values.revision, "stable");
        assert.deepEqual(istiod.values.revisionTags, ["default"]);
        assert.equal(c["cluster1-istio-base"].values.defaultRevision, "stable");
        assert.equal(c["cluster1-istio-eastwestgateway"].values.revision, "stable");
        const sample = resources.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.name === "sample")!;
        assert.deepEqual(sample.inputs.metadata.labels, { "istio-injection": "enabled" });
    });

    it("a second revision beside: its istiod added untagged in each cluster, base's CRDs of the newest version, nothing moved", async () => {
        const c = charts(await registered(BESIDE));
        const canary = c["cluster2-istiod-canary"];
        assert.equal(canary.version, "1.31.1");
        assert.equal(canary.values.revision, "canary");
        assert.equal(canary.values.revisionTags, undefined);
        assert.deepEqual(c["cluster2-istiod-stable"].values.revisionTags, ["default"]);
        assert.equal(c["cluster2-istio-base"].version, "1.31.1");
        assert.equal(c["cluster2-istio-base"].values.defaultRevision, "stable");
        assert.equal(c["cluster2-istio-eastwestgateway"].version, "1.30.4");
        const { create, delete: deleted, update } = await plan(ONE, BESIDE);
        assert.deepEqual(create.filter((n) => n.includes("istiod")), ["cluster1-istiod-canary", "cluster2-istiod-canary"]);
        assert.deepEqual(deleted.filter((n) => !n.startsWith("cross-cluster-check")), []);
        // The CRD sets too: the newest version's CRDs, each with its own digest.
        assert.deepEqual(update.filter((n) => n.includes("istio")), ["cluster1-istio-base", "cluster1-istio-crds", "cluster2-istio-base", "cluster2-istio-crds"]);
    });

    it("the tag moved: on the new revision's chart, base's validator and the gateways with it; the old revision stays", async () => {
        const c = charts(await registered(MOVED));
        assert.equal(c["cluster1-istiod-stable"].values.revisionTags, undefined);
        assert.deepEqual(c["cluster1-istiod-canary"].values.revisionTags, ["default"]);
        assert.equal(c["cluster1-istio-base"].values.defaultRevision, "canary");
        assert.equal(c["cluster1-istio-eastwestgateway"].values.revision, "canary");
        assert.equal(c["cluster1-istio-eastwestgateway"].version, "1.31.1");
        const { create, delete: deleted, update } = await plan(BESIDE, MOVED);
        assert.deepEqual(create.filter((n) => n.includes("istio")), []);
        assert.deepEqual(deleted.filter((n) => n.includes("istio")), []);
        assert.deepEqual(
            update.filter((n) => n.includes("istio")),
            ["cluster1-istio-base", "cluster1-istio-eastwestgateway", "cluster1-istiod-canary", "cluster1-istiod-stable", "cluster2-istio-base", "cluster2-istio-eastwestgateway", "cluster2-istiod-canary", "cluster2-istiod-stable"],
        );
    });

    it("the old revision dropped: its istiod deleted in each cluster, nothing else of Istio changes", async () => {
        const { create, delete: deleted, update } = await plan(MOVED, DROPPED);
        assert.deepEqual(create.filter((n) => n.includes("istio")), []);
        assert.deepEqual(deleted.filter((n) => n.includes("istio")), ["cluster1-istiod-stable", "cluster2-istiod-stable"]);
        assert.deepEqual(update.filter((n) => n.includes("istio")), []);
    });

    it("moves the tag one cluster at a time with a primary's own defaultRevision", async () => {
        const c = charts(await registered(step([STABLE, CANARY], "stable", [{ ...clusters[0], defaultRevision: "canary" }, clusters[1]])));
        assert.deepEqual(c["cluster1-istiod-canary"].values.revisionTags, ["default"]);
        assert.deepEqual(c["cluster2-istiod-stable"].values.revisionTags, ["default"]);
    });

    it("a remote follows its primary: each revision in the remote profile, injected through its primary's exposure by revision", async () => {
        const resources = await registered(step([STABLE, CANARY], "canary", [clusters[0], remote, clusters[1]]));
        const c = charts(resources);
        for (const revision of ["stable", "canary"]) {
            const values = c[`cluster3-istiod-${revision}`].values;
            assert.equal(values.profile, "remote");
            assert.equal(values.revision, revision);
            assert.equal(values.istiodRemote.injectionPath, "/inject/cluster/cluster3/net/network3");
        }
        assert.deepEqual(c["cluster3-istiod-canary"].values.revisionTags, ["default"]);
        const vs = resources.find((r) => r.name === "cluster1-istiod-vs")!;
        assert.deepEqual(vs.inputs.spec.tls, istiodRoutes(["stable", "canary"]));
    });
});

describe("the objects that follow the default tag", () => {
    const args = (name: string, labels: Record<string, string>, type = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"): pulumi.ResourceTransformArgs => ({
        custom: true,
        type,
        name,
        props: { metadata: { name: name.split(":")[1], labels } },
        opts: {},
    });

    it("aliases the tag's objects to their names under the other revisions' charts, so a move is an update", async () => {
        const transform = revisionTagFollows("cluster1-istiod-canary", [{ name: "cluster1-istiod-stable", urn: "urn:stable" }]);
        const tag = await transform(args("cluster1-istiod-canary:istio-revision-tag-default", { "istio.io/tag": "default", "istio.io/rev": "canary" }));
        assert.deepEqual(tag?.opts.aliases, [{ name: "cluster1-istiod-stable:istio-revision-tag-default", parent: "urn:stable" }]);
        const service = await transform(args("cluster1-istiod-canary:istio-system/istiod-revision-tag-default", { "istio.io/tag": "default" }, "kubernetes:core/v1:Service"));
        assert.deepEqual(service?.opts.aliases, [{ name: "cluster1-istiod-stable:istio-system/istiod-revision-tag-default", parent: "urn:stable" }]);
        assert.equal(await transform(args("cluster1-istiod-canary:istio-sidecar-injector-canary", { "istio.io/rev": "canary" })), undefined);
    });

    it("replaces base's default validator when the default revision changes, and no other webhook", async () => {
        const validator = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration";
        const replaced = await replaceDefaultValidatorOnRevision(args("cluster1-istio-base:istiod-default-validator", {}, validator));
        assert.deepEqual(replaced?.opts.replaceOnChanges, ['metadata.labels["istio.io/rev"]']);
        assert.equal((replaced?.opts as pulumi.CustomResourceOptions | undefined)?.deleteBeforeReplace, true, "its name is fixed: created first, it would conflict with the old object");
        assert.equal(await replaceDefaultValidatorOnRevision(args("cluster1-istiod-canary:istio-validator-canary-istio-system", {}, validator)), undefined);
    });

    it("routes each revision's istiod by the name its remotes ask for; an in-place one takes every name", () => {
        assert.deepEqual(istiodRoutes([""]), [
            { match: [{ port: 15012, sniHosts: ["*"] }], route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 15012 } } }] },
            { match: [{ port: 15017, sniHosts: ["*"] }], route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 443 } } }] },
        ]);
        assert.deepEqual(istiodRoutes(["canary"])[1], {
            match: [{ port: 15017, sniHosts: ["istiod-canary.istio-system.svc"] }],
            route: [{ destination: { host: "istiod-canary.istio-system.svc.cluster.local", port: { number: 443 } } }],
        });
    });
});
