/**
 * The CRD set's provider (components/crdSetProvider.ts), as the Pulumi engine calls it, against a real API
 * server (started by run.sh) with Istio's own CRDs (the base chart's files/crd-all.gen.yaml): apply,
 * read back after a delete and an edit out of band, put back, refuse CRDs another Pulumi resource
 * manages, keep, delete. Leaves the cluster as it found it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as yaml from "js-yaml";
import { crdDigest, packCrds } from "../../components/crdSet";
import { CHANGED_IN_CLUSTER, CRD_SET_FIELD_MANAGER, crdSetProvider, CrdSetInputs, CrdSetOutputs, TAKE_OVER_CRDS_ENV } from "../../components/crdSetProvider";
import { admin, chartsDir, inHarness } from "./e2eStack";
import { getJson, isGone, kubectl, mustKubectl } from "./kube";

const CLUSTER = "cluster1";
const crds = (yaml.loadAll(fs.readFileSync(path.join(chartsDir ?? "", "base", "files", "crd-all.gen.yaml"), "utf8")) as any[]).filter(Boolean);
const names = crds.map((crd) => crd.metadata.name as string);
const VIRTUAL_SERVICES = "virtualservices.networking.istio.io";
const GATEWAYS = "gateways.networking.istio.io";

function inputs(keep = false): CrdSetInputs {
    return {
        cluster: CLUSTER,
        kubeconfig: fs.readFileSync(admin(CLUSTER), "utf8"),
        manifests: packCrds(crds),
        digests: Object.fromEntries(crds.map((crd) => [crd.metadata.name, crdDigest(crd)])),
        keep,
        gone: false,
    };
}

const crdNames = () => new Set(getJson(admin(CLUSTER), ["crd"]).items.map((crd: any) => crd.metadata.name as string));
/** Who applied the CRD (server-side apply); the API server itself updates its status. */
const appliers = (name: string) =>
    getJson(admin(CLUSTER), ["crd", name, "--show-managed-fields"]).metadata.managedFields.filter((f: any) => f.operation === "Apply").map((f: any) => f.manager as string);

describe("Istio's CRDs as one set, on a real API server", { skip: !inHarness() && "run by npm run test:e2e" }, () => {
    let state: CrdSetOutputs;

    after(() => {
        kubectl(admin(CLUSTER), ["delete", "crd", ...names, "--ignore-not-found", "--wait=true"]);
    });

    it("applies all 15 under its own field manager, each established", async () => {
        assert.equal(names.length, 15);
        const created = await crdSetProvider.create!(inputs());
        state = created.outs!;
        assert.equal(created.id, `${CLUSTER}/istio-crds`);
        for (const name of names) {
            const live = getJson(admin(CLUSTER), ["crd", name]);
            assert.ok(live.status.conditions.some((c: any) => c.type === "Established" && c.status === "True"), name);
            assert.deepEqual(appliers(name), [CRD_SET_FIELD_MANAGER], name);
            assert.equal(state.generations[name], live.metadata.generation, name);
        }
    });

    it("reads them back unchanged: no diff", async () => {
        const read = await crdSetProvider.read!(`${CLUSTER}/istio-crds`, state);
        assert.deepEqual(read.props!.digests, state.digests);
        assert.equal((await crdSetProvider.diff!(read.id!, read.props!, inputs())).changes, false);
    });

    it("sees one deleted and one edited out of band, and an update puts both back", async () => {
        mustKubectl(admin(CLUSTER), ["delete", "crd", GATEWAYS, "--wait=true"]);
        mustKubectl(admin(CLUSTER), ["patch", "crd", VIRTUAL_SERVICES, "--type=json", "-p", '[{"op":"add","path":"/spec/names/shortNames/-","value":"vsx"}]']);
        const read = await crdSetProvider.read!(`${CLUSTER}/istio-crds`, state);
        const drifted = read.props!;
        assert.equal(drifted.digests[GATEWAYS], undefined, "the deleted CRD is left out");
        assert.equal(drifted.digests[VIRTUAL_SERVICES], CHANGED_IN_CLUSTER);
        assert.equal((read.inputs as CrdSetInputs).digests[VIRTUAL_SERVICES], CHANGED_IN_CLUSTER, "the refreshed inputs show it in a preview");
        const diff = await crdSetProvider.diff!(read.id!, drifted, inputs());
        assert.deepEqual([diff.changes, diff.replaces], [true, []], "an update, never a replacement");
        // Putting back a field another manager changed is a conflict, as for the charts' objects (docs/operations.md, Drift) ...
        await assert.rejects(crdSetProvider.update!(read.id!, drifted, inputs()), /conflict/i);
        // ... that PULUMI_K8S_ENABLE_PATCH_FORCE=true resolves, as for them.
        process.env.PULUMI_K8S_ENABLE_PATCH_FORCE = "true";
        try {
            state = (await crdSetProvider.update!(read.id!, drifted, inputs())).outs!;
        } finally {
            delete process.env.PULUMI_K8S_ENABLE_PATCH_FORCE;
        }
        assert.ok(crdNames().has(GATEWAYS));
        assert.ok(!getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES]).spec.names.shortNames.includes("vsx"));
        const again = await crdSetProvider.read!(`${CLUSTER}/istio-crds`, state);
        assert.equal((await crdSetProvider.diff!(again.id!, again.props!, inputs())).changes, false);
    });

    it("keeps them on delete when asked", async () => {
        await crdSetProvider.delete!(`${CLUSTER}/istio-crds`, { ...state, keep: true });
        assert.equal(names.filter((name) => crdNames().has(name)).length, 15);
    });

    it("refuses to take over CRDs another Pulumi resource manages, and changes nothing", async () => {
        // As a stack of an earlier version of the program left them: each CRD also applied by the kubernetes provider.
        const before = getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES]).metadata.resourceVersion;
        mustKubectl(admin(CLUSTER), ["label", "crd", VIRTUAL_SERVICES, "legacy=yes", "--field-manager=pulumi-kubernetes-1a2b3c"]);
        const labelled = getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES]).metadata.resourceVersion;
        assert.notEqual(labelled, before);
        await assert.rejects(crdSetProvider.create!(inputs()), (err: Error) => {
            assert.match(err.message, new RegExp(`cluster ${CLUSTER}: Istio's CRDs ${VIRTUAL_SERVICES.replace(/\./g, "\\.")} are managed by another Pulumi resource`));
            assert.match(err.message, /npm run take-over-crds -- --stack <stack>/);
            return true;
        });
        assert.equal(getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES]).metadata.resourceVersion, labelled, "nothing was applied");
    });

    it("takes them over when told (npm run take-over-crds), leaving the other Pulumi manager no field", async () => {
        process.env[TAKE_OVER_CRDS_ENV] = "true";
        try {
            state = (await crdSetProvider.create!(inputs())).outs!;
        } finally {
            delete process.env[TAKE_OVER_CRDS_ENV];
        }
        const managers = getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES, "--show-managed-fields"]).metadata.managedFields.map((f: any) => f.manager);
        assert.ok(!managers.some((m: string) => m.startsWith("pulumi-kubernetes")), managers.join(", "));
        assert.equal(getJson(admin(CLUSTER), ["crd", VIRTUAL_SERVICES]).metadata.labels.legacy, "yes", "a field only it set stays (no manager now)");
        assert.deepEqual(appliers(VIRTUAL_SERVICES), [CRD_SET_FIELD_MANAGER]);
    });

    it("deletes them all, waiting until they are gone", async () => {
        await crdSetProvider.delete!(`${CLUSTER}/istio-crds`, state);
        for (const name of names) {
            assert.ok(isGone(admin(CLUSTER), ["crd", name]), name);
        }
    });
});
