import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { minorsApart, SUPPORT_POLICY } from "../stacks/config/supportPolicy";
import { localChartsDir } from "./harness/localCharts";
import { problemsOf } from "./harness/configProblems";
import { existingCluster } from "./harness/scenarios";

const clusters = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
const remote = { ...existingCluster("cluster3", "network3", 3), role: "remote" as const, primary: "cluster1" };
const revisionBased = (revisions: { name: string; version: string }[], defaultRevision?: string) => ({
    upgradeStrategy: "RevisionBased" as const,
    revisions,
    ...(defaultRevision === undefined ? {} : { defaultRevision }),
});
const STABLE = { name: "stable", version: "1.30.4" };
const CANARY = { name: "canary", version: "1.31.1" };
const CHARTS = localChartsDir("1.31.1");

const CASES: { title: string; raw: StackConfigInput; problems: string[] }[] = [
    {
        title: "revisions with the in-place strategy",
        raw: { meshId: "mesh1", clusters, istio: { revisions: [STABLE], defaultRevision: "stable" } },
        problems: [
            'istio.revisions: got [{"name":"stable","version":"1.30.4"}]; expected no value with upgradeStrategy "InPlace" (revisions are for "RevisionBased")',
            'istio.defaultRevision: got "stable"; expected no value with upgradeStrategy "InPlace" (revisions are for "RevisionBased")',
        ],
    },
    {
        title: "a version with the revision-based strategy, and no revisions",
        raw: { meshId: "mesh1", clusters, istio: { version: "1.30.4", upgradeStrategy: "RevisionBased" } },
        problems: [
            'istio.version: got "1.30.4"; expected no value with upgradeStrategy "RevisionBased": each of istio.revisions names its version (to keep the unnamed istiod of an InPlace install while migrating, move its version to istio.inPlaceVersion)',
            'istio.revisions: missing; expected a list of at least one revision, each with name and version, with upgradeStrategy "RevisionBased"',
        ],
    },
    {
        title: "a revision named default",
        raw: { meshId: "mesh1", clusters, istio: revisionBased([{ name: "default", version: "1.30.4" }]) },
        problems: [
            'istio.revisions[0].name: got "default"; expected a DNS-1123 label (lowercase letters, digits and \'-\', 1-63 characters, starting and ending with a letter or digit), not "default" (the name of the revision tag)',
        ],
    },
    {
        title: "a revision listed twice, and a default revision that is not listed",
        raw: { meshId: "mesh1", clusters, istio: revisionBased([STABLE, STABLE], "canary") },
        problems: [
            'istio.revisions[1].name: got "stable"; expected a name not used by another revision (istio.revisions[0] is already named "stable")',
            'istio.defaultRevision: got "canary"; expected the name of one of istio.revisions (stable, stable), which the revision tag default points to',
        ],
    },
    {
        title: "a revision whose version is not the local charts'",
        raw: { meshId: "mesh1", clusters, istio: { ...revisionBased([STABLE, CANARY], "stable"), chartRepo: CHARTS } },
        problems: [
            `istio.revisions[0].version: got "1.30.4"; expected "1.31.1", the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(CHARTS)}): Helm installs a local chart as it is, whatever version is asked for`,
        ],
    },
    {
        title: "a cluster's own version or default revision on a remote, or with the other strategy",
        raw: {
            meshId: "mesh1",
            clusters: [{ ...clusters[0], defaultRevision: "stable" }, { ...clusters[1], istioVersion: "1.31.1" }, { ...remote, istioVersion: "1.31.1" }],
            istio: { version: "1.30.4" },
        },
        problems: [
            'clusters[0].defaultRevision: got "stable"; expected no value with istio.upgradeStrategy "InPlace" (it is for "RevisionBased")',
            'clusters[2].istioVersion: got "1.31.1"; expected no value on a remote: it runs what its primary cluster1 runs',
        ],
    },
    {
        title: "a cluster's default revision that is not a revision",
        raw: { meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], defaultRevision: "canary" }], istio: revisionBased([STABLE], "stable") },
        problems: ['clusters[1].defaultRevision: got "canary"; expected the name of one of istio.revisions (stable)'],
    },
    {
        title: "a cluster's own version that is not the local charts'",
        raw: { meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], istioVersion: "1.31.2" }], istio: { version: "1.31.1", chartRepo: CHARTS } },
        problems: [
            `clusters[1].istioVersion: got "1.31.2"; expected "1.31.1", the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(CHARTS)}): Helm installs a local chart as it is, whatever version is asked for`,
        ],
    },
    {
        title: "clusters two minor versions apart, in place: named, with their versions, remotes and the policy",
        raw: { meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], istioVersion: "1.32.0" }, remote], istio: { version: "1.30.4" } },
        problems: [
            `clusters[1].istioVersion: got "1.32.0"; expected a version within one minor version of 1.30.4 (istio.version: cluster1, cluster3), since cluster2 would run it: ${SUPPORT_POLICY}`,
        ],
    },
    {
        title: "revisions two minor versions apart",
        raw: { meshId: "mesh1", clusters, istio: revisionBased([STABLE, { name: "next", version: "1.32.0" }], "stable") },
        problems: [
            `istio.revisions[1].version: got "1.32.0"; expected a version within one minor version of 1.30.4 (istio.revisions[0].version: cluster1, cluster2), since cluster1, cluster2 would run it: ${SUPPORT_POLICY}`,
        ],
    },
    {
        title: "a major version apart",
        raw: { meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], istioVersion: "2.0.0" }], istio: { version: "1.31.1" } },
        problems: [
            `clusters[1].istioVersion: got "2.0.0"; expected a version within one minor version of 1.31.1 (istio.version: cluster1), since cluster2 would run it: ${SUPPORT_POLICY}`,
        ],
    },
];

describe("upgrade strategies and the support policy in the config", () => {
    for (const c of CASES) {
        it(`refuses ${c.title}`, () => assert.deepEqual(problemsOf(c.raw), c.problems));
    }

    it("accepts clusters one minor version apart, and revisions one minor version apart", () => {
        assert.deepEqual(problemsOf({ meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], istioVersion: "1.31.1" }, remote], istio: { version: "1.30.4" } }), []);
        assert.deepEqual(problemsOf({ meshId: "mesh1", clusters: [{ ...clusters[0], defaultRevision: "canary" }, clusters[1]], istio: revisionBased([STABLE, CANARY], "stable") }), []);
    });

    it("gives each cluster its revisions: a remote its primary's, a primary its own version or default revision", () => {
        const inPlace = parseStackConfig({ meshId: "mesh1", clusters: [clusters[0], { ...clusters[1], istioVersion: "1.31.1" }, remote], istio: { version: "1.30.4" } });
        assert.deepEqual(
            inPlace.config.clusters.map((c) => [c.name, c.istio]),
            [
                ["cluster1", { revisions: [{ name: "", version: "1.30.4" }], defaultRevision: "" }],
                ["cluster2", { revisions: [{ name: "", version: "1.31.1" }], defaultRevision: "" }],
                ["cluster3", { revisions: [{ name: "", version: "1.30.4" }], defaultRevision: "" }],
            ],
        );
        const canary = parseStackConfig({ meshId: "mesh1", clusters: [{ ...clusters[0], defaultRevision: "canary" }, clusters[1], remote], istio: revisionBased([STABLE, CANARY], "stable") });
        assert.deepEqual(
            canary.config.clusters.map((c) => [c.name, c.istio.defaultRevision]),
            [["cluster1", "canary"], ["cluster2", "stable"], ["cluster3", "canary"]],
        );
        assert.ok(canary.config.clusters.every((c) => c.istio.revisions.length === 2));
    });

    it("counts minor versions apart, and major versions as too far", () => {
        assert.equal(minorsApart("1.30.4", "1.31.0"), 1);
        assert.equal(minorsApart("1.31.0", "1.29.9"), 2);
        assert.equal(minorsApart("1.31.0-beta.1", "1.31.2"), 0);
        assert.equal(minorsApart("1.31.0", "2.31.0"), Infinity);
    });
});
