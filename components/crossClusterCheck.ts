import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { HelloworldVersion } from "./testApp";

/** What the check's container runs (POSIX sh, for the curl image's BusyBox shell); read once, at program start. */
const SCRIPT = fs.readFileSync("scripts/cross-cluster-check.sh", "utf8");
/** What one attempt may take at most: every request's 3 s timeout, then the 5 s pause before the next. */
const secondsPerAttempt = (requests: number) => requests * 3 + 5;
/** For the pod to be scheduled, pull its images and start its sidecar before the first request. */
const STARTUP_SECONDS = 300;

export interface CrossClusterCheckArgs {
    readonly clusterName: string;
    readonly provider: k8s.Provider;
    /** The test app's namespace in this cluster (sidecar injection on). */
    readonly namespace: pulumi.Input<string>;
    readonly curlImage: string;
    /** Every version that must answer, wherever it runs. */
    readonly expectedVersions: readonly HelloworldVersion[];
    readonly requests: number;
    readonly attempts: number;
    /** Changes to these (the mesh and the test app) run the check again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/** One cluster's check, as the stack output reports it. */
export interface CrossClusterResult {
    readonly cluster: string;
    readonly namespace: string;
    readonly job: string;
    readonly expectedVersions: readonly HelloworldVersion[];
    /** Pods of the Job that succeeded (1 once the check passed). */
    readonly succeeded: number;
    readonly completionTime: string | undefined;
}

/**
 * Proves that traffic crosses clusters: a Job in this cluster's test-app namespace sends requests to
 * `helloworld.sample:5000/hello` from behind an Istio sidecar, and every helloworld version must answer,
 * including those that only run in other clusters. Pulumi awaits the Job; if it fails, `pulumi up` fails
 * with the container's termination message, which names the cluster and the versions that never answered.
 * Nothing runs on the machine running Pulumi, which needs neither kubectl nor a route to the pods.
 *
 * A Job's pod template cannot change, and a Job runs once: the Job's name carries a digest of the
 * triggers and of the pod template, so that a change to either makes Pulumi create a new Job (the check
 * runs again) and then delete the old one.
 */
export class CrossClusterCheck extends pulumi.ComponentResource {
    readonly result: pulumi.Output<CrossClusterResult>;

    constructor(name: string, args: CrossClusterCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:verify:CrossClusterCheck", name, {}, opts);
        const activeDeadlineSeconds = STARTUP_SECONDS + args.attempts * secondsPerAttempt(args.requests);
        const template = {
            metadata: {
                labels: { app: "cross-cluster-check" },
                // curl starts once the sidecar is ready, so that the first requests already go through the mesh.
                annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}' },
            },
            spec: {
                restartPolicy: "Never",
                containers: [
                    {
                        name: "check",
                        image: args.curlImage,
                        command: ["/bin/sh", "-c", SCRIPT],
                        env: [
                            { name: "CLUSTER", value: args.clusterName },
                            { name: "EXPECTED_VERSIONS", value: args.expectedVersions.join(" ") },
                            { name: "REQUESTS", value: String(args.requests) },
                            { name: "ATTEMPTS", value: String(args.attempts) },
                        ],
                        terminationMessagePolicy: "FallbackToLogsOnError",
                    },
                ],
            },
        };
        const jobName = pulumi.all(args.triggers).apply((triggers) => {
            const digest = createHash("sha256").update(JSON.stringify({ triggers, template })).digest("hex");
            return `cross-cluster-check-${digest.slice(0, 10)}`;
        });
        const job = new k8s.batch.v1.Job(
            `${name}-cross-cluster-check`,
            {
                metadata: {
                    name: jobName,
                    namespace: args.namespace,
                    // Never `pulumi.com/skipAwait`, whatever `workloads.awaitReady` says: awaiting the Job is the
                    // check.
                    annotations: {
                        // A Job that failed stays in the state with its name; the next `pulumi up` deletes it
                        // and creates it again, so that the check runs again rather than failing at once.
                        "pulumi.com/replaceUnready": "true",
                        // Deleting the Job deletes its pod (Pulumi's default, said here as it is relied on).
                        "pulumi.com/deletionPropagationPolicy": "foreground",
                    },
                },
                // No ttlSecondsAfterFinished: Pulumi reads the Job back after it has finished.
                spec: { backoffLimit: 0, activeDeadlineSeconds, template },
            },
            {
                parent: this,
                provider: args.provider,
                dependsOn: opts?.dependsOn,
                // Pulumi gives up on a Job after 10 minutes by default: let the Job's own deadline fail it first.
                customTimeouts: { create: `${activeDeadlineSeconds + 60}s`, update: `${activeDeadlineSeconds + 60}s` },
            },
        );
        this.result = pulumi
            .all([job.metadata, job.status])
            .apply(([metadata, status]) => ({
                cluster: args.clusterName,
                namespace: metadata.namespace,
                job: metadata.name,
                expectedVersions: args.expectedVersions,
                succeeded: status?.succeeded ?? 0,
                completionTime: status?.completionTime,
            }));
        this.registerOutputs({ result: this.result });
    }
}
