import { HelloworldVersion } from "../components/testApp";

/**
 * The helloworld version a cluster's test app runs: the entry's `helloworldVersion`, else v2 for a name
 * that ends in an even number and v1 for any other, so that Istio's guides' `cluster1` and `cluster2`
 * run v1 and v2. Taken from the entry alone: adding, removing or reordering other clusters never
 * changes it.
 */
export function helloworldVersionOf({ name, helloworldVersion }: { readonly name: string; readonly helloworldVersion?: HelloworldVersion }): HelloworldVersion {
    return helloworldVersion ?? (/[02468]$/.test(name) ? "v2" : "v1");
}

/**
 * What to warn about when every cluster of the mesh (those not gone) runs one version while the traffic
 * check is on: the check proves cross-cluster traffic by the answers of a version only other clusters serve.
 */
export function oneVersionWarning(clusters: readonly { readonly gone: boolean; readonly helloworldVersion: HelloworldVersion }[], verify: boolean): string[] {
    const mesh = clusters.filter((c) => !c.gone);
    const [only, ...others] = new Set(mesh.map((c) => c.helloworldVersion));
    if (!verify || mesh.length < 2 || others.length > 0) {
        return [];
    }
    return [
        `clusters: every cluster of the mesh runs helloworld ${only} (helloworldVersion; by default v2 only where the name ends in an even number), ` +
            `so the traffic check cannot tell an answer from another cluster from a local one; set helloworldVersion: ${only === "v1" ? "v2" : "v1"} on one of them`,
    ];
}
