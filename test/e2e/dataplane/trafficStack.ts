/**
 * What the data-plane e2e (traffic.e2e.ts) and its benchmark (`npm run bench -- traffic`) share: the
 * stack they deploy and the data plane they run it on.
 */
import * as path from "node:path";
import { admin, CLUSTERS, stackConfig, work } from "../e2eStack";
import { DataPlane } from "./dataPlane";

export const NETWORKS = ["network1", "network2"];

/**
 * Settings of this stack only, never defaults of the program: the upstream Envoy here lacks the
 * extensions Istio's proxy build adds (istio.stats, istio.metadata_exchange, istio.alpn) and would
 * reject the config that uses them. Access logs on, so each Envoy's log shows its requests.
 */
export const UPSTREAM_ENVOY_VALUES = {
    pilot: { env: { PILOT_ENABLE_METADATA_EXCHANGE: "false", PILOT_ENABLE_ALPN_FILTER: "false" } },
    telemetry: { enabled: false },
    meshConfig: {
        accessLogFile: "/dev/stdout",
        // Envoy keeps few stats unless asked: those of the gateway's passthrough the test reads.
        defaultConfig: { proxyStatsMatcher: { inclusionRegexps: ["listener\\.0\\.0\\.0\\.0_15443\\..*", "cluster\\.outbound_\\.5000_\\..*"] } },
    },
};

/**
 * The stack a user would write for the two clusters on two networks, with the defaults every user
 * has: `pulumi up` waits for the workloads and runs the traffic check (`verify` overrides its settings).
 */
export function trafficStackConfig(verify: Record<string, unknown> = {}, networks: readonly string[] = NETWORKS): Record<string, unknown> {
    const config = stackConfig("traffic", networks);
    const istio = config.istio as Record<string, unknown>;
    return { ...config, istio: { ...istio, values: { istiod: UPSTREAM_ENVOY_VALUES } }, workloads: { awaitReady: true }, verify: { enabled: true, ...verify } };
}

/** The data plane of the harness's clusters on `networks`, with the binaries run.sh built. */
export function harnessDataPlane(networks: readonly string[] = NETWORKS): DataPlane {
    return new DataPlane(
        CLUSTERS,
        networks,
        admin,
        work,
        {
            pilotAgent: path.join(process.env.ISTIO_BIN_DIR!, "pilot-agent"),
            envoy: process.env.ENVOY_BIN!,
            proxyImageFiles: { "var/lib/istio/envoy/envoy_bootstrap_tmpl.json": path.join(process.env.ISTIO_MODULE_DIR!, "tools/packaging/common/envoy_bootstrap.json") },
            helloworld: path.resolve("test/e2e/dataplane/helloworld.mjs"),
        },
        process.env.E2E_POD_NETWORK!,
    );
}
