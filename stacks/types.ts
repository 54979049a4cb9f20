/** The validated, typed stack configuration the components are composed from. */
import { ExistingClusterSource, KindClusterSource } from "../components/cluster";
import { ChartSource, IstioChart } from "../components/helmValues";
import { CaSource } from "../components/meshTrust";

export type { ChartSource, IstioChart };

export const CONFIG_NAMESPACE = "istio-multicluster";

export const TOPOLOGIES = ["multi-primary", "multi-primary-multi-network"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const OFFICIAL_ISTIO_CHART_REPO = "https://istio-release.storage.googleapis.com/charts";
export const DEFAULT_ISTIO_VERSION = "1.30.4";
export const DEFAULT_TRUST_DOMAIN = "cluster.local";

export const ISTIO_CHARTS: readonly IstioChart[] = ["base", "istiod", "gateway"];

export type ClusterSource = KindClusterSource | ExistingClusterSource;

export interface ClusterConfig {
    readonly name: string;
    readonly network: string;
    readonly source: ClusterSource;
}

export interface IstioConfig {
    readonly version: string;
    readonly chartSource: ChartSource;
    /** Extra Helm values per chart, merged over the program's own. */
    readonly values: Readonly<Record<IstioChart, Record<string, unknown>>>;
}

export interface ProvidedIntermediate {
    readonly cert: string;
    readonly key: string;
}

export type CaConfig = CaSource;

export interface ImagesConfig {
    /** Registry/hub for Istio's own images (istiod, proxies); the chart default when absent. */
    readonly istioHub?: string;
    readonly helloworldV1: string;
    readonly helloworldV2: string;
    readonly curl: string;
}

export interface VerifyConfig {
    readonly enabled: boolean;
    /** Requests sent per attempt from each cluster's curl client. */
    readonly requests: number;
    /** Attempts before giving up; cross-cluster endpoints take a few seconds to propagate. */
    readonly attempts: number;
}

export interface StackConfig {
    readonly topology: Topology;
    readonly meshId: string;
    readonly trustDomain: string;
    readonly clusters: readonly ClusterConfig[];
    readonly istio: IstioConfig;
    readonly ca: CaConfig;
    readonly testApp: { readonly enabled: boolean };
    readonly verify: VerifyConfig;
    /** When false, nothing waits for pods to become ready (for API servers without nodes). */
    readonly awaitWorkloads: boolean;
    readonly images: ImagesConfig;
}

export const DEFAULT_IMAGES: ImagesConfig = {
    helloworldV1: "docker.io/istio/examples-helloworld-v1:1.0",
    helloworldV2: "docker.io/istio/examples-helloworld-v2:1.0",
    curl: "docker.io/curlimages/curl:8.16.0",
};
