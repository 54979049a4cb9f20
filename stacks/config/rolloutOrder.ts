/** `istio.rolloutOrder`: each primary of the mesh once, and only where Pulumi waits for readiness. */
import { z } from "zod";
import { clusters as clustersSchema, rolesOf } from "./clusters";
import { istio as istioSchema } from "./istio";
import { onceValid, Rule } from "./keys";
import { problem, report } from "./problems";
import { workloads as workloadsSchema } from "./testApp";

const KEY = ["istio", "rolloutOrder"];

/**
 * A rollout order names every primary that is not gone, once, and nothing else (a remote follows its
 * primary). Its gate is the charts' readiness, which Pulumi awaits only with workloads.awaitReady. An
 * empty order is no order.
 */
export const rolloutOrderNamesEachPrimary: Rule<{
    istio: z.output<typeof istioSchema>;
    clusters: z.output<typeof clustersSchema>;
    workloads: z.output<typeof workloadsSchema>;
}> = [
    ({ istio, clusters: entries, workloads }, ctx) => {
        const order = istio.rolloutOrder ?? [];
        if (order.length === 0) {
            return;
        }
        if (!workloads.awaitReady) {
            report(
                ctx,
                KEY,
                problem(
                    order,
                    "no value while workloads.awaitReady is false: Pulumi would not wait for any cluster's istiod or east-west gateway to be ready, so the next cluster would wait for nothing (set workloads.awaitReady: true, or remove istio.rolloutOrder)",
                ),
            );
        }
        const primaries = rolesOf(entries).filter((c) => c.role === "primary").map((c) => c.name);
        const allowed = `the name of a primary cluster of this mesh (${primaries.join(", ")})`;
        order.forEach((name, i) => {
            const j = entries.findIndex((e) => e.name === name);
            const first = order.indexOf(name);
            if (j === -1) {
                report(ctx, [...KEY, i], problem(name, `${allowed}; no cluster is named "${name}"`));
            } else if (entries[j].role === "remote") {
                report(ctx, [...KEY, i], problem(name, `${allowed}; clusters[${j}] is a remote, which goes with its primary ${entries[j].primary}`));
            } else if (entries[j].gone) {
                report(ctx, [...KEY, i], problem(name, `${allowed}; clusters[${j}] is gone`));
            } else if (first !== i) {
                report(ctx, [...KEY, i], problem(name, `a cluster not listed before (istio.rolloutOrder[${first}] is already "${name}")`));
            }
        });
        const missing = primaries.filter((p) => !order.includes(p));
        if (missing.length > 0) {
            report(ctx, KEY, problem(order, `every primary cluster of this mesh once (${primaries.join(", ")}); ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing`));
        }
    },
    onceValid("istio", "clusters", "workloads"),
];
