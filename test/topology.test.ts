import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterRole, impliedTopology, planMesh } from "../stacks/topology";

const primary = (name: string, network: string): ClusterRole => ({ name, network, role: "primary" });
const remote = (name: string, network: string, of: string): ClusterRole => ({ name, network, role: "remote", primary: of });
const pairs = (clusters: ClusterRole[]) => planMesh(clusters).remoteSecrets.map((p) => `${p.source}->${p.target}`);
const byName = (clusters: ClusterRole[]) => Object.fromEntries(planMesh(clusters).clusters.map((c) => [c.name, c]));

describe("the topology the clusters make", () => {
    it("is named by the number of primaries, whether any has remotes, and the networks", () => {
        assert.equal(impliedTopology([primary("a", "n1"), primary("b", "n1")]), "multi-primary");
        assert.equal(impliedTopology([primary("a", "n1"), primary("b", "n2")]), "multi-primary-multi-network");
        assert.equal(impliedTopology([primary("a", "n1"), remote("b", "n1", "a"), remote("c", "n1", "a")]), "primary-remote");
        assert.equal(impliedTopology([primary("a", "n1"), remote("b", "n2", "a")]), "primary-remote-multi-network");
        assert.equal(impliedTopology([primary("a", "n1"), remote("b", "n1", "a"), primary("c", "n1")]), "multi-primary-remote");
        assert.equal(impliedTopology([primary("a", "n1"), remote("b", "n1", "a"), primary("c", "n2")]), "multi-primary-remote-multi-network");
    });
});

describe("the remote secrets a mesh needs", () => {
    it("are every ordered pair in a multi-primary mesh", () => {
        assert.deepEqual(pairs([primary("a", "n1"), primary("b", "n1"), primary("c", "n2")]), ["a->b", "a->c", "b->a", "b->c", "c->a", "c->b"]);
    });

    it("let the primary read its remote, and no remote read anything", () => {
        assert.deepEqual(pairs([primary("a", "n1"), remote("b", "n1", "a")]), ["b->a"]);
        assert.deepEqual(pairs([primary("a", "n1"), remote("b", "n2", "a"), remote("c", "n2", "a")]), ["b->a", "c->a"]);
    });

    it("let every primary read every other cluster, including the other primaries' remotes", () => {
        assert.deepEqual(pairs([primary("a", "n1"), remote("ar", "n1", "a"), primary("b", "n1"), remote("br", "n1", "b")]), [
            "a->b",
            "ar->a",
            "ar->b",
            "b->a",
            "br->a",
            "br->b",
        ]);
    });
});

describe("what each cluster gets", () => {
    it("on one network without remotes: no gateway, no exposure", () => {
        const plan = byName([primary("a", "n1"), primary("b", "n1")]);
        for (const c of Object.values(plan)) {
            assert.deepEqual([c.role, c.controlPlane, c.eastWestGateway, c.exposesIstiod], ["primary", c.name, "none", false]);
        }
    });

    it("on several networks without remotes: every cluster exposes its services on its gateway", () => {
        const plan = byName([primary("a", "n1"), primary("b", "n1"), primary("c", "n2")]);
        assert.deepEqual(Object.values(plan).map((c) => [c.name, c.eastWestGateway, c.exposesIstiod]), [
            ["a", "network-and-services", false],
            ["b", "network-and-services", false],
            ["c", "network-and-services", false],
        ]);
    });

    it("on one network with a remote: the primary has a gateway to expose istiod on, and the remote none", () => {
        const plan = byName([primary("a", "n1"), remote("b", "n1", "a")]);
        assert.deepEqual(plan.a, { name: "a", network: "n1", role: "primary", controlPlane: "a", eastWestGateway: "network", exposesIstiod: true });
        assert.deepEqual(plan.b, { name: "b", network: "n1", role: "remote", controlPlane: "a", eastWestGateway: "none", exposesIstiod: false });
    });

    it("on several networks with remotes: every cluster has a gateway, and only the primaries expose services", () => {
        const plan = byName([primary("a", "n1"), remote("b", "n2", "a"), remote("c", "n1", "a"), primary("d", "n3")]);
        assert.deepEqual(Object.values(plan).map((c) => [c.name, c.controlPlane, c.eastWestGateway, c.exposesIstiod]), [
            ["a", "a", "network-and-services", true],
            ["b", "a", "network", false],
            ["c", "a", "network", false],
            ["d", "d", "network-and-services", false],
        ]);
    });

    it("with several primaries on one network: only those with remotes have a gateway", () => {
        const plan = byName([primary("a", "n1"), remote("ar", "n1", "a"), primary("b", "n1")]);
        assert.deepEqual(Object.values(plan).map((c) => [c.name, c.eastWestGateway, c.exposesIstiod]), [
            ["a", "network", true],
            ["ar", "none", false],
            ["b", "none", false],
        ]);
    });
});
