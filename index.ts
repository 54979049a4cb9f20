import * as pulumi from "@pulumi/pulumi";
import { caExpiryWarnings } from "./stacks/caExpiry";
import { loadStackConfig } from "./stacks/loadConfig";
import { requireNoForeignCacerts } from "./stacks/foreignCacerts";
import { requireSupportedUpgrade } from "./stacks/installedRevisions";
import { deployMesh } from "./stacks/mesh";
import { requireReachableClusters } from "./stacks/reachability";
import { requireRootRotationInOrder, rootRotationAnnotations } from "./stacks/rootRotation";

/**
 * The program. Validation, the clusters' reachability, the version change against what the clusters
 * run, a look for a CA the program must not overwrite and where a root rotation stands come first, so
 * a bad config, an API server that does not answer, an upgrade that skips a minor version, a site's
 * own `cacerts` or a rotation phase that skips one stops it before any resource is registered; then
 * the warnings of CA certificates near their end.
 * Exported as a function: Pulumi calls it and exports what it returns as the stack outputs.
 */
export = async () => {
    const config = loadStackConfig();
    await requireReachableClusters(config);
    const running = await requireSupportedUpgrade(config);
    const installed = await requireNoForeignCacerts(config);
    const now = new Date();
    requireRootRotationInOrder(config, installed.annotations, now);
    caExpiryWarnings(config, installed.caCertNotAfter, now).forEach((warning) => pulumi.log.warn(warning));
    const mesh = deployMesh(config, rootRotationAnnotations(config, installed.annotations, now), running);
    return {
        meshId: mesh.meshId,
        topology: mesh.topology,
        clusters: mesh.clusters,
        rootCert: mesh.rootCert,
        verification: mesh.verification ?? "disabled",
    };
};
