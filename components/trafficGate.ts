import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import { checkJob } from "./checkJob";
import { crossClusterPod, CrossClusterSettings } from "./crossClusterCheck";

/** Runs the cross-cluster check and, when it fails, adds where the rollout stopped; read once, at program start. */
const WRAPPER = fs.readFileSync("scripts/traffic-gate.sh", "utf8");
/** The gate's own namespace: not the test app's, which waits for every cluster's mesh. */
const GATE_NAMESPACE = "istio-rollout-gate";

export interface TrafficGateArgs extends CrossClusterSettings {
    readonly provider: k8s.Provider;
    /** Added to a failed check's verdict: where the rollout stopped and which clusters it did not change. */
    readonly stopped: string;
    /** Changes to these (the checkpoint's charts) run the gate again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/**
 * A step of `istio.rolloutOrder`: the cross-cluster traffic check from one primary, once its control
 * plane has changed, before the next cluster's charts change. Its Job runs in a namespace of its own with
 * sidecar injection on, so it waits for nothing but this cluster's control plane (the component's
 * dependsOn); the pod's sidecar exits when the check asks it to (components/crossClusterCheck.ts). Pulumi
 * awaits the Job; if it fails, `pulumi up` fails naming the cluster, the versions that never answered and
 * the clusters the rollout did not reach. It runs again when the triggers change (components/checkJob.ts).
 */
export class TrafficGate extends pulumi.ComponentResource {
    readonly job: k8s.batch.v1.Job;
    readonly jobName: pulumi.Output<string>;

    constructor(name: string, args: TrafficGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:verify:TrafficGate", name, {}, opts);
        // Nothing to wait for: the namespace holds no pod until the Job, which waits for the control plane.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-traffic-gate-namespace`,
            { metadata: { name: GATE_NAMESPACE, labels: { "istio-injection": "enabled" } } },
            { parent: this, provider: args.provider },
        );
        const { template, activeDeadlineSeconds } = crossClusterPod(args, "traffic-gate", { script: WRAPPER, env: [{ name: "STOPPED", value: args.stopped }] });
        this.job = checkJob(
            name,
            { check: "traffic-gate", provider: args.provider, namespace: namespace.metadata.name, template, activeDeadlineSeconds, triggers: args.triggers },
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.jobName = this.job.metadata.name;
        this.registerOutputs({ jobName: this.jobName });
    }
}
