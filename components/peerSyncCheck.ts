import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import { checkJob } from "./checkJob";
import { IN_PLACE } from "./helmValues";

/** What the check's container runs (POSIX sh, for the curl image's BusyBox shell); read once, at program start. */
const SCRIPT = fs.readFileSync("scripts/peer-sync-check.sh", "utf8");
/** Attempts 5 s apart: istiod lists a peer as synced once its informers have listed the peer's API server. */
const ATTEMPTS = 60;
/** For the pod to be scheduled and pull its image. */
const STARTUP_SECONDS = 300;
/** istiod answers its debug endpoints on 15014 only to callers it authenticates (this token) from its own namespace. */
const TOKEN_DIR = "/var/run/secrets/istio-ca";

export interface PeerSyncCheckArgs {
    readonly clusterName: string;
    readonly provider: k8s.Provider;
    /** istio-system of this cluster. */
    readonly namespace: pulumi.Input<string>;
    readonly curlImage: string;
    /** Every istiod revision the cluster runs (IN_PLACE for `istiod`). */
    readonly revisions: readonly string[];
    /** The Istio cluster names istiod must list as synced: those it reads through remote secrets. */
    readonly peers: readonly string[];
    /** Changes to these (the charts the check follows) run the check again. */
    readonly triggers: pulumi.Input<unknown>[];
}

/**
 * Proves that a primary's istiod has synced with every peer it reads: a Job in istio-system, without a
 * sidecar, asks each revision's istiod for `/debug/clusterz` until every peer is listed as synced. Pulumi
 * awaits the Job; if it fails, `pulumi up` fails with the container's termination message, which names
 * the cluster, the revision and the peers not synced. It runs again when the triggers change
 * (components/checkJob.ts).
 */
export class PeerSyncCheck extends pulumi.ComponentResource {
    readonly job: k8s.batch.v1.Job;
    readonly jobName: pulumi.Output<string>;

    constructor(name: string, args: PeerSyncCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:verify:PeerSyncCheck", name, {}, opts);
        const istiods = args.revisions.map((r) => (r === IN_PLACE ? "istiod" : `istiod-${r}`));
        // Per attempt: one clusterz request of at most 3 s per revision, then the 5 s pause.
        const activeDeadlineSeconds = STARTUP_SECONDS + ATTEMPTS * (istiods.length * 3 + 5);
        const template = {
            metadata: { labels: { app: "peer-sync-check", "sidecar.istio.io/inject": "false" } },
            spec: {
                restartPolicy: "Never",
                containers: [
                    {
                        name: "check",
                        image: args.curlImage,
                        command: ["/bin/sh", "-c", SCRIPT],
                        // The token's path is relative to it, as Istio's own binaries read theirs.
                        workingDir: "/",
                        env: [
                            { name: "CLUSTER", value: args.clusterName },
                            { name: "ISTIODS", value: istiods.join(" ") },
                            { name: "PEERS", value: args.peers.join(" ") },
                            { name: "ATTEMPTS", value: String(ATTEMPTS) },
                            { name: "TOKEN_FILE", value: `.${TOKEN_DIR}/token` },
                        ],
                        volumeMounts: [{ name: "istio-ca-token", mountPath: TOKEN_DIR, readOnly: true }],
                        terminationMessagePolicy: "FallbackToLogsOnError",
                    },
                ],
                volumes: [{ name: "istio-ca-token", projected: { sources: [{ serviceAccountToken: { audience: "istio-ca", path: "token", expirationSeconds: 3600 } }] } }],
            },
        };
        this.job = checkJob(
            name,
            { check: "peer-sync-check", provider: args.provider, namespace: args.namespace, template, activeDeadlineSeconds, triggers: args.triggers },
            { parent: this, dependsOn: opts?.dependsOn },
        );
        this.jobName = this.job.metadata.name;
        this.registerOutputs({ jobName: this.jobName });
    }
}
