import { StackConfigInput } from "../../stacks/config";
import { PRIMARY_TWO_REMOTES_TWO_NETWORKS, SIX_CLUSTERS_MIXED, TWO_CLUSTERS_ONE_NETWORK, TWO_CLUSTERS_TWO_NETWORKS } from "./scenarios";

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

/**
 * Stacks as users wrote them before upgrade strategies and root rotation existed: a generated CA (with
 * remotes and kind clusters among them), a supplied one, and the defaults.
 */
export const UNCHANGED_SCENARIOS: Record<string, StackConfigInput> = {
    generated: TWO_CLUSTERS_ONE_NETWORK,
    twoNetworks: TWO_CLUSTERS_TWO_NETWORKS,
    primaryRemote: PRIMARY_TWO_REMOTES_TWO_NETWORKS,
    sixClustersMixed: SIX_CLUSTERS_MIXED,
    defaults: { meshId: "mesh1", clusters: TWO_CLUSTERS_TWO_NETWORKS.clusters },
    supplied: {
        ...TWO_CLUSTERS_ONE_NETWORK,
        ca: {
            rootCert: pem("CERTIFICATE", "root"),
            intermediates: {
                east: { cert: pem("CERTIFICATE", "east"), key: pem("PRIVATE KEY", "east") },
                west: { cert: pem("CERTIFICATE", "west"), key: pem("PRIVATE KEY", "west") },
            },
        },
    },
};
