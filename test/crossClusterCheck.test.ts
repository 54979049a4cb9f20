import assert from "node:assert/strict";
import * as fs from "node:fs";
import { before, describe, it } from "node:test";
import { parseStackConfig } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

const CLUSTERS = ["cluster1", "cluster2"];

describe("the cross-cluster check's Job", () => {
    let resources: RecordedResource[];
    let jobs: RecordedResource[];

    before(async () => {
        ({ resources } = await runWithMocks(() => deployMesh(parseStackConfig({ ...TWO_CLUSTERS_TWO_NETWORKS, verify: { requests: 10, attempts: 4 } }).config), fakeState));
        jobs = resources.filter((r) => r.type === "kubernetes:batch/v1:Job");
    });

    it("is one per cluster, in the test app's namespace, through the cluster's provider, in a CrossClusterCheck", () => {
        assert.equal(jobs.length, CLUSTERS.length);
        for (const [i, cluster] of CLUSTERS.entries()) {
            const job = jobs[i];
            assert.equal(job.name, `${cluster}-cross-cluster-check`);
            assert.equal(job.inputs.metadata.namespace, "sample");
            assert.match(job.provider!, new RegExp(`::${cluster}-k8s::`));
            const parent = resources.find((r) => r.urn === job.parent)!;
            assert.equal(parent.type, "istio-multicluster:verify:CrossClusterCheck");
            assert.equal(parent.name, cluster);
            const namespace = resources.find((r) => r.name === `${cluster}-sample-namespace`)!;
            assert.ok(job.dependencies.includes(namespace.urn), "created in the namespace once it exists");
            assert.equal(namespace.inputs.metadata.labels["istio-injection"], "enabled", "so that its pod gets a sidecar");
        }
    });

    it("runs once, is awaited, keeps its status for Pulumi to read, runs again after a failure, takes its pod along", () => {
        for (const job of jobs) {
            assert.deepEqual(job.inputs.metadata.annotations, {
                "pulumi.com/replaceUnready": "true",
                "pulumi.com/deletionPropagationPolicy": "foreground",
            });
            const { template, ...spec } = job.inputs.spec;
            // 300 s to start, then per attempt 10 requests of at most 3 s and a 5 s pause.
            const deadline = 300 + 4 * (10 * 3 + 5);
            assert.deepEqual(spec, { backoffLimit: 0, activeDeadlineSeconds: deadline });
            assert.equal(template.spec.restartPolicy, "Never");
            // Pulumi's own 10-minute wait must not end before the Job's deadline fails it with its message.
            assert.deepEqual(job.timeouts, { create: `${deadline + 60}s`, update: `${deadline + 60}s` });
            // A new Job (new name) is created and awaited before the old one is deleted.
            assert.equal(job.deleteBeforeReplace, false);
        }
    });

    it("runs the check script with curl behind a sidecar that starts first", () => {
        const script = fs.readFileSync("scripts/cross-cluster-check.sh", "utf8");
        for (const [i, cluster] of CLUSTERS.entries()) {
            assert.deepEqual(jobs[i].inputs.spec.template, {
                metadata: {
                    labels: { app: "cross-cluster-check" },
                    annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}' },
                },
                spec: {
                    restartPolicy: "Never",
                    containers: [
                        {
                            name: "check",
                            image: "docker.io/curlimages/curl:8.16.0",
                            command: ["/bin/sh", "-c", script],
                            env: [
                                { name: "CLUSTER", value: cluster },
                                { name: "EXPECTED_VERSIONS", value: "v1 v2" },
                                { name: "REQUESTS", value: "10" },
                                { name: "ATTEMPTS", value: "4" },
                            ],
                            terminationMessagePolicy: "FallbackToLogsOnError",
                        },
                    ],
                },
            });
        }
    });

    it("uses the configured curl image", async () => {
        const image = "registry.example.com/mirror/curl:8.16.0";
        const { resources } = await runWithMocks(() => deployMesh(parseStackConfig({ ...TWO_CLUSTERS_TWO_NETWORKS, images: { curl: image } }).config), fakeState);
        const images = resources.filter((r) => r.type === "kubernetes:batch/v1:Job").map((j) => j.inputs.spec.template.spec.containers[0].image);
        assert.deepEqual(images, [image, image]);
    });

    it("is not registered when the verification is disabled", async () => {
        const { resources } = await runWithMocks(() => deployMesh(parseStackConfig({ ...TWO_CLUSTERS_TWO_NETWORKS, verify: { enabled: false } }).config), fakeState);
        assert.equal(resources.filter((r) => r.type === "kubernetes:batch/v1:Job" || r.type === "istio-multicluster:verify:CrossClusterCheck").length, 0);
    });
});
