/**
 * Which primaries of `istio.rolloutOrder` get a traffic gate in their checkpoint: the traffic check, run
 * from the primary once its istiod charts are applied, before the next primary's charts change. It needs
 * helloworld running behind a sidecar in every other cluster; the test app waits for every cluster's
 * mesh, so on a first install (or with a cluster that joins now) it would wait for this checkpoint. So
 * only where every cluster, read before any resource is registered, already runs Istio.
 */
import { HelloworldVersion } from "../components/testApp";
import type { Installed } from "./installedRevisions";
import { MeshPlan } from "./topology";

export interface TrafficGatePlan {
    /** By primary, the versions that must answer from it: those the other clusters run. */
    readonly gated: ReadonlyMap<string, readonly HelloworldVersion[]>;
    /** The primaries without a gate, each with why. */
    readonly ungated: readonly { readonly cluster: string; readonly reason: string }[];
}

export interface TrafficGateInputs {
    readonly order: readonly string[];
    readonly plan: MeshPlan;
    /** By cluster, the helloworld version it runs. */
    readonly versions: Readonly<Record<string, HelloworldVersion>>;
    readonly installed: Installed;
    /** The traffic check is on (it needs the test app). */
    readonly verify: boolean;
}

/** Every primary but the last, whose checkpoint no cluster waits for, when the check is on and every cluster runs Istio now. */
export function planTrafficGates({ order, plan, versions, installed, verify }: TrafficGateInputs): TrafficGatePlan {
    const everyone = plan.clusters.map((c) => c.name);
    const notRead = everyone.filter((c) => installed[c] === undefined);
    const withoutIstio = everyone.filter((c) => installed[c]?.length === 0);
    const gated = new Map<string, HelloworldVersion[]>();
    const ungated: { cluster: string; reason: string }[] = [];
    order.forEach((primary, i) => {
        if (i === order.length - 1) {
            ungated.push({ cluster: primary, reason: "the last in the order, which no cluster waits for" });
        } else if (!verify) {
            ungated.push({ cluster: primary, reason: "verify.enabled is false" });
        } else if (notRead.length > 0) {
            ungated.push({ cluster: primary, reason: `${notRead.join(", ")} not read: kind, behind a proxy, or not allowed to list webhooks` });
        } else if (withoutIstio.length > 0) {
            ungated.push({ cluster: primary, reason: `a first install: ${withoutIstio.join(", ")} run${withoutIstio.length === 1 ? "s" : ""} no Istio yet` });
        } else {
            gated.set(primary, [...new Set(everyone.filter((c) => c !== primary).map((c) => versions[c]))]);
        }
    });
    return { gated, ungated };
}
