import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { Installed } from "../stacks/installedRevisions";
import { deployMesh } from "../stacks/mesh";
import { stoppedAt } from "../stacks/rolloutOrder";
import { planMesh } from "../stacks/topology";
import { planTrafficGates } from "../stacks/trafficGate";
import { fakeState } from "./harness/fakeCluster";
import { jobEnv, RecordedResource, runWithMocks, waitsOn } from "./harness/mockRuntime";
import { existingCluster } from "./harness/scenarios";

const JOB = "kubernetes:batch/v1:Job";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const GATE = "istio-multicluster:verify:TrafficGate";
const [cluster1, cluster2, cluster3] = [existingCluster("cluster1", "network1", 1), existingCluster("cluster2", "network2", 2), existingCluster("cluster3", "network3", 3)];
const remote = { ...existingCluster("cluster4", "network4", 4), role: "remote" as const, primary: "cluster1", helloworldVersion: "v2" as const };

const mesh = (rolloutOrder: string[] | undefined, clusters: StackConfigInput["clusters"] = [cluster1, cluster2], more: Partial<StackConfigInput> = {}): StackConfigInput => ({
    meshId: "mesh1",
    clusters,
    istio: rolloutOrder === undefined ? {} : { rolloutOrder },
    ...more,
});

/** Clusters that run Istio now; the others are read and run none. */
const running = (names: string[], all = ["cluster1", "cluster2", "cluster3", "cluster4"]): Installed =>
    Object.fromEntries(all.map((n) => [n, names.includes(n) ? [{ webhook: "istio-sidecar-injector", revision: "", version: "1.30.4" }] : []]));
const ALL = running(["cluster1", "cluster2", "cluster3", "cluster4"]);

async function registered(raw: StackConfigInput, installed: Installed): Promise<RecordedResource[]> {
    return (await runWithMocks(() => deployMesh(parseStackConfig(raw).config, undefined, installed), fakeState)).resources;
}

const gateJobs = (resources: readonly RecordedResource[]) => resources.filter((r) => r.type === JOB && r.name.endsWith("-traffic-gate"));

/** Whether `r` is, or is a child of, a component of `type`. */
function within(resources: readonly RecordedResource[], r: RecordedResource, type: string): boolean {
    const parent = resources.find((p) => p.urn === r.parent);
    return r.type === type || (parent !== undefined && within(resources, parent, type));
}

describe("the traffic gate in istio.rolloutOrder", () => {
    it("on an existing mesh: from cluster1, in a namespace of its own with injection on, the cross-cluster check expecting cluster2's version; none for the last cluster", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"]), ALL);
        const jobs = gateJobs(resources);
        assert.deepEqual(jobs.map((j) => j.name), ["cluster1-traffic-gate"]);
        const [job] = jobs;
        const gate = resources.find((r) => r.urn === job.parent)!;
        assert.deepEqual([gate.type, gate.name], [GATE, "cluster1"]);
        const namespace = resources.find((r) => r.type === NAMESPACE && r.parent === gate.urn)!;
        assert.deepEqual(namespace.inputs.metadata, { name: "istio-rollout-gate", labels: { "istio-injection": "enabled" } });
        assert.match(namespace.provider!, /::cluster1-k8s::/);
        assert.deepEqual(namespace.dependencies, [], "the namespace waits for nothing");
        assert.equal(job.inputs.metadata.namespace, "istio-rollout-gate");
        assert.ok(job.dependencies.includes(namespace.urn));
        assert.match(job.inputs.metadata.name, /^traffic-gate-[0-9a-f]{10}$/);
        assert.match(job.provider!, /::cluster1-k8s::/);
        assert.deepEqual(job.inputs.metadata.annotations, { "pulumi.com/replaceUnready": "true", "pulumi.com/deletionPropagationPolicy": "foreground" });
        const { template, ...spec } = job.inputs.spec;
        const deadline = 300 + 30 * (20 * 3 + 5);
        assert.deepEqual(spec, { backoffLimit: 0, activeDeadlineSeconds: deadline });
        assert.deepEqual(job.timeouts, { create: `${deadline + 60}s`, update: `${deadline + 60}s` });
        // Behind a sidecar that starts first, as the test app's check.
        assert.deepEqual(template.metadata, { labels: { app: "traffic-gate" }, annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}' } });
        const [container] = template.spec.containers;
        assert.equal(container.image, "docker.io/curlimages/curl:8.16.0");
        assert.deepEqual(container.command, [
            "/bin/sh",
            "-c",
            fs.readFileSync("scripts/traffic-gate.sh", "utf8"),
            "traffic-gate",
            fs.readFileSync("scripts/cross-cluster-check.sh", "utf8"),
        ]);
        assert.deepEqual(jobEnv(job), {
            CLUSTER: "cluster1",
            EXPECTED_VERSIONS: "v2",
            REQUESTS: "20",
            ATTEMPTS: "30",
            STOPPED: "the rollout (istio.rolloutOrder) stopped at cluster1: the Istio charts of the clusters after it, cluster2, were not changed",
        });
        assert.equal(container.terminationMessagePolicy, "FallbackToLogsOnError");
    });

    it("in every primary but the last, expecting the versions of every other cluster, remotes included", async () => {
        const resources = await registered(mesh(["cluster3", "cluster1", "cluster2"], [cluster1, remote, cluster2, cluster3]), ALL);
        const env = gateJobs(resources).map(jobEnv);
        assert.deepEqual(env.map((e) => [e.CLUSTER, e.EXPECTED_VERSIONS]).sort(), [
            ["cluster1", "v2 v1"],
            ["cluster3", "v1 v2"],
        ]);
        assert.equal(
            env.find((e) => e.CLUSTER === "cluster3")!.STOPPED,
            "the rollout (istio.rolloutOrder) stopped at cluster3: the Istio charts of the clusters after it, cluster1 (with cluster4), cluster2, were not changed",
        );
    });

    it("is not added on a first install, with a cluster that runs no Istio yet or was not read, without the traffic check, or without a rollout order", async () => {
        const cases: [string, StackConfigInput, Installed][] = [
            ["first install", mesh(["cluster1", "cluster2"]), running([])],
            ["the other cluster without Istio yet", mesh(["cluster1", "cluster2"]), running(["cluster1"])],
            ["a cluster joining", mesh(["cluster1", "cluster2", "cluster3"], [cluster1, cluster2, cluster3]), running(["cluster1", "cluster2"])],
            ["nothing read", mesh(["cluster1", "cluster2"]), {}],
            ["the other cluster not read", mesh(["cluster1", "cluster2"]), { cluster1: ALL.cluster1 }],
            ["verify off", mesh(["cluster1", "cluster2"], undefined, { verify: { enabled: false } }), ALL],
            ["no test app", mesh(["cluster1", "cluster2"], undefined, { testApp: { enabled: false } }), ALL],
            ["no order", mesh(undefined), ALL],
        ];
        for (const [title, raw, installed] of cases) {
            const resources = await registered(raw, installed);
            assert.deepEqual(gateJobs(resources), [], title);
            assert.deepEqual(resources.filter((r) => r.type === GATE), [], title);
        }
    });

    it("waits for cluster1's charts and its peer-sync check, and for nothing of the test app, a remote secret or another cluster's charts", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"], [cluster1, remote, cluster2]), ALL);
        const [job] = gateJobs(resources);
        const waited = waitsOn(resources, job.urn);
        const charts = waited.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart").map((r) => r.name).sort();
        assert.deepEqual(charts, ["cluster1-istio-base", "cluster1-istio-eastwestgateway", "cluster1-istiod", "cluster4-istio-base", "cluster4-istiod"]);
        assert.ok(waited.some((r) => r.type === JOB && r.name === "cluster1-peer-sync-check"), "the gate does not wait for the peer-sync check");
        assert.deepEqual(waited.filter((r) => within(resources, r, "istio-multicluster:app:TestApp")).map((r) => r.name), []);
        assert.deepEqual(waited.filter((r) => within(resources, r, "istio-multicluster:mesh:RemoteSecret")).map((r) => r.name), []);
        // cluster2's `cacerts` may come first (each keeps its own order), but none of its charts or checks.
        assert.deepEqual(waited.filter((r) => r.name.startsWith("cluster2-") && [JOB, "kubernetes:helm.sh/v4:Chart"].includes(r.type)).map((r) => r.name), []);
    });

    it("holds back the next cluster's charts, not its own cluster's", async () => {
        const resources = await registered(mesh(["cluster1", "cluster2"]), ALL);
        const [job] = gateJobs(resources);
        for (const chart of ["cluster2-istio-base", "cluster2-istiod", "cluster2-istio-eastwestgateway"]) {
            assert.ok(resources.find((r) => r.name === chart)!.dependencies.includes(job.urn), `${chart} does not wait for the gate`);
        }
        for (const chart of ["cluster1-istio-base", "cluster1-istiod", "cluster1-istio-eastwestgateway"]) {
            assert.ok(!waitsOn(resources, resources.find((r) => r.name === chart)!.urn).some((r) => r.urn === job.urn), `${chart} waits for its own gate`);
        }
    });

    it("runs again when the checkpoint's charts or the check's settings change, not otherwise", async () => {
        const nameWith = async (more: Partial<StackConfigInput>) =>
            gateJobs(await registered({ ...mesh(["cluster1", "cluster2"]), ...more, istio: { rolloutOrder: ["cluster1", "cluster2"], ...more.istio } }, ALL))[0].inputs.metadata.name;
        const before = await nameWith({ istio: { version: "1.30.4" } });
        assert.equal(await nameWith({ istio: { version: "1.30.4" } }), before);
        assert.notEqual(await nameWith({ istio: { version: "1.31.1" } }), before);
        assert.notEqual(await nameWith({ istio: { version: "1.30.4", values: { gateway: { podAnnotations: { a: "b" } } } } }), before);
        assert.notEqual(await nameWith({ istio: { version: "1.30.4" }, verify: { attempts: 3 } }), before);
    });

    it("leaves the test app's check as it was", async () => {
        const [job] = (await registered(mesh(["cluster1", "cluster2"]), ALL)).filter((r) => r.type === JOB && r.name === "cluster1-cross-cluster-check");
        assert.deepEqual(job.inputs.spec.template.spec.containers[0].command, ["/bin/sh", "-c", fs.readFileSync("scripts/cross-cluster-check.sh", "utf8")]);
        assert.deepEqual(job.inputs.spec.template.metadata.labels, { app: "cross-cluster-check" });
        assert.deepEqual(Object.keys(jobEnv(job)), ["CLUSTER", "EXPECTED_VERSIONS", "REQUESTS", "ATTEMPTS"]);
    });

    it("is logged with the rollout order: which clusters get it, which do not and why", async (t) => {
        const info = t.mock.method(pulumi.log, "info", () => undefined);
        const notes = async (raw: StackConfigInput, installed: Installed) => {
            info.mock.resetCalls();
            await registered(raw, installed);
            return info.mock.calls.map((c) => String(c.arguments[0])).filter((m) => m.startsWith("rollout order"));
        };
        const three = mesh(["cluster1", "cluster2", "cluster3"], [cluster1, cluster2, cluster3]);
        const gates = (await notes(three, ALL)).map((m) => m.slice(m.lastIndexOf("; traffic gate") + 2));
        assert.deepEqual(gates, [
            "traffic gate (from the cluster, every other cluster's helloworld answers through the mesh) before the next cluster moves in cluster1, cluster2; none in cluster3 (the last in the order, which no cluster waits for)",
        ]);
        const off = (await notes({ ...three, verify: { enabled: false } }, ALL)).map((m) => m.slice(m.lastIndexOf("; no traffic gate") + 2));
        assert.deepEqual(off, ["no traffic gate: cluster1 (verify.enabled is false), cluster2 (verify.enabled is false), cluster3 (the last in the order, which no cluster waits for)"]);
        const first = (await notes(three, running(["cluster1", "cluster2"]))).map((m) => m.slice(m.lastIndexOf("; no traffic gate") + 2));
        assert.deepEqual(first, [
            "no traffic gate: cluster1 (a first install: cluster3 runs no Istio yet), cluster2 (a first install: cluster3 runs no Istio yet), cluster3 (the last in the order, which no cluster waits for)",
        ]);
    });
});

describe("planTrafficGates and stoppedAt", () => {
    const plan = planMesh([
        { name: "a", network: "n", role: "primary" },
        { name: "r", network: "n", role: "remote", primary: "a" },
        { name: "b", network: "n", role: "primary" },
        { name: "c", network: "n", role: "primary" },
    ]);
    const versions = { a: "v1", r: "v1", b: "v2", c: "v1" } as const;
    const runs = (names: string[]): Installed => Object.fromEntries(names.map((n) => [n, [{ webhook: "w", revision: "", version: "1.30.4" }]]));

    it("gates every primary but the last when every cluster runs Istio, expecting the other clusters' versions", () => {
        const { gated, ungated } = planTrafficGates({ order: ["b", "a", "c"], plan, versions, installed: runs(["a", "r", "b", "c"]), verify: true });
        assert.deepEqual([...gated], [
            ["b", ["v1"]],
            ["a", ["v1", "v2"]],
        ]);
        assert.deepEqual(ungated, [{ cluster: "c", reason: "the last in the order, which no cluster waits for" }]);
    });

    it("gates none for an empty order, with the check off, or where a cluster runs no Istio or was not read", () => {
        const order = ["a", "b", "c"];
        assert.deepEqual(planTrafficGates({ order: [], plan, versions, installed: runs(["a", "r", "b", "c"]), verify: true }), { gated: new Map(), ungated: [] });
        const reasons = (installed: Installed, verify = true) => planTrafficGates({ order, plan, versions, installed, verify }).ungated.map((u) => u.reason);
        assert.deepEqual(reasons(runs(["a", "r", "b", "c"]), false).slice(0, 2), ["verify.enabled is false", "verify.enabled is false"]);
        assert.deepEqual(reasons({ ...runs(["a", "b", "c"]), r: [] })[0], "a first install: r runs no Istio yet");
        assert.deepEqual(reasons(runs(["a", "b"]))[0], "r, c not read: kind, behind a proxy, or not allowed to list webhooks");
    });

    it("names the clusters the rollout did not reach, remotes with their primary", () => {
        assert.equal(stoppedAt(["b", "a", "c"], plan, "b"), "the rollout (istio.rolloutOrder) stopped at b: the Istio charts of the clusters after it, a (with r), c, were not changed");
        assert.equal(stoppedAt(["b", "a", "c"], plan, "a"), "the rollout (istio.rolloutOrder) stopped at a: the Istio charts of the clusters after it, c, were not changed");
    });
});
