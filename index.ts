import { loadStackConfig } from "./stacks/loadConfig";
import { deployMesh } from "./stacks/mesh";

/**
 * The program. Validation comes first, so a bad config stops it before any resource is registered.
 * Exported as a function: Pulumi calls it and exports what it returns as the stack outputs.
 */
export = async () => {
    const mesh = deployMesh(loadStackConfig());
    return {
        meshId: mesh.meshId,
        topology: mesh.topology,
        clusters: mesh.clusters,
        rootCert: mesh.rootCert,
        verification: mesh.verification ?? "disabled",
    };
};
