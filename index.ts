import * as pulumi from "@pulumi/pulumi";
import { caExpiryWarnings } from "./stacks/caExpiry";
import { loadStackConfig } from "./stacks/loadConfig";
import { requireNoForeignCacerts } from "./stacks/foreignCacerts";
import { requireSupportedUpgrade } from "./stacks/installedRevisions";
import { deployMesh } from "./stacks/mesh";
import { requireReachableClusters } from "./stacks/reachability";

/**
 * The program. Validation, the clusters' reachability, the version change against what the clusters
 * run and a look for a CA the program must not overwrite come first, so a bad config, an API server
 * that does not answer, an upgrade that skips a minor version or a site's own `cacerts` stops it
 * before any resource is registered; then the warnings of CA certificates near their end.
 * Exported as a function: Pulumi calls it and exports what it returns as the stack outputs.
 */
export = async () => {
    const config = loadStackConfig();
    await requireReachableClusters(config);
    await requireSupportedUpgrade(config);
    const installedNotAfter = await requireNoForeignCacerts(config);
    caExpiryWarnings(config, installedNotAfter, new Date()).forEach((warning) => pulumi.log.warn(warning));
    const mesh = deployMesh(config);
    return {
        meshId: mesh.meshId,
        topology: mesh.topology,
        clusters: mesh.clusters,
        rootCert: mesh.rootCert,
        verification: mesh.verification ?? "disabled",
    };
};
