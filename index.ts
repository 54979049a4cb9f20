import { loadStackConfig } from "./stacks/loadConfig";
import { deployMesh } from "./stacks/mesh";
import { requireReachableClusters } from "./stacks/reachability";

/**
 * The program. Validation and then the clusters' reachability come first, so a bad config or an API
 * server that does not answer stops it before any resource is registered.
 * Exported as a function: Pulumi calls it and exports what it returns as the stack outputs.
 */
export = async () => {
    const config = loadStackConfig();
    await requireReachableClusters(config);
    const mesh = deployMesh(config);
    return {
        meshId: mesh.meshId,
        topology: mesh.topology,
        clusters: mesh.clusters,
        rootCert: mesh.rootCert,
        verification: mesh.verification ?? "disabled",
    };
};
