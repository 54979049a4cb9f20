/**
 * For `npm run bench -- compare`: makes sure each contender's teardown left the API servers as they
 * were, so that the runs are independent. `snapshot` records every object of cluster1 .. cluster<n>
 * under <work> before the first run; `check`, after each teardown, fails naming every object that is
 * new since (or gone).
 *   node build/test/e2e/bench/leftovers.js snapshot|check <work> <n>
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mustKubectl } from "../kube";

/** Kinds whose objects come and go by themselves, whatever the contenders do. */
const TRANSIENT = new Set(["events", "events.events.k8s.io"]);

/**
 * Every object the API server holds, as `<apiVersion> <kind> <namespace>/<name>`, from one `kubectl get`
 * of every listable kind (the CRDs a teardown failed to delete included).
 */
function objects(kubeconfig: string): string[] {
    const kinds = mustKubectl(kubeconfig, ["api-resources", "--verbs=list", "-o", "name"])
        .split("\n")
        .filter((kind) => kind && !TRANSIENT.has(kind));
    const list = JSON.parse(mustKubectl(kubeconfig, ["get", kinds.join(","), "--all-namespaces", "-o", "json"]));
    return list.items.map((o: any) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
}

function main(): void {
    const [mode, work, n] = process.argv.slice(2);
    if (!["snapshot", "check"].includes(mode) || !work || !(Number(n) > 0)) {
        console.error("usage: leftovers.js snapshot|check <work> <n>");
        process.exit(2);
    }
    const clusters = Array.from({ length: Number(n) }, (_, i) => `cluster${i + 1}`);
    const snapshotFile = (cluster: string) => path.join(work, `objects-${cluster}.json`);
    const problems: string[] = [];
    for (const cluster of clusters) {
        const now = objects(path.join(work, cluster, "admin.kubeconfig"));
        if (mode === "snapshot") {
            fs.writeFileSync(snapshotFile(cluster), JSON.stringify(now));
            continue;
        }
        const before = new Set<string>(JSON.parse(fs.readFileSync(snapshotFile(cluster), "utf8")));
        const after = new Set(now);
        problems.push(...now.filter((o) => !before.has(o)).map((o) => `${cluster}: left behind: ${o}`));
        problems.push(...[...before].filter((o) => !after.has(o)).map((o) => `${cluster}: gone: ${o}`));
    }
    if (problems.length > 0) {
        console.error(problems.join("\n"));
        process.exit(1);
    }
}

main();
