import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FakeApiServers } from "./harness/fakeApiServer";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { SUPPORT_POLICY } from "../stacks/config/supportPolicy";
import { formerRevisions, installedRevisions, requireSupportedUpgrade, revisionsOf, skippedMinorProblems } from "../stacks/installedRevisions";
import { existingCluster, kindCluster } from "./harness/scenarios";

const webhook = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels } });
const INJECTOR_1_30 = webhook("istio-sidecar-injector", { "istio.io/rev": "default", "helm.sh/chart": "istiod-1.30.4" });

describe("the revisions a cluster runs, from its injection webhooks", () => {
    it("reads each revision and its chart version; an in-place istiod is the unnamed revision; a tag and a foreign webhook are none", () => {
        const items = [
            INJECTOR_1_30,
            webhook("istio-sidecar-injector-canary", { "istio.io/rev": "canary", "helm.sh/chart": "istiod-1.31.1" }),
            webhook("istio-revision-tag-default", { "istio.io/rev": "canary", "istio.io/tag": "default", "helm.sh/chart": "istiod-1.31.1" }),
            webhook("other-injector", { app: "sidecar-injector" }),
        ];
        assert.deepEqual(revisionsOf(items), [
            { webhook: "istio-sidecar-injector", revision: "", version: "1.30.4" },
            { webhook: "istio-sidecar-injector-canary", revision: "canary", version: "1.31.1" },
        ]);
    });
});

describe("the revisions an up removes", () => {
    it("are those a cluster runs that the config no longer lists: the tag's objects are aliased under their charts too", () => {
        const running = revisionsOf([
            webhook("istio-sidecar-injector-r1", { "istio.io/rev": "r1", "helm.sh/chart": "istiod-1.30.4" }),
            webhook("istio-sidecar-injector-r2", { "istio.io/rev": "r2", "helm.sh/chart": "istiod-1.31.1" }),
        ]);
        // The tag moved to r2 and r1 dropped in one `up`: r1's chart still holds the tag's objects.
        assert.deepEqual(formerRevisions(running, { revisions: [{ name: "r2", version: "1.31.1" }], defaultRevision: "r2" }), ["r1"]);
        assert.deepEqual(formerRevisions(running, { revisions: [{ name: "r1", version: "1.30.4" }, { name: "r2", version: "1.31.1" }], defaultRevision: "r1" }), []);
        assert.deepEqual(formerRevisions([], { revisions: [{ name: "r2", version: "1.31.1" }], defaultRevision: "r2" }), []);
    });
});

describe("a version change against what the clusters run", () => {
    const clusters = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
    const remote = { ...existingCluster("cluster3", "network3", 3), role: "remote" as const, primary: "cluster2" };
    const configOf = (raw: Partial<StackConfigInput>) => parseStackConfig({ meshId: "mesh1", clusters, ...raw }).config;

    it("refuses an in-place upgrade that skips a minor version, naming the key, the cluster, the versions and the policy", () => {
        const config = configOf({ istio: { version: "1.32.0" } });
        assert.deepEqual(skippedMinorProblems(config, { cluster1: revisionsOf([INJECTOR_1_30]), cluster2: [] }), [
            `istio.version: got "1.32.0"; expected a version within one minor version of 1.30.4, which cluster1 runs now (in place, webhook istio-sidecar-injector); the change would skip a minor version: ${SUPPORT_POLICY}`,
        ]);
    });

    it("names a primary's own version for its remote", () => {
        const config = configOf({ clusters: [clusters[0], { ...clusters[1], istioVersion: "1.31.0" }, remote], istio: { version: "1.31.0" } });
        const problems = skippedMinorProblems(config, { cluster3: revisionsOf([webhook("istio-sidecar-injector", { "helm.sh/chart": "istiod-1.29.0" })]) });
        assert.equal(problems.length, 1);
        assert.match(problems[0], /^clusters\[1\]\.istioVersion: got "1\.31\.0"; expected a version within one minor version of 1\.29\.0, which cluster3 runs now/);
    });

    it("refuses a revision two minor versions from a revision still running, and allows a canary one minor version on", () => {
        const istio = { upgradeStrategy: "RevisionBased" as const, revisions: [{ name: "canary", version: "1.31.1" }, { name: "next", version: "1.32.0" }], defaultRevision: "canary" };
        const config = configOf({ istio });
        const installed = { cluster1: revisionsOf([INJECTOR_1_30, webhook("istio-sidecar-injector-canary", { "istio.io/rev": "canary", "helm.sh/chart": "istiod-1.31.1" })]) };
        assert.deepEqual(
            skippedMinorProblems(config, installed).map((p) => p.split(";")[0] + ";" + p.split(";")[1]),
            ['istio.revisions[1].version: got "1.32.0"; expected a version within one minor version of 1.30.4, which cluster1 runs now (in place, webhook istio-sidecar-injector)'],
        );
        assert.deepEqual(skippedMinorProblems(configOf({ istio: { version: "1.31.1" } }), installed), []);
    });
});

describe("reading the revisions before any resource is registered", () => {
    const apiServers = new FakeApiServers();
    after(() => apiServers.closeAll());

    /** An API server answering the list of injection webhooks with `items` (or `status`); records each request. */
    function apiServer(status: number, items: unknown[], requests: { url?: string; accept?: string }[]): Promise<string> {
        return apiServers.start((req, res) => {
            requests.push({ url: req.url, accept: req.headers.accept });
            res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "PartialObjectMetadataList", items }));
        });
    }

    it("asks each cluster given by kubeconfig for its injection webhooks' metadata; not a kind cluster; names one that fails", async () => {
        const requests: { url?: string; accept?: string }[] = [];
        const { config } = parseStackConfig({
            meshId: "mesh1",
            clusters: [
                { name: "c0", network: "n0", kubeconfig: await apiServer(200, [INJECTOR_1_30], requests), apiServer: "https://10.0.0.1:6443" },
                { name: "c1", network: "n1", kubeconfig: await apiServer(500, [], requests), apiServer: "https://10.0.1.1:6443" },
                kindCluster("c2", "n2"),
            ],
        });
        const { installed, problems } = await installedRevisions(config.clusters, 2000);
        assert.deepEqual(installed, { c0: [{ webhook: "istio-sidecar-injector", revision: "", version: "1.30.4" }] });
        assert.deepEqual(problems, ["c1: could not read which Istio runs there: HTTP 500 Internal Server Error"]);
        assert.equal(requests.length, 2);
        for (const { url, accept } of requests) {
            assert.equal(url, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?labelSelector=app%3Dsidecar-injector");
            assert.match(String(accept), /as=PartialObjectMetadataList/);
        }
    });

    it("stops the program with the config's message at a version that would skip a minor version, and at a cluster it cannot ask", async () => {
        const runs = await apiServer(200, [INJECTOR_1_30], []);
        const clustersOf = (second: string) => [
            { name: "c0", network: "n0", kubeconfig: runs, apiServer: "https://10.0.0.1:6443" },
            { name: "c1", network: "n1", kubeconfig: second, apiServer: "https://10.0.1.1:6443" },
        ];
        const skipping = parseStackConfig({ meshId: "mesh1", clusters: clustersOf(runs), istio: { version: "1.32.0" } }).config;
        await assert.rejects(requireSupportedUpgrade(skipping, 2000), (err: Error) =>
            /^Invalid stack config \(2 problems\):\n {2}- istio\.version: got "1\.32\.0"; expected a version within one minor version of 1\.30\.4, which c0 runs now .*\n {2}- istio\.version: .* which c1 runs now/.test(err.message),
        );
        const failing = parseStackConfig({ meshId: "mesh1", clusters: clustersOf(await apiServer(500, [], [])), istio: { version: "1.31.0" } }).config;
        await assert.rejects(requireSupportedUpgrade(failing, 2000), {
            message:
                "Cannot check the Istio version change against the support policy; stopped before changing anything:\n  - c1: could not read which Istio runs there: HTTP 500 Internal Server Error",
        });
        await requireSupportedUpgrade(parseStackConfig({ meshId: "mesh1", clusters: clustersOf(runs), istio: { version: "1.31.0" } }).config, 2000);
    });
});
