import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

export interface CheckJobArgs {
    /** The Job's name before its digest (`<check>-<digest>`) and its resource name after the cluster's. */
    readonly check: string;
    readonly provider: k8s.Provider;
    readonly namespace: pulumi.Input<string>;
    /** The pod template: its container writes the check's verdict as its termination message. */
    readonly template: k8s.types.input.core.v1.PodTemplateSpec;
    /** What the Job may take at most: it fails at its deadline, before Pulumi stops waiting. */
    readonly activeDeadlineSeconds: number;
    /** Changes to these run the check again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/**
 * A check that `pulumi up` runs in a cluster and awaits: a Job of one pod, which fails `up` with its
 * container's termination message when the check fails.
 *
 * A Job's pod template cannot change, and a Job runs once: the Job's name carries a digest of the
 * triggers and of the pod template, so that a change to either makes Pulumi create a new Job (the check
 * runs again) and then delete the old one.
 */
export function checkJob(cluster: string, args: CheckJobArgs, opts: pulumi.CustomResourceOptions): k8s.batch.v1.Job {
    const jobName = pulumi.all(args.triggers).apply((triggers) => {
        const digest = createHash("sha256").update(JSON.stringify({ triggers, template: args.template })).digest("hex");
        return `${args.check}-${digest.slice(0, 10)}`;
    });
    return new k8s.batch.v1.Job(
        `${cluster}-${args.check}`,
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
            spec: { backoffLimit: 0, activeDeadlineSeconds: args.activeDeadlineSeconds, template: args.template },
        },
        {
            ...opts,
            provider: args.provider,
            // Pulumi gives up on a Job after 10 minutes by default: let the Job's own deadline fail it first.
            customTimeouts: { create: `${args.activeDeadlineSeconds + 60}s`, update: `${args.activeDeadlineSeconds + 60}s` },
        },
    );
}
