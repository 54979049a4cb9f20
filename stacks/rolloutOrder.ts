/**
 * `istio.rolloutOrder` in the composition. Each primary's checkpoint is its istiod charts, its
 * east-west gateway's and its remotes' istiod charts, and on an existing mesh its peer-sync check
 * (stacks/peerSync.ts) and its traffic gate (stacks/trafficGate.ts); the Istio charts of a primary and of its remotes
 * are applied only after the checkpoint of the primary before it in the order. A dependsOn on a chart
 * waits until the provider has applied all its objects and, with workloads.awaitReady, seen them ready;
 * when one never is, `pulumi up` fails there and the charts of the clusters after it are never
 * registered, so they keep what they run.
 */
import * as pulumi from "@pulumi/pulumi";
import { PeerSyncPlan } from "./peerSync";
import { MeshPlan } from "./topology";
import type { TrafficGatePlan } from "./trafficGate";

export interface RolloutGates {
    /** What the charts of the clusters `primary` serves wait for; undefined for the first in the order, or without one. */
    after(primary: string): Promise<pulumi.Resource[]> | undefined;
    /** `primary`'s checkpoint, once composed: it may be composed after the clusters that wait for it. */
    reached(primary: string, checkpoint: pulumi.Resource[]): void;
}

export function rolloutGates(order: readonly string[]): RolloutGates {
    const reached = new Map<string, (checkpoint: pulumi.Resource[]) => void>();
    const checkpoints = new Map(order.map((name) => [name, new Promise<pulumi.Resource[]>((resolve) => reached.set(name, resolve))]));
    return {
        after: (primary) => {
            const i = order.indexOf(primary);
            return i > 0 ? checkpoints.get(order[i - 1]) : undefined;
        },
        reached: (primary, checkpoint) => reached.get(primary)?.(checkpoint),
    };
}

/** A primary's step in the order: its name, with its remotes. */
function stepOf(plan: MeshPlan, primary: string): string {
    const remotes = plan.clusters.filter((c) => c.role === "remote" && c.controlPlane === primary).map((c) => c.name);
    return remotes.length === 0 ? primary : `${primary} (with ${remotes.join(", ")})`;
}

/** Which primaries a check is in, and which it is not in and why: a part of the order's line. */
function checkedPart(check: string, what: string, checked: readonly string[], unchecked: readonly { readonly cluster: string; readonly reason: string }[]): string {
    const without = unchecked.map(({ cluster, reason }) => `${cluster} (${reason})`).join(", ");
    return checked.length === 0
        ? `no ${check}: ${without}`
        : `${check} (${what}) before the next cluster moves in ${checked.join(", ")}${without === "" ? "" : `; none in ${without}`}`;
}

/**
 * The line `pulumi preview` and `pulumi up` log, with which a failure's output says which clusters were
 * not touched, and which clusters' checkpoints include the peer-sync check and the traffic gate.
 */
export function rolloutOrderNote(order: readonly string[], plan: MeshPlan, peerSync: PeerSyncPlan, trafficGates: TrafficGatePlan): string {
    return (
        `rollout order: ${order.map((p) => stepOf(plan, p)).join(" → ")}; each cluster's Istio charts wait until the previous cluster's istiod and east-west gateway are ready, ` +
        `so when one fails, the clusters after it keep what they run; ` +
        `${checkedPart("peer-sync check", "istiod lists every peer it reads as synced", [...peerSync.checked.keys()], peerSync.unchecked)}; ` +
        checkedPart("traffic gate", "from the cluster, every other cluster's helloworld answers through the mesh", [...trafficGates.gated.keys()], trafficGates.ungated)
    );
}

/** What a failed traffic gate adds to the check's verdict: where the rollout stopped, and the clusters it did not reach. */
export function stoppedAt(order: readonly string[], plan: MeshPlan, primary: string): string {
    const after = order.slice(order.indexOf(primary) + 1).map((p) => stepOf(plan, p));
    return `the rollout (istio.rolloutOrder) stopped at ${primary}: the Istio charts of the clusters after it, ${after.join(", ")}, were not changed`;
}
