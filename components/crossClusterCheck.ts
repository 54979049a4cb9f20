import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import { checkJob } from "./checkJob";
import { HelloworldVersion } from "./testApp";

/** What the check's container runs (POSIX sh, for the curl image's BusyBox shell); read once, at program start. */
const SCRIPT = fs.readFileSync("scripts/cross-cluster-check.sh", "utf8");
/** What one attempt may take at most: every request's 3 s timeout, then the 5 s pause before the next. */
const secondsPerAttempt = (requests: number) => requests * 3 + 5;
/** For the pod to be scheduled, pull its images and start its sidecar before the first request. */
const STARTUP_SECONDS = 300;

/** What the check sends and expects, from which cluster. */
export interface CrossClusterSettings {
    readonly clusterName: string;
    readonly curlImage: string;
    /** Every version that must answer, wherever it runs. */
    readonly expectedVersions: readonly HelloworldVersion[];
    readonly requests: number;
    readonly attempts: number;
}

export interface CrossClusterCheckArgs extends CrossClusterSettings {
    readonly provider: k8s.Provider;
    /** The test app's namespace in this cluster (sidecar injection on). */
    readonly namespace: pulumi.Input<string>;
    /** Changes to these (the mesh and the test app) run the check again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/** Runs the check script in another: `script`, given the check script as `$1`, with `env` added. */
export interface CheckWrapper {
    readonly script: string;
    readonly env: readonly { readonly name: string; readonly value: string }[];
}

/**
 * The pod that runs the check from behind a sidecar, in a namespace with injection on (labelled `app`),
 * and the most its Job may take. The sidecar exits when the script asks it to, so the pod completes.
 */
export function crossClusterPod(args: CrossClusterSettings, app: string, wrapper?: CheckWrapper) {
    const activeDeadlineSeconds = STARTUP_SECONDS + args.attempts * secondsPerAttempt(args.requests);
    const template = {
        metadata: {
            labels: { app },
            // curl starts once the sidecar is ready, so that the first requests already go through the mesh.
            annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}' },
        },
        spec: {
            restartPolicy: "Never",
            containers: [
                {
                    name: "check",
                    image: args.curlImage,
                    command: wrapper === undefined ? ["/bin/sh", "-c", SCRIPT] : ["/bin/sh", "-c", wrapper.script, app, SCRIPT],
                    env: [
                        { name: "CLUSTER", value: args.clusterName },
                        { name: "EXPECTED_VERSIONS", value: args.expectedVersions.join(" ") },
                        { name: "REQUESTS", value: String(args.requests) },
                        { name: "ATTEMPTS", value: String(args.attempts) },
                        ...(wrapper?.env ?? []),
                    ],
                    terminationMessagePolicy: "FallbackToLogsOnError",
                },
            ],
        },
    };
    return { template, activeDeadlineSeconds };
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
 * The Job runs again when the triggers change (components/checkJob.ts).
 */
export class CrossClusterCheck extends pulumi.ComponentResource {
    readonly result: pulumi.Output<CrossClusterResult>;

    constructor(name: string, args: CrossClusterCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:verify:CrossClusterCheck", name, {}, opts);
        const { template, activeDeadlineSeconds } = crossClusterPod(args, "cross-cluster-check");
        const job = checkJob(
            name,
            { check: "cross-cluster-check", provider: args.provider, namespace: args.namespace, template, activeDeadlineSeconds, triggers: args.triggers },
            { parent: this, dependsOn: opts?.dependsOn },
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
