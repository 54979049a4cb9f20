import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { runWithMocks } from "./harness/mockRuntime";
import { TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

/** The triggers of each cluster's traffic check: istiod's digest per cluster, then the gateways', then the rest. */
async function triggersOf(raw: StackConfigInput): Promise<{ istiod: string[]; gateways: string[]; all: unknown[] }> {
    const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
    const checks = resources.filter((r) => r.name.endsWith("-verify"));
    assert.equal(checks.length, 2);
    const [all, ...others] = checks.map((c) => c.inputs.triggers as unknown[]);
    for (const other of others) {
        assert.deepEqual(other, all, "every cluster's check runs again on the same changes");
    }
    return { istiod: all.slice(0, 2) as string[], gateways: all.slice(2, 4) as string[], all };
}

const withIstio = (istio: StackConfigInput["istio"]): StackConfigInput => ({ ...TWO_CLUSTERS_TWO_NETWORKS, istio: { ...TWO_CLUSTERS_TWO_NETWORKS.istio, ...istio } });

describe("what runs the cross-cluster check again", () => {
    it("is, per chart, a digest of what its objects are rendered from, one per cluster", async () => {
        const { istiod, gateways } = await triggersOf(TWO_CLUSTERS_TWO_NETWORKS);
        for (const digest of [...istiod, ...gateways]) {
            assert.match(digest, /^[0-9a-f]{64}$/);
        }
        assert.equal(new Set([...istiod, ...gateways]).size, 4, "each cluster's istiod and gateway are rendered differently (cluster name, network)");
    });

    it("changes with istiod's values for istiod only, with the gateway's for the gateways only", async () => {
        const before = await triggersOf(TWO_CLUSTERS_TWO_NETWORKS);
        const istiodValues = await triggersOf(withIstio({ values: { istiod: { pilot: { env: { PILOT_TRACE_SAMPLING: "1" } } } } }));
        assert.notDeepEqual(istiodValues.istiod[0], before.istiod[0]);
        assert.notDeepEqual(istiodValues.istiod[1], before.istiod[1]);
        assert.deepEqual(istiodValues.gateways, before.gateways);
        const gatewayValues = await triggersOf(withIstio({ values: { gateway: { resources: { requests: { cpu: "200m" } } } } }));
        assert.deepEqual(gatewayValues.istiod, before.istiod);
        assert.notEqual(gatewayValues.gateways[0], before.gateways[0]);
        assert.notEqual(gatewayValues.gateways[1], before.gateways[1]);
    });

    it("changes with the charts' version and the mesh settings istiod is rendered with", async () => {
        const before = await triggersOf(TWO_CLUSTERS_TWO_NETWORKS);
        const upgraded = await triggersOf(withIstio({ version: "1.30.5" }));
        for (const [i, digest] of [...upgraded.istiod, ...upgraded.gateways].entries()) {
            assert.notEqual(digest, [...before.istiod, ...before.gateways][i]);
        }
        const otherTrustDomain = await triggersOf({ ...TWO_CLUSTERS_TWO_NETWORKS, trustDomain: "example.org" });
        assert.notDeepEqual(otherTrustDomain.istiod, before.istiod);
        assert.deepEqual(otherTrustDomain.gateways, before.gateways);
    });

    it("does not change with what is not rendered into a chart, such as the check's own settings", async () => {
        const before = await triggersOf(TWO_CLUSTERS_TWO_NETWORKS);
        const after = await triggersOf({ ...TWO_CLUSTERS_TWO_NETWORKS, verify: { requests: 50, attempts: 3 } });
        assert.deepEqual(after.all, before.all);
    });
});
