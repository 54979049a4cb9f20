import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FakeApiServers } from "./harness/fakeApiServer";
import { foreignCacerts, foreignWriter } from "../stacks/foreignCacerts";
import { parseStackConfig } from "../stacks/config";

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

describe("the existing cacerts, read before any resource is registered", () => {
    const apiServers = new FakeApiServers();
    after(() => apiServers.closeAll());

    /** An API server holding a cacerts with `annotations` (404 if undefined); records the Accept header of each GET. */
    function apiServer(annotations: Record<string, string> | undefined, accepts: string[]): Promise<string> {
        return apiServers.start((req, res) => {
            accepts.push(String(req.headers.accept));
            if (req.url !== "/api/v1/namespaces/istio-system/secrets/cacerts" || annotations === undefined) {
                res.writeHead(404, { "Content-Type": "application/json" }).end("{}");
                return;
            }
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "PartialObjectMetadata", metadata: { name: "cacerts", annotations } }));
        });
    }

    it("gives the end of this stack's intermediates and the annotations of its cacerts (where a root rotation stands), and nothing of another's", async () => {
        const accepts: string[] = [];
        const ours = { "istio-multicluster.pulumi.com/stack": STACK, "istio-multicluster.pulumi.com/ca-cert-not-after": "2027-12-01T00:00:00Z" };
        const theirs = { "istio-multicluster.pulumi.com/stack": "istio-multicluster/prod", "istio-multicluster.pulumi.com/ca-cert-not-after": "2027-01-01T00:00:00Z" };
        const kubeconfigs = [await apiServer(ours, accepts), await apiServer(theirs, accepts), await apiServer(undefined, accepts)];
        const { config } = parseStackConfig({
            meshId: "mesh1",
            clusters: kubeconfigs.map((kubeconfig, i) => ({ name: `c${i}`, network: "n1", kubeconfig, apiServer: `https://10.0.${i}.1:6443` })),
        });
        const { problems, caCertNotAfter, annotations } = await foreignCacerts(config.clusters, STACK, 2000);
        assert.deepEqual(caCertNotAfter, { c0: "2027-12-01T00:00:00Z" });
        assert.deepEqual(annotations, { c0: ours, c2: null }, "c2 has no cacerts yet");
        assert.deepEqual(problems, ["c1: istio-system/cacerts was written by the stack istio-multicluster/prod"]);
        assert.ok(accepts.every((accept) => accept.includes("as=PartialObjectMetadata")), "only metadata is asked for, never the keys");
    });
});
