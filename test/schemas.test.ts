import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseStackConfig } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { SIX_CLUSTERS_MIXED, TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

type Validator = (object: Record<string, unknown>) => void;

/** Validators from the maintained Kubernetes and Istio schema packages, by Pulumi type token. */
async function loadValidators(): Promise<Record<string, Validator>> {
    const core = await import("kubernetes-models/v1");
    const apps = await import("kubernetes-models/apps/v1");
    const batch = await import("kubernetes-models/batch/v1");
    const istio = await import("@kubernetes-models/istio/networking.istio.io/v1");
    const using =
        (Model: new (data: any) => { validate(): void }): Validator =>
        (object) =>
            new Model(object).validate();
    return {
        "kubernetes:core/v1:Namespace": using(core.Namespace),
        "kubernetes:core/v1:Secret": using(core.Secret),
        "kubernetes:core/v1:Service": using(core.Service),
        "kubernetes:core/v1:ServiceAccount": using(core.ServiceAccount),
        "kubernetes:apps/v1:Deployment": using(apps.Deployment),
        "kubernetes:batch/v1:Job": using(batch.Job),
        "kubernetes:networking.istio.io/v1:Gateway": using(istio.Gateway),
        "kubernetes:networking.istio.io/v1:VirtualService": using(istio.VirtualService),
    };
}

describe("Kubernetes objects the program writes itself", () => {
    let validators: Record<string, Validator>;
    let objects: RecordedResource[];

    before(async () => {
        validators = await loadValidators();
        objects = [];
        // Multi-primary, and primary-remote with istiod exposed.
        for (const raw of [TWO_CLUSTERS_TWO_NETWORKS, SIX_CLUSTERS_MIXED]) {
            const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(raw).config), fakeState);
            // The charts' objects are the provider's to render (a Chart is a component), and what is read is
            // not written; every other custom Kubernetes object is ours.
            objects.push(...resources.filter((r) => r.custom && !r.read && r.type.startsWith("kubernetes:")));
        }
    });

    it("are all of a kind there is a schema for", () => {
        assert.ok(objects.length >= 20, `only ${objects.length} objects`);
        assert.ok(objects.some((o) => o.type === "kubernetes:networking.istio.io/v1:VirtualService"));
        for (const o of objects) {
            assert.ok(validators[o.type], `no schema for ${o.type} (${o.name})`);
        }
    });

    it("validate against the Kubernetes and Istio schemas", () => {
        for (const o of objects) {
            assert.equal(o.inputs.apiVersion && o.inputs.kind ? "typed" : "untyped", "typed", o.name);
            assert.doesNotThrow(() => validators[o.type](o.inputs), `${o.name} (${o.type})`);
        }
    });

    it("would be caught if malformed", () => {
        const deployment = objects.find((o) => o.type === "kubernetes:apps/v1:Deployment")!;
        const broken = { ...deployment.inputs, spec: { ...deployment.inputs.spec, replicas: "one" } };
        assert.throws(() => validators[deployment.type](broken));
        const gateway = objects.find((o) => o.type === "kubernetes:networking.istio.io/v1:Gateway")!;
        const brokenGateway = { ...gateway.inputs, spec: { ...gateway.inputs.spec, servers: [{ port: { number: "15443" } }] } };
        assert.throws(() => validators[gateway.type](brokenGateway));
        const virtualService = objects.find((o) => o.type === "kubernetes:networking.istio.io/v1:VirtualService")!;
        const brokenVirtualService = { ...virtualService.inputs, spec: { ...virtualService.inputs.spec, tls: [{ match: [{ port: "15012" }] }] } };
        assert.throws(() => validators[virtualService.type](brokenVirtualService));
    });
});
