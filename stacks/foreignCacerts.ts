import * as pulumi from "@pulumi/pulumi";
import { CA_CERT_NOT_AFTER_ANNOTATION, ISTIO_NAMESPACE } from "../components/istioControlPlane";
import { STACK_ANNOTATION, stackIdentity } from "../components/ownership";
import { getFromEachCluster } from "./askClusters";
import { StackConfig } from "./config";
import { PROBE_TIMEOUT_MS } from "./reachability";
import { InstalledCacerts } from "./rootRotation";
import { stopProgram } from "./stopProgram";

/** Asks for the Secret's metadata only: the check never reads a certificate or key. */
const METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

interface ObjectMetadata {
    readonly annotations?: Record<string, string>;
    readonly managedFields?: ReadonlyArray<{ readonly manager?: string }>;
}

/** Who wrote an existing `cacerts`, when not this stack: another stack of this program, or the field managers. */
export function foreignWriter(metadata: ObjectMetadata, stack: string): string | undefined {
    const owner = metadata.annotations?.[STACK_ANNOTATION];
    if (owner === stack) {
        return undefined;
    }
    if (owner !== undefined) {
        return `the stack ${owner}`;
    }
    const managers = [...new Set((metadata.managedFields ?? []).map((f) => f.manager).filter((m) => m !== undefined))];
    return managers.length > 0 ? `not this program (field managers: ${managers.join(", ")})` : "not this program";
}

/** What the clusters' existing `cacerts` say: a problem per one this stack did not write, and what this stack's record. */
export interface ReadCacerts {
    readonly problems: string[];
    /** By cluster: the end of the intermediate in this stack's `cacerts` (its annotation), where it has one. */
    readonly caCertNotAfter: Readonly<Record<string, string>>;
    /** By cluster read: the annotations of this stack's `cacerts`, or null where there is none yet. */
    readonly annotations: InstalledCacerts;
}

/**
 * One problem per cluster given by kubeconfig whose `istio-system/cacerts` exists but was not written
 * by this stack. kind clusters are new, and a cluster behind a proxy is not asked (as for reachability).
 */
export async function foreignCacerts(clusters: StackConfig["clusters"], stack: string, timeoutMs: number): Promise<ReadCacerts> {
    const caCertNotAfter: Record<string, string> = {};
    const annotations: Record<string, Readonly<Record<string, string>> | null> = {};
    const answers = await getFromEachCluster(clusters, `/api/v1/namespaces/${ISTIO_NAMESPACE}/secrets/cacerts`, METADATA_ONLY, timeoutMs);
    const problems = answers.map(({ name, answer }) => {
        if ("failure" in answer) {
            return `${name}: could not look for an existing ${ISTIO_NAMESPACE}/cacerts: ${answer.failure}`;
        }
        if (answer.status === 404) {
            annotations[name] = null;
            return undefined;
        }
        if (answer.status === 403) {
            pulumi.log.warn(`cluster ${name}: the kubeconfig's user may not read ${ISTIO_NAMESPACE}/cacerts, so whether a site CA is there is not checked`);
            return undefined;
        }
        if (answer.status !== 200) {
            return `${name}: could not look for an existing ${ISTIO_NAMESPACE}/cacerts: HTTP ${answer.status} ${answer.statusMessage}`.trimEnd();
        }
        const metadata: ObjectMetadata = JSON.parse(answer.body).metadata ?? {};
        const writer = foreignWriter(metadata, stack);
        const notAfter = metadata.annotations?.[CA_CERT_NOT_AFTER_ANNOTATION];
        if (writer === undefined) {
            annotations[name] = metadata.annotations ?? {};
            if (notAfter !== undefined) {
                caCertNotAfter[name] = notAfter;
            }
        }
        return writer === undefined ? undefined : `${name}: ${ISTIO_NAMESPACE}/cacerts was written by ${writer}`;
    });
    return { problems: problems.filter((p): p is string => p !== undefined), caCertNotAfter, annotations };
}

/**
 * Stops the program before any resource is registered when a cluster already has a `cacerts` that this
 * stack did not write: a site's own CA, or another stack's. Returns, by cluster, when the intermediate in
 * this stack's own `cacerts` expires (for the warnings of stacks/caExpiry.ts) and its annotations (where
 * a root rotation stands, stacks/rootRotation.ts). The program applies `cacerts` with force (so
 * that `pulumi up` repairs an edit), and replacing a CA in use breaks every workload certificate it issued.
 */
export async function requireNoForeignCacerts(config: StackConfig, timeoutMs = PROBE_TIMEOUT_MS): Promise<Omit<ReadCacerts, "problems">> {
    const stack = stackIdentity();
    const { problems, ...read } = await foreignCacerts(config.clusters.filter((c) => !c.gone), stack, timeoutMs);
    if (problems.length > 0) {
        throw stopProgram(
            `An existing cacerts Secret would be overwritten; stopped before changing anything:\n` +
                problems.map((p) => `  - ${p}`).join("\n") +
                `\nTo make the mesh use that CA, give it as ca.rootCert and ca.intermediates and delete the Secret; if this stack` +
                ` wrote it (an earlier version of this program did not annotate it), mark it as this stack's:` +
                `\n  kubectl annotate secret cacerts -n ${ISTIO_NAMESPACE} ${STACK_ANNOTATION}=${stack}`,
        );
    }
    return read;
}
