/**
 * Real packets: the program's mesh on two clusters and two networks, with a data plane that runs —
 * pods in network namespaces of their own, the injected sidecars and the east-west gateways as
 * pilot-agent + Envoy, a real istiod per cluster — and requests from one cluster's curl pod answered
 * by the other cluster's helloworld, through the other cluster's east-west gateway, with mTLS.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { DataPlane } from "./dataplane/dataPlane";
import { harnessDataPlane, trafficStackConfig, UPSTREAM_ENVOY_VALUES } from "./dataplane/trafficStack";
import { admin, CLUSTERS, inHarness, projectDir, work } from "./e2eStack";
import { getJson, mustKubectl, mustRun, waitFor } from "./kube";
import { ProjectStack } from "./projectStack";

const HELLO = "http://helloworld.sample:5000/hello";

describe("real packets through the mesh", { concurrency: 1 }, () => {
    let project: ProjectStack;
    let destroyed = false;
    const dataPlane = harnessDataPlane();

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/run.sh");
        project = await ProjectStack.create("traffic", projectDir);
        project.writeConfig(trafficStackConfig());
        dataPlane.start();
    });

    after(async () => {
        if (!destroyed) {
            await project.stack.destroy().catch(() => undefined);
        }
        await dataPlane.stop();
    });

    it("pulumi up, waiting for every workload and running its traffic check from both clusters, succeeds", async () => {
        const up = await project.stack.up();
        assert.equal(up.summary.result, "succeeded");
        const verification: any[] = up.outputs.verification.value;
        assert.deepEqual(verification.map((v) => [v.cluster, v.succeeded, v.expectedVersions]), [
            ["cluster1", 1, ["v1", "v2"]],
            ["cluster2", 1, ["v1", "v2"]],
        ]);
        for (const [i, cluster] of CLUSTERS.entries()) {
            const job = getJson(admin(cluster), ["job", verification[i].job, "-n", "sample"]);
            assert.equal(job.status.succeeded, 1, `${cluster}: the check Job`);
        }
        for (const prefix of ["istio-system/istio-eastwestgateway-", "sample/helloworld-", "sample/curl-"]) {
            const [namespace, name] = prefix.split("/");
            await dataPlane.waitRunning(namespace, name, 30);
        }
    });

    for (const [from, to] of [
        [1, 0],
        [0, 1],
    ]) {
        const version = `v${to + 1}`;
        it(`${CLUSTERS[from]}'s curl gets answers from helloworld ${version} in ${CLUSTERS[to]}, through ${CLUSTERS[to]}'s east-west gateway, with mTLS`, async () => {
            const answer = await waitFor(`${CLUSTERS[from]} -> helloworld ${version}`, 120, async () => {
                const reply = dataPlane.inPod(from, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]);
                return reply.includes(`version: ${version}`) ? reply : undefined;
            }, () => dataPlane.diagnose(from));
            assert.match(answer, new RegExp(`^Hello version: ${version}, instance: helloworld-${version}-`));
            // The networks are separate (no route between their pod IPs): the answer came through the gateway,
            // whose address the server's sidecar logs as the peer's.
            const gatewayIp = dataPlane.kubelets[to].find("istio-system", "istio-eastwestgateway-")!.podIp;
            await waitFor(`${CLUSTERS[to]}'s helloworld sidecar logs a request from its gateway`, 10, async () => helloworldSidecarServed(dataPlane, to, gatewayIp));
            const passthrough = gatewayStats(to);
            assert.ok(passthrough.accepted > 0, `${CLUSTERS[to]}'s gateway accepted no connection on 15443`);
            assert.ok(passthrough.toHelloworld > 0, `${CLUSTERS[to]}'s gateway opened no connection to helloworld (by SNI)`);
            // The server-side Envoy accepted the client's certificate and reports its identity to the app.
            const serverLog = helloworldLog(to);
            assert.match(serverLog, /URI=spiffe:\/\/cluster\.local\/ns\/sample\/sa\/curl/);
        });
    }

    it("leaves every Envoy and istiod without a rejected config", async () => {
        for (const [i] of CLUSTERS.entries()) {
            for (const prefix of ["sample/helloworld-", "sample/curl-", "istio-system/istio-eastwestgateway-"]) {
                const [namespace, name] = prefix.split("/");
                const stats = dataPlane.inPod(i, namespace, name, ["curl", "-sS", "http://127.0.0.1:15000/stats?filter=update_rejected"]);
                const rejected = stats.split("\n").filter((line) => /update_rejected: [1-9]/.test(line));
                assert.deepEqual(rejected, [], `${CLUSTERS[i]} ${prefix}`);
            }
            const metrics = await (await fetch(`http://${dataPlane.istiods[i].podIp}:15014/metrics`)).text();
            const rejects = metrics.split("\n").filter((line) => /^pilot_total_xds_rejects\S* [1-9]/.test(line));
            assert.deepEqual(rejects, [], `${CLUSTERS[i]} istiod`);
        }
    });

    it("without cluster1's remote secret for cluster2, cluster1 no longer reaches v2 while cluster2 still reaches v1; the next pulumi up restores it", async () => {
        mustKubectl(admin("cluster1"), ["delete", "secret", "istio-remote-secret-cluster2", "-n", "istio-system"]);
        await waitFor("cluster1 -> v2 fails", 60, async () => !versionsAnswering(0, 10).has("v2"), () => dataPlane.diagnose(0));
        assert.ok(versionsAnswering(1, 20).has("v1"), "cluster2 -> v1 stopped too");
        const up = await project.stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        await waitFor("cluster1 -> v2 again", 120, async () => versionsAnswering(0, 10).has("v2"), () => dataPlane.diagnose(0));
    });

    it("without cluster1's cross-network Gateway, cluster2 no longer reaches v1; the next pulumi up restores it", async () => {
        mustKubectl(admin("cluster1"), ["delete", "gateways.networking.istio.io", "cross-network-gateway", "-n", "istio-system"]);
        await waitFor("cluster2 -> v1 fails", 60, async () => !versionsAnswering(1, 10).has("v1"), () => dataPlane.diagnose(1));
        const up = await project.stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
        await waitFor("cluster2 -> v1 again", 120, async () => versionsAnswering(1, 10).has("v1"), () => dataPlane.diagnose(1));
    });

    it("with istio.rolloutOrder, a bad istiod change for both clusters stops at cluster1; cluster2 keeps what it runs; reverting it succeeds; a good change passes cluster1's peer-sync check and traffic gate before cluster2 moves; a change that breaks cluster1's traffic stops at its gate", async (t) => {
        // A realistic mistake: the keepalive age without its unit. pilot-discovery refuses the flag and exits, so
        // the new istiod pod never becomes ready. The short wait (the provider's annotation) fails `up` within a minute.
        const ordered = (istiod: Record<string, unknown> = {}) => {
            const config = trafficStackConfig();
            const istio = config.istio as { values: { istiod: Record<string, unknown> } };
            return { ...config, istio: { ...istio, rolloutOrder: [...CLUSTERS], values: { istiod: { ...istio.values.istiod, ...istiod } } } };
        };
        const bad = {
            pilot: { ...UPSTREAM_ENVOY_VALUES.pilot, keepaliveMaxServerConnectionAge: "30" },
            deploymentAnnotations: { "pulumi.com/timeoutSeconds": "45" },
        };
        const istiod = (i: number) => getJson(admin(CLUSTERS[i]), ["deployment", "istiod", "-n", "istio-system"]);
        const keepalive = (deployment: any) => {
            const args: string[] = deployment.spec.template.spec.containers.find((c: any) => c.name === "discovery").args;
            return args[args.indexOf("--keepaliveMaxServerConnectionAge") + 1];
        };
        const untouched = () => ({ deployment: { generation: istiod(1).metadata.generation, spec: istiod(1).spec }, objects: appliedByPulumi(CLUSTERS[1]), pid: dataPlane.istiods[1].pid });
        const before = untouched();
        assert.ok(before.pid, "cluster2's istiod does not run");
        assert.ok(before.objects["Deployment istio-system/istiod"]?.applied.length > 0, "no fields of cluster2's istiod Deployment are Pulumi's");

        // The Automation API's stdout leaves out the diagnostics; the engine's events carry them.
        const run = () => {
            const seen = {
                infos: [] as string[],
                errors: [] as { urn: string; message: string }[],
                changes: [] as { urn: string; op: string }[],
                // Each change's start and end, in the order the engine reports them.
                steps: [] as { urn: string; op: string; done: boolean }[],
            };
            const onEvent = (event: any) => {
                const diagnostic = event.diagnosticEvent;
                if (diagnostic?.severity === "info") {
                    seen.infos.push(diagnostic.message);
                } else if (diagnostic?.severity === "error") {
                    seen.errors.push({ urn: diagnostic.urn ?? "", message: diagnostic.message });
                }
                const step = event.resourcePreEvent?.metadata;
                if (step && !["same", "refresh", "read"].includes(step.op)) {
                    seen.changes.push({ urn: step.urn, op: step.op });
                    seen.steps.push({ urn: step.urn, op: step.op, done: false });
                }
                const done = event.resOutputsEvent?.metadata;
                if (done && !["same", "refresh", "read"].includes(done.op)) {
                    seen.steps.push({ urn: done.urn, op: done.op, done: true });
                }
            };
            return { seen, up: () => project.stack.up({ onEvent }) };
        };
        const ORDER = /rollout order: cluster1 → cluster2; each cluster's Istio charts wait until the previous cluster's istiod and east-west gateway are ready/;
        const CLUSTER2_CHARTS = /::cluster2-(istio-base|istiod|istio-eastwestgateway)(:|$)/;
        // Both clusters ran Istio before each of these runs: cluster1, not the last, gets the check.
        const PEER_SYNC = /; peer-sync check \(istiod lists every peer it reads as synced\) before the next cluster moves in cluster1; none in cluster2 \(the last in the order/;
        const PEER_SYNC_JOB = /::cluster1-peer-sync-check$/;
        const GATE = /; traffic gate \(from the cluster, every other cluster's helloworld answers through the mesh\) before the next cluster moves in cluster1; none in cluster2 \(the last in the order/;
        const GATE_JOB = /::cluster1-traffic-gate$/;
        /** The index in `steps` of the first step on `urn`: its start, or (done) its end. */
        const stepOf = (steps: { urn: string; done: boolean }[], urn: RegExp, done: boolean) => steps.findIndex((c) => urn.test(c.urn) && c.done === done);

        project.writeConfig(ordered(bad));
        const failing = run();
        await assert.rejects(failing.up());
        const { infos, errors, changes } = failing.seen;
        assert.ok(infos.some((m) => ORDER.test(m) && PEER_SYNC.test(m) && GATE.test(m)), `no rollout order with the peer-sync check and the traffic gate among: ${JSON.stringify(infos)}`);
        assert.deepEqual(changes.filter((c) => PEER_SYNC_JOB.test(c.urn)), [], "the peer-sync check ran after cluster1's istiod failed");
        assert.deepEqual(changes.filter((c) => GATE_JOB.test(c.urn)), [], "the traffic gate ran after cluster1's istiod failed");
        const istiodFailure = errors.find((e) => e.urn.endsWith("::cluster1-istiod:istio-system/istiod"));
        assert.match(istiodFailure?.message ?? JSON.stringify(errors), /'istiod' timed out waiting to be Ready/);
        assert.deepEqual(errors.filter((e) => /::cluster2-/.test(e.urn)), []);
        assert.ok(changes.some((c) => c.urn.endsWith("::cluster1-istiod:istio-system/istiod") && c.op === "update"), JSON.stringify(changes));
        assert.deepEqual(changes.filter((c) => CLUSTER2_CHARTS.test(c.urn)), [], "a step on cluster2's charts");
        // The change reached cluster1, with the program's own annotation kept beside the test's, and failed there.
        const changed = istiod(0);
        assert.equal(keepalive(changed), "30");
        assert.equal(changed.metadata.annotations["pulumi.com/timeoutSeconds"], "45");
        assert.match(changed.metadata.annotations["config.kubernetes.io/depends-on"], /ConfigMap\/istio-sidecar-injector$/);
        assert.match(fs.readFileSync(dataPlane.istiods[0].logFile, "utf8"), /invalid argument "30" for "--keepaliveMaxServerConnectionAge" flag/);
        // cluster2: no object of its charts applied again, its istiod not restarted; its curl still reaches both versions.
        assert.deepEqual(untouched(), before);
        assert.deepEqual([...versionsAnswering(1, 20)].sort(), ["v1", "v2"], "cluster2's traffic");

        project.writeConfig(ordered());
        const reverting = run();
        const up = await reverting.up();
        assert.equal(up.summary.result, "succeeded");
        assert.ok(reverting.seen.infos.some((m) => ORDER.test(m) && PEER_SYNC.test(m) && GATE.test(m)));
        assert.ok(reverting.seen.steps.some((c) => PEER_SYNC_JOB.test(c.urn) && c.op === "create" && c.done), "the revert did not run cluster1's peer-sync check");
        assert.ok(reverting.seen.steps.some((c) => GATE_JOB.test(c.urn) && c.op === "create" && c.done), "the revert did not run cluster1's traffic gate");
        assert.deepEqual(reverting.seen.changes.filter((c) => CLUSTER2_CHARTS.test(c.urn)), [], "the revert changed cluster2's charts");
        assert.equal(keepalive(istiod(0)), "30m");
        await waitFor("cluster1's istiod ready again", 120, async () => {
            const answers = (await fetch(`${dataPlane.istiods[0].debugUrl}/ready`).catch(() => undefined))?.ok;
            return answers && istiod(0).status.readyReplicas === 1;
        }, () => dataPlane.diagnose(0));
        assert.deepEqual(untouched(), before, "the revert changed cluster2");
        await waitFor("cluster1 -> v2", 120, async () => versionsAnswering(0, 10).has("v2"), () => dataPlane.diagnose(0));

        // A good change for both clusters (an annotation of istiod's Deployment): cluster1's peer-sync check and then
        // its traffic gate run again and complete before the engine starts on cluster2's istiod Deployment.
        const goodAnnotation = { deploymentAnnotations: { "example.com/rollout-step": "good" } };
        project.writeConfig(ordered(goodAnnotation));
        const good = run();
        assert.equal((await good.up()).summary.result, "succeeded");
        const CLUSTER2_ISTIOD = /::cluster2-istiod:istio-system\/istiod$/;
        const checked = stepOf(good.seen.steps, PEER_SYNC_JOB, true);
        const gateStarts = stepOf(good.seen.steps, GATE_JOB, false);
        const gated = stepOf(good.seen.steps, GATE_JOB, true);
        const cluster2Moves = stepOf(good.seen.steps, CLUSTER2_ISTIOD, false);
        assert.ok(checked >= 0 && gateStarts > checked && gated > gateStarts && cluster2Moves > gated, JSON.stringify(good.seen.steps));
        assert.equal(istiod(1).metadata.annotations["example.com/rollout-step"], "good");
        const jobs = getJson(admin(CLUSTERS[0]), ["jobs", "-n", "istio-system"]).items.filter((j: any) => j.metadata.name.startsWith("peer-sync-check-"));
        assert.deepEqual(jobs.map((j: any) => j.status.succeeded), [1], "one peer-sync Job, completed, in cluster1");
        const gates = getJson(admin(CLUSTERS[0]), ["jobs", "-n", "istio-rollout-gate"]).items;
        assert.deepEqual(gates.map((j: any) => [j.metadata.name.replace(/[0-9a-f]{10}$/, ""), j.status.succeeded]), [["traffic-gate-", 1]], "one traffic gate Job, completed, in cluster1");
        const pulumiApplied = (d: any) => d.metadata.managedFields.filter((m: any) => m.manager.startsWith("pulumi-kubernetes")).map((m: any) => m.time).sort().at(-1);
        const cluster2Changed = pulumiApplied(getJson(admin(CLUSTERS[1]), ["deployment", "istiod", "-n", "istio-system", "--show-managed-fields"]));
        const { startTime, completionTime } = jobs[0].status;
        const gateStatus = gates[0].status;
        assert.ok(completionTime <= gateStatus.startTime, `the peer-sync check completed at ${completionTime}, the gate started at ${gateStatus.startTime}`);
        assert.ok(gateStatus.completionTime <= cluster2Changed, `the gate completed at ${gateStatus.completionTime}, cluster2's istiod changed at ${cluster2Changed}`);
        // What the gate saw from cluster1, and cluster2's helloworld answering it with the gate pod's identity, after mTLS.
        const gatePod = getJson(admin(CLUSTERS[0]), ["pods", "-n", "istio-rollout-gate", "-l", `job-name=${gates[0].metadata.name}`]).items[0].metadata.name;
        const summary = JSON.parse(fs.readFileSync(path.join(`${podRoot(0, gatePod)}.logs`, "check.log"), "utf8").trim().split("\n").at(-1)!);
        assert.equal(summary.cluster, "cluster1");
        assert.ok(summary.answers.v2 > 0, JSON.stringify(summary));
        assert.match(helloworldLog(1), /URI=spiffe:\/\/cluster\.local\/ns\/istio-rollout-gate\/sa\/default/);
        t.diagnostic(`peer-sync Job ${jobs[0].metadata.name}: started ${startTime}, completed ${completionTime}`);
        t.diagnostic(`traffic gate Job ${gates[0].metadata.name}: started ${gateStatus.startTime}, completed ${gateStatus.completionTime} (${JSON.stringify(summary)})`);
        t.diagnostic(`cluster2's istiod Deployment applied ${cluster2Changed}`);

        // A change that leaves istiod ready and its peers synced but breaks cluster1's traffic to cluster2: without
        // auto mTLS, cluster1's sidecars send plain text to cluster2's gateway, whose passthrough routes by the SNI of
        // mTLS. (The pod annotation restarts istiod, which here reads its mesh config only at start, so the Deployment
        // waits for the mesh config's ConfigMap; a real istiod reads the changed file.) The gate fails `up` before
        // cluster2 is touched; few attempts, so that it fails soon.
        const withGood = untouched();
        const broken = ordered({
            deploymentAnnotations: { ...goodAnnotation.deploymentAnnotations, "config.kubernetes.io/depends-on": "/namespaces/istio-system/ConfigMap/istio" },
            meshConfig: { ...UPSTREAM_ENVOY_VALUES.meshConfig, enableAutoMtls: false },
            pilot: { ...UPSTREAM_ENVOY_VALUES.pilot, podAnnotations: { "example.com/rollout-step": "no-auto-mtls" } },
        });
        project.writeConfig({ ...broken, verify: { enabled: true, attempts: 2, requests: 5 } });
        const stopped = run();
        const failure = await stopped.up().then(
            () => undefined,
            (error: Error) => error,
        );
        const afterGate = { cluster2: untouched(), cluster2Answers: [...versionsAnswering(1, 20)].sort() };
        // Back to the good change; cluster2 has nothing to change.
        project.writeConfig(ordered(goodAnnotation));
        const restoring = run();
        assert.equal((await restoring.up()).summary.result, "succeeded");
        assert.ok(restoring.seen.steps.some((c) => GATE_JOB.test(c.urn) && c.done), "the restore did not run cluster1's traffic gate");
        assert.deepEqual(restoring.seen.changes.filter((c) => CLUSTER2_CHARTS.test(c.urn)), [], "the restore changed cluster2's charts");

        assert.ok(failure, "pulumi up passed cluster1's traffic gate without auto mTLS");
        assert.match(
            failure.message,
            /cross-cluster check failed: from cluster cluster1, helloworld v2 never answered \(10 requests over 2 attempts; versions that did answer: v1\).*; the rollout \(istio\.rolloutOrder\) stopped at cluster1: the Istio charts of the clusters after it, cluster2, were not changed/,
        );
        const gateFailed = stopped.seen.errors.find((e) => GATE_JOB.test(e.urn));
        assert.ok(gateFailed, `no error on cluster1's traffic gate among: ${JSON.stringify(stopped.seen.errors)}`);
        assert.deepEqual(stopped.seen.errors.filter((e) => /::cluster2-/.test(e.urn)), []);
        assert.ok(stepOf(stopped.seen.steps, PEER_SYNC_JOB, true) >= 0, "cluster1's peer-sync check did not pass before the gate");
        assert.deepEqual(stopped.seen.changes.filter((c) => CLUSTER2_CHARTS.test(c.urn)), [], "a step on cluster2's charts");
        assert.deepEqual(afterGate.cluster2, withGood, "cluster2 changed");
        assert.deepEqual(afterGate.cluster2Answers, ["v1", "v2"], "cluster2's traffic");
        t.diagnostic(`stopped at cluster1's traffic gate: ${gateFailed.message.split("\n").find((l) => l.includes("cross-cluster check failed")) ?? gateFailed.message}`);
    });

    it("fails pulumi up with the check's message when a cluster's cacerts chains to another root", async () => {
        // cluster2's istiod and workloads move to another root out of band; mTLS to and from cluster1 fails.
        const foreign = JSON.parse(mustRun("bash", ["test/e2e/make-ca.sh", "cluster2"]).stdout);
        const { cert, key } = foreign.intermediates.cluster2;
        const cacerts = {
            "ca-cert.pem": cert,
            "ca-key.pem": key,
            "root-cert.pem": foreign.rootCert,
            "cert-chain.pem": `${cert.trimEnd()}\n${foreign.rootCert.trimEnd()}\n`,
        };
        const data = Object.fromEntries(Object.entries(cacerts).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
        mustKubectl(admin("cluster2"), ["patch", "secret", "cacerts", "-n", "istio-system", "--type=merge", "-p", JSON.stringify({ data })]);
        for (const namespace of ["istio-system", "sample"]) {
            mustKubectl(admin("cluster2"), ["delete", "pods", "--all", "-n", namespace, "--wait=false"]);
        }
        await dataPlane.waitRunning("sample", "helloworld-", 180);
        // A check with other settings is a new Job; few attempts, so that it fails soon.
        project.writeConfig(trafficStackConfig({ attempts: 2, requests: 5 }));
        await assert.rejects(project.stack.up(), (error: Error) => {
            assert.match(error.message, /cross-cluster check failed: from cluster cluster1, helloworld v2 never answered/);
            assert.match(error.message, /cross-cluster check failed: from cluster cluster2, helloworld v1 never answered/);
            return true;
        });
    });

    it("pulumi destroy removes the mesh; the kubelets stop every pod it deleted", async () => {
        await project.stack.destroy();
        destroyed = true;
        for (const [i, cluster] of CLUSTERS.entries()) {
            await waitFor(`${cluster}: every pod stopped`, 60, async () => dataPlane.kubelets[i].runningPods === 0, () => dataPlane.diagnose(i));
        }
    });

    it("on one network, the check passes and requests go pod to pod, through no gateway", async () => {
        await dataPlane.stop();
        const flat = harnessDataPlane(["network1", "network1"]);
        const oneNetwork = await ProjectStack.create("traffic-one-network", projectDir);
        oneNetwork.writeConfig(trafficStackConfig({}, ["network1", "network1"]));
        flat.start();
        try {
            const up = await oneNetwork.stack.up();
            assert.deepEqual(up.outputs.verification.value.map((v: any) => v.succeeded), [1, 1]);
            assert.equal(flat.kubelets[0].find("istio-system", "istio-eastwestgateway-"), undefined, "no east-west gateway on one network");
            const curlIp = flat.kubelets[1].find("sample", "curl-")!.podIp;
            await waitFor("cluster2 -> v1", 60, async () => flat.tryInPod(1, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]).includes("version: v1"));
            // The server's sidecar logs each request with the peer's address: cluster2's curl pod itself.
            await waitFor(`cluster1's helloworld sidecar logs a request from ${curlIp}`, 10, async () => helloworldSidecarServed(flat, 0, curlIp));
            await oneNetwork.stack.destroy();
        } finally {
            await flat.stop();
        }
    });

    /** The root directory of cluster `i`'s pod `name` (its logs are beside it, in `<root>.logs`). */
    function podRoot(i: number, name: string): string {
        return path.join(work, "pods", `node-${CLUSTERS[i]}-${name}`);
    }

    /**
     * Whether the access log of cluster `i`'s helloworld sidecar has an inbound request whose peer was
     * `sourceIp` (Envoy writes it out once a second).
     */
    function helloworldSidecarServed(plane: DataPlane, i: number, sourceIp: string): boolean {
        const pod = plane.kubelets[i].find("sample", "helloworld-")!;
        const log = fs.readFileSync(path.join(`${podRoot(i, pod.pod.metadata.name)}.logs`, "istio-proxy.log"), "utf8");
        // Istio's access log format: ... <upstream cluster> <upstream local> <downstream local> <downstream remote> ...
        return new RegExp(`inbound\\|5000\\|\\| \\S+ \\S+ ${sourceIp.replace(/\./g, "\\.")}:\\d+ `).test(log);
    }

    /**
     * What Pulumi applied to each object of `cluster`'s Istio charts (base, istiod, east-west gateway), by
     * `<kind> <namespace>/<name>`: its generation and the fields Pulumi's field manager owns, with the time
     * it last changed them. A chart object applied again with a change shows here; status writes do not.
     */
    function appliedByPulumi(cluster: string): Record<string, { generation?: number; applied: unknown[] }> {
        const resources: any[] = JSON.parse(project.exportState()).deployment.resources;
        const charts = ["istio-base", "istiod", "istio-eastwestgateway"].map((chart) => `${cluster}-${chart}`);
        const chartUrns = new Set(resources.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart" && charts.includes(r.urn.split("::").pop())).map((r) => r.urn));
        assert.equal(chartUrns.size, charts.length, `${cluster}'s charts in the state`);
        const key = (o: any) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
        const inCharts = resources.filter((r) => chartUrns.has(r.parent) && r.outputs?.kind).map((r) => r.outputs);
        const objects = new Set(inCharts.map(key));
        // Each kind as kubectl names it: `deployment.apps`, `configmap`.
        const types = new Set(inCharts.map((o) => [o.kind.toLowerCase(), ...(o.apiVersion.includes("/") ? [o.apiVersion.split("/")[0]] : [])].join(".")));
        const listed = getJson(admin(cluster), [[...types].join(","), "--all-namespaces", "--show-managed-fields"]).items.filter((o: any) => objects.has(key(o)));
        assert.equal(listed.length, objects.size, `${cluster}: an object of its charts is missing`);
        return Object.fromEntries(
            listed.map((o: any) => [key(o), { generation: o.metadata.generation, applied: (o.metadata.managedFields ?? []).filter((m: any) => m.manager.startsWith("pulumi-kubernetes")) }]),
        );
    }

    /** The helloworld versions that answered `requests` requests from cluster `i`'s curl pod. */
    function versionsAnswering(i: number, requests: number): Set<string> {
        const versions = new Set<string>();
        for (let n = 0; n < requests; n++) {
            const reply = dataPlane.tryInPod(i, "sample", "curl-", ["curl", "-sS", "--max-time", "3", HELLO]);
            const version = /version: (v\d+)/.exec(reply)?.[1];
            if (version) {
                versions.add(version);
            }
        }
        return versions;
    }

    /** Connections cluster `i`'s east-west gateway accepted on 15443 and opened to helloworld, the cluster its SNI names. */
    function gatewayStats(i: number): { accepted: number; toHelloworld: number } {
        const stats = dataPlane.inPod(i, "istio-system", "istio-eastwestgateway-", ["curl", "-sS", "http://127.0.0.1:15000/stats"]);
        const counter = (name: string) => Number(new RegExp(`^${name.replace(/\./g, "\\.")}: (\\d+)$`, "m").exec(stats)?.[1] ?? 0);
        return {
            accepted: counter("listener.0.0.0.0_15443.downstream_cx_total"),
            // As Envoy 1.40 prints this cluster's stats: a ";" after the cluster's name.
            toHelloworld: counter("cluster.outbound_.5000_._.helloworld.sample.svc.cluster.local;.upstream_cx_total"),
        };
    }

    /** The access log of cluster `i`'s helloworld sidecar and the app's own log. */
    function helloworldLog(i: number): string {
        const pod = dataPlane.kubelets[i].find("sample", "helloworld-")!;
        const logs = `${podRoot(i, pod.pod.metadata.name)}.logs`;
        return fs.readdirSync(logs).map((file) => fs.readFileSync(path.join(logs, file), "utf8")).join("\n");
    }
});
