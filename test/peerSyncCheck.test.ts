import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { Installed } from "../stacks/installedRevisions";
import { planPeerSync } from "../stacks/peerSync";
import { planMesh } from "../stacks/topology";
import { fakeState } from "./harness/fakeCluster";
import { jobEnv, RecordedResource, runWithMocks, waitsOn } from "./harness/mockRuntime";
import { existingCluster } from "./harness/scenarios";

const JOB = "kubernetes:batch/v1:Job";
const CHECK = "istio-multicluster:verify:PeerSyncCheck";
const [cluster1, cluster2] = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2)];
const cluster3 = existingCluster("cluster3", "network3", 3);
const remote = { ...cluster3, role: "remote" as const, primary: "cluster1" };

const mesh = (rolloutOrder: string[] | undefined, clusters: StackConfigInput["clusters"] = [cluster1, cluster2], istio: StackConfigInput["istio"] = {}): StackConfigInput => ({
    meshId: "mesh1",
    clusters,
    istio: { ...istio, ...(rolloutOrder === undefined ? {} : { rolloutOrder }) },
});

/** Clusters that run Istio now (in place, 1.30.4); the others are read and run none. */
const running = (names: string[], all = ["cluster1", "cluster2", "cluster3"]): Installed =>
    Object.fromEntries(all.map((n) => [n, names.includes(n) ? [{ webhook: "istio-sidecar-injector", revision: "", version: "1.30.4" }] : []]));

async function registered(raw: StackConfigInput, installed: Installed): Promise<RecordedResource[]> {
    return (await runWithMocks(() => deployMesh(parseStackConfig(raw).config, undefined, installed), fakeState)).resources;
}

const checkJobs = (resources: readonly RecordedResource[]) => resources.filter((r) => r.type === JOB && r.name.endsWith("-peer-sync-check"));

describe("the peer-sync check in istio.rolloutOrder", () => {
    it("on an existing mesh: a Job in cluster1's istio-system, through its provider, in a PeerSyncCheck; none for the last cluster", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"]), running(["cluster1", "cluster2"]));
        const jobs = checkJobs(resources);
        assert.deepEqual(jobs.map((j) => j.name), ["cluster1-peer-sync-check"]);
        const [job] = jobs;
        assert.equal(job.inputs.metadata.namespace, "istio-system");
        assert.match(job.inputs.metadata.name, /^peer-sync-check-[0-9a-f]{10}$/);
        assert.match(job.provider!, /::cluster1-k8s::/);
        const parent = resources.find((r) => r.urn === job.parent)!;
        assert.deepEqual([parent.type, parent.name], [CHECK, "cluster1"]);
        assert.deepEqual(job.inputs.metadata.annotations, { "pulumi.com/replaceUnready": "true", "pulumi.com/deletionPropagationPolicy": "foreground" });
        const { template, ...spec } = job.inputs.spec;
        const deadline = 300 + 60 * (3 + 5);
        assert.deepEqual(spec, { backoffLimit: 0, activeDeadlineSeconds: deadline });
        assert.deepEqual(job.timeouts, { create: `${deadline + 60}s`, update: `${deadline + 60}s` });
        assert.equal(template.metadata.labels["sidecar.istio.io/inject"], "false");
        const [container] = template.spec.containers;
        assert.equal(container.image, "docker.io/curlimages/curl:8.16.0");
        assert.deepEqual(container.command, ["/bin/sh", "-c", fs.readFileSync("scripts/peer-sync-check.sh", "utf8")]);
        assert.deepEqual(jobEnv(job), { CLUSTER: "cluster1", ISTIODS: "istiod", PEERS: "cluster2", ATTEMPTS: "60", TOKEN_FILE: "./var/run/secrets/istio-ca/token" });
        assert.equal(container.workingDir, "/");
        assert.deepEqual(template.spec.volumes[0].projected.sources, [{ serviceAccountToken: { audience: "istio-ca", path: "token", expirationSeconds: 3600 } }]);
    });

    it("is not added on a first install, where a cluster was not read, or without a rollout order", async () => {
        const cases: [string, StackConfigInput, Installed][] = [
            ["first install", mesh(["cluster1", "cluster2"]), running([])],
            ["a peer without Istio yet", mesh(["cluster1", "cluster2"]), running(["cluster1"])],
            ["nothing read", mesh(["cluster1", "cluster2"]), {}],
            ["a peer not read", mesh(["cluster1", "cluster2"]), { cluster1: running(["cluster1"]).cluster1 }],
            ["no order", mesh(undefined), running(["cluster1", "cluster2"])],
        ];
        for (const [title, raw, installed] of cases) {
            assert.deepEqual(checkJobs(await registered(raw, installed)), [], title);
        }
    });

    it("waits for cluster1's checkpoint charts and for no remote secret, not even through what it waits for", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"], [cluster1, remote, cluster2]), running(["cluster1", "cluster2", "cluster3"]));
        const [job] = checkJobs(resources);
        const waited = waitsOn(resources, job.urn);
        const charts = waited.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart").map((r) => r.name).sort();
        assert.deepEqual(charts, ["cluster1-istio-base", "cluster1-istio-eastwestgateway", "cluster1-istiod", "cluster3-istio-base", "cluster3-istiod"]);
        const secrets = waited.filter((r) => r.type === "istio-multicluster:mesh:RemoteSecret" || /-to-/.test(r.name));
        assert.deepEqual(secrets.map((r) => r.name), []);
    });

    it("holds back the next cluster's charts", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"]), running(["cluster1", "cluster2"]));
        const [job] = checkJobs(resources);
        for (const chart of ["cluster2-istio-base", "cluster2-istiod", "cluster2-istio-eastwestgateway"]) {
            assert.ok(resources.find((r) => r.name === chart)!.dependencies.includes(job.urn), `${chart} does not wait for the check`);
        }
        for (const chart of ["cluster1-istio-base", "cluster1-istiod"]) {
            assert.ok(!resources.find((r) => r.name === chart)!.dependencies.includes(job.urn), `${chart} waits for its own check`);
        }
    });

    it("expects every cluster the primary reads, from every revision it runs", async () => {
        const istio = { upgradeStrategy: "RevisionBased" as const, revisions: [{ name: "stable", version: "1.30.4" }, { name: "canary", version: "1.31.1" }], defaultRevision: "stable" };
        const all = running(["cluster1", "cluster2", "cluster3"]);
        const first = checkJobs(await registered(mesh(["cluster1", "cluster2"], [cluster1, remote, cluster2], istio), all));
        assert.deepEqual(first.map(jobEnv).map((e) => [e.CLUSTER, e.ISTIODS, e.PEERS]), [["cluster1", "istiod-stable istiod-canary", "cluster3 cluster2"]]);
        const three = checkJobs(await registered(mesh(["cluster3", "cluster2", "cluster1"], [cluster1, cluster2, cluster3]), all));
        assert.deepEqual(three.map(jobEnv).map((e) => [e.CLUSTER, e.PEERS]).sort(), [
            ["cluster2", "cluster1 cluster3"],
            ["cluster3", "cluster1 cluster2"],
        ]);
    });

    it("runs again when the checkpoint's charts change, not otherwise", async () => {
        const installed = running(["cluster1", "cluster2"]);
        const nameWith = async (istio: StackConfigInput["istio"]) => checkJobs(await registered(mesh(["cluster1", "cluster2"], [cluster1, cluster2], istio), installed))[0].inputs.metadata.name;
        const before = await nameWith({ version: "1.30.4" });
        assert.equal(await nameWith({ version: "1.30.4" }), before);
        assert.notEqual(await nameWith({ version: "1.31.1" }), before);
        assert.notEqual(await nameWith({ version: "1.30.4", values: { istiod: { pilot: { env: { PILOT_TRACE_SAMPLING: "1" } } } } }), before);
        assert.notEqual(await nameWith({ version: "1.30.4", values: { gateway: { podAnnotations: { a: "b" } } } }), before);
    });

    it("is logged with the rollout order: which clusters get it, which do not and why", async (t) => {
        const info = t.mock.method(pulumi.log, "info", () => undefined);
        const notes = async (raw: StackConfigInput, installed: Installed) => {
            info.mock.resetCalls();
            await registered(raw, installed);
            return info.mock.calls.map((c) => String(c.arguments[0])).filter((m) => m.startsWith("rollout order"));
        };
        const order = "rollout order: cluster1 → cluster2 → cluster3; each cluster's Istio charts wait until the previous cluster's istiod and east-west gateway are ready, so when one fails, the clusters after it keep what they run; ";
        const three = mesh(["cluster1", "cluster2", "cluster3"], [cluster1, cluster2, cluster3]);
        assert.deepEqual(await notes(three, running(["cluster1", "cluster2", "cluster3"])), [
            `${order}peer-sync check (istiod lists every peer it reads as synced) before the next cluster moves in cluster1, cluster2; none in cluster3 (the last in the order, which no cluster waits for)` +
                "; traffic gate (from the cluster, every other cluster's helloworld answers through the mesh) before the next cluster moves in cluster1, cluster2; none in cluster3 (the last in the order, which no cluster waits for)",
        ]);
        assert.deepEqual(await notes(three, running(["cluster1", "cluster2"])), [
            `${order}no peer-sync check: cluster1 (a first install: cluster3 runs no Istio yet), cluster2 (a first install: cluster3 runs no Istio yet), cluster3 (the last in the order, which no cluster waits for)` +
                "; no traffic gate: cluster1 (a first install: cluster3 runs no Istio yet), cluster2 (a first install: cluster3 runs no Istio yet), cluster3 (the last in the order, which no cluster waits for)",
        ]);
        assert.deepEqual(await notes(three, { cluster3: [] }), [
            `${order}no peer-sync check: cluster1 (cluster1, cluster2 not read: kind, behind a proxy, or not allowed to list webhooks), ` +
                "cluster2 (cluster2, cluster1 not read: kind, behind a proxy, or not allowed to list webhooks), cluster3 (the last in the order, which no cluster waits for); " +
                "no traffic gate: cluster1 (cluster1, cluster2 not read: kind, behind a proxy, or not allowed to list webhooks), " +
                "cluster2 (cluster1, cluster2 not read: kind, behind a proxy, or not allowed to list webhooks), cluster3 (the last in the order, which no cluster waits for)",
        ]);
    });
});

describe("planPeerSync", () => {
    const plan = planMesh([
        { name: "a", network: "n", role: "primary" },
        { name: "r", network: "n", role: "remote", primary: "a" },
        { name: "b", network: "n", role: "primary" },
    ]);
    const runs = (names: string[]): Installed => Object.fromEntries(names.map((n) => [n, [{ webhook: "w", revision: "", version: "1.30.4" }]]));

    it("checks every primary but the last when every cluster runs Istio, with the peers it reads", () => {
        const { checked, unchecked } = planPeerSync(["b", "a"], plan, runs(["a", "r", "b"]));
        assert.deepEqual([...checked], [["b", ["a", "r"]]]);
        assert.deepEqual(unchecked.map((u) => u.cluster), ["a"]);
    });

    it("checks none for an empty order", () => {
        assert.deepEqual(planPeerSync([], plan, runs(["a", "r", "b"])), { checked: new Map(), unchecked: [] });
    });
});
