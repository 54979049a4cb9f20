import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { foreignWriter } from "../stacks/foreignCacerts";

const STACK = "istio-multicluster/dev";

describe("who wrote an existing cacerts", () => {
    it("is nobody foreign when this stack's annotation is on it (what an interrupted run of this stack leaves)", () => {
        assert.equal(foreignWriter({ annotations: { "istio-multicluster.pulumi.com/stack": STACK } }, STACK), undefined);
    });

    it("names another stack of this program", () => {
        assert.equal(foreignWriter({ annotations: { "istio-multicluster.pulumi.com/stack": "istio-multicluster/prod" } }, STACK), "the stack istio-multicluster/prod");
    });

    it("names the field managers of a Secret without the annotation, a site's CA", () => {
        const managedFields = [{ manager: "kubectl-create" }, { manager: "kubectl-annotate" }, { manager: "kubectl-create" }];
        assert.equal(foreignWriter({ managedFields }, STACK), "not this program (field managers: kubectl-create, kubectl-annotate)");
        assert.equal(foreignWriter({}, STACK), "not this program");
    });
});
