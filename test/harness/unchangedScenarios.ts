import { StackConfigInput } from "../../stacks/config";
import { PRIMARY_TWO_REMOTES_TWO_NETWORKS, TWO_CLUSTERS_ONE_NETWORK } from "./scenarios";

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

/** Stacks as they were before root rotation existed: a generated CA (one with remotes and kind clusters), and a supplied one. */
export const UNCHANGED_SCENARIOS: Record<string, StackConfigInput> = {
    generated: TWO_CLUSTERS_ONE_NETWORK,
    primaryRemote: PRIMARY_TWO_REMOTES_TWO_NETWORKS,
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
