import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { deployMesh } from "../stacks/mesh";
import { parseStackConfig, StackConfig } from "../stacks/config";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import {
    PRIMARY_REMOTE_ONE_NETWORK,
    SIX_CLUSTERS_MIXED,
    THREE_CLUSTERS_TWO_NETWORKS,
    TWO_CLUSTERS_ONE_NETWORK,
    TWO_CLUSTERS_TWO_NETWORKS,
} from "./harness/scenarios";

/** `east` already has istio-system (its platform team's), as its config entry says; `west` is fresh. */
function eastHasIstioSystem(): StackConfig {
    const [east, west] = TWO_CLUSTERS_ONE_NETWORK.clusters;
    return parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, clusters: [{ ...east, existingIstioNamespace: true }, west] }).config;
}

const named = (resources: RecordedResource[], name: string) => resources.filter((r) => r.name === name);

describe("a cluster whose istio-system already exists", () => {
    let resources: RecordedResource[];
    before(async () => {
        resources = (await runWithMocks(() => deployMesh(eastHasIstioSystem()), fakeState)).resources;
    });

    it("has istio-system labelled by a patch, not created, so destroy gives it back without our label", () => {
        const [patch, ...others] = named(resources, "east-istio-system");
        assert.equal(others.length, 0);
        assert.equal(patch.type, "kubernetes:core/v1:NamespacePatch");
        assert.deepEqual(patch.inputs.metadata, { name: "istio-system", labels: { "topology.istio.io/network": "net1" } });
    });

    it("installs everything of its own in that namespace after the label is set", () => {
        const patch = named(resources, "east-istio-system")[0];
        for (const name of ["east-cacerts", "east-istio-base", "east-istiod", "east-to-west-reader-token", "west-to-east-remote-secret"]) {
            const [r] = named(resources, name);
            assert.equal((r.inputs.metadata ?? r.inputs).namespace, "istio-system", name);
            assert.ok(r.dependencies.includes(patch.urn), `${name} does not wait for the label`);
        }
    });

    it("leaves a fresh cluster's istio-system to be created and deleted with the mesh", () => {
        const [namespace] = named(resources, "west-istio-system");
        assert.equal(namespace.type, "kubernetes:core/v1:Namespace");
        assert.deepEqual(namespace.inputs.metadata, { name: "istio-system", labels: { "topology.istio.io/network": "net1" } });
    });
});

describe("a remote whose istio-system already exists", () => {
    it("has istio-system labelled and annotated with its primary by a patch, which destroy takes back", async () => {
        const [east, west] = PRIMARY_REMOTE_ONE_NETWORK.clusters;
        const config = parseStackConfig({ ...PRIMARY_REMOTE_ONE_NETWORK, clusters: [east, { ...west, existingIstioNamespace: true }] }).config;
        const { resources } = await runWithMocks(() => deployMesh(config), fakeState);
        const [patch, ...others] = named(resources, "west-istio-system");
        assert.equal(others.length, 0);
        assert.equal(patch.type, "kubernetes:core/v1:NamespacePatch");
        assert.deepEqual(patch.inputs.metadata, {
            name: "istio-system",
            labels: { "topology.istio.io/network": "net1" },
            annotations: { "topology.istio.io/controlPlaneClusters": "east" },
        });
        assert.ok(named(resources, "west-istiod")[0].dependencies.includes(patch.urn));
    });
});

describe("objects that may already exist on a real cluster", () => {
    const scenarios = { TWO_CLUSTERS_ONE_NETWORK, TWO_CLUSTERS_TWO_NETWORKS, THREE_CLUSTERS_TWO_NETWORKS, PRIMARY_REMOTE_ONE_NETWORK, SIX_CLUSTERS_MIXED };
    for (const [title, raw] of Object.entries(scenarios)) {
        it(`are taken over by server-side apply, forced only where an edit by hand must be undone (${title})`, async () => {
            const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
            const kubernetes = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.deepEqual(kubernetes.filter((r) => r.type.endsWith("Patch")).map((r) => r.name), []);
            // cacerts, the remote secrets and the Gateways exposing services and istiod: a plain `pulumi up`
            // after a refresh takes edited fields back. Of the charts' objects, only Istio's webhook
            // configurations are forced (chartTransforms.ts, takeOverWebhooks).
            const repaired = /-cacerts$|-remote-secret$|-cross-network-gateway$|-istiod-(gateway|vs)$/;
            for (const r of kubernetes) {
                const force = r.inputs.metadata?.annotations?.["pulumi.com/patchForce"];
                assert.equal(force, repaired.test(r.name) || /WebhookConfiguration$/.test(r.type) ? "true" : undefined, r.name);
            }
            // What an interrupted `pulumi up` left in a cluster is taken over by the next one, and changed
            // Secrets and ConfigMaps are updated in place; server-side apply is the provider's default.
            // (The SDK sends a provider's settings as the strings the provider reads.)
            for (const provider of resources.filter((r) => r.type === "pulumi:providers:kubernetes")) {
                assert.equal(provider.inputs.upsertExistingObjects, "true", provider.name);
                assert.equal(provider.inputs.enableSecretMutable, "true", provider.name);
                assert.equal(provider.inputs.enableConfigMapMutable, "true", provider.name);
                assert.equal(provider.inputs.enableServerSideApply, undefined, provider.name);
                assert.equal(provider.inputs.enablePatchForce, undefined, provider.name);
            }
            // Forced, cacerts says which stack wrote it: a cacerts without that mark (a site's CA) stops the
            // program before anything is registered (stacks/foreignCacerts.ts).
            for (const cacerts of kubernetes.filter((r) => r.inputs.metadata?.name === "cacerts")) {
                assert.deepEqual(Object.keys(cacerts.inputs.data).sort(), ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);
                assert.equal(cacerts.inputs.metadata.annotations["istio-multicluster.pulumi.com/stack"], "istio-multicluster/test");
                assert.equal(cacerts.inputs.immutable, undefined, "an immutable Secret is replaced, not updated");
            }
        });
    }
});
