/**
 * For `npm run bench -- scale`: what a stack's state is made of, from a `pulumi stack export` (a file):
 * its size, the size per cluster, and per resource type the count and the bytes of the resources'
 * entries (inputs, outputs and the rest of each entry, as JSON); then the state split between the
 * ordered pairs' remote secrets (each `RemoteSecret` component with its reader token and remote secret),
 * which grow as N(N−1), and the rest, per cluster, which should not grow with N. Prints sizes and type
 * names only, never a value: the export holds secrets (encrypted, but still not for a log).
 *   node build/test/e2e/bench/stateSize.js <export.json> <number of clusters>
 */
import * as fs from "node:fs";

interface TypeSize {
    count: number;
    bytes: number;
    inputsAndOutputs: number;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

const REMOTE_SECRET_TYPE = "istio-multicluster:mesh:RemoteSecret";

/** Whether a resource is a RemoteSecret component or one of its children: its URN's type chain names it. */
function ofRemoteSecret(urn: string): boolean {
    const typeChain = urn.split("::")[2] ?? "";
    return typeChain.split("$").includes(REMOTE_SECRET_TYPE);
}

function main(): void {
    const [file, n] = process.argv.slice(2);
    if (!file || !(Number(n) > 0)) {
        console.error("usage: stateSize.js <export.json> <number of clusters>");
        process.exit(2);
    }
    const text = fs.readFileSync(file, "utf8");
    const resources: any[] = JSON.parse(text).deployment.resources ?? [];
    const byType = new Map<string, TypeSize>();
    for (const resource of resources) {
        const size = byType.get(resource.type) ?? { count: 0, bytes: 0, inputsAndOutputs: 0 };
        size.count++;
        size.bytes += JSON.stringify(resource).length;
        size.inputsAndOutputs += JSON.stringify(resource.inputs ?? {}).length + JSON.stringify(resource.outputs ?? {}).length;
        byType.set(resource.type, size);
    }
    // The export is indented; what the backend keeps and the CLI handles is closer to compact JSON.
    const total = JSON.stringify(JSON.parse(text)).length;
    console.log(`state: ${kb(total)} as compact JSON (the export, indented: ${kb(text.length)}), ${resources.length} resources; per cluster ${kb(total / Number(n))}`);
    console.log("  by type: resources, bytes of their entries (share of the state), of which inputs and outputs");
    for (const [type, size] of [...byType].sort((a, b) => b[1].bytes - a[1].bytes)) {
        const share = ((100 * size.bytes) / total).toFixed(1);
        console.log(`    ${type.padEnd(64)} ${String(size.count).padStart(4)} ${kb(size.bytes).padStart(9)} (${share.padStart(4)}%) ${kb(size.inputsAndOutputs).padStart(9)}`);
    }
    const pairs = resources.filter((r) => r.type === REMOTE_SECRET_TYPE).length;
    const pairBytes = resources.filter((r) => ofRemoteSecret(r.urn)).reduce((sum, r) => sum + JSON.stringify(r).length, 0);
    const perPair = pairs > 0 ? `, ${kb(pairBytes / pairs)} per pair` : "";
    console.log(`  the ordered pairs' remote secrets: ${pairs} pairs, ${kb(pairBytes)}${perPair}; the rest: ${kb((total - pairBytes) / Number(n))} per cluster`);
}

main();
