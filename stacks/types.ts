/** The validated, typed stack configuration the components are composed from. */

export const CONFIG_NAMESPACE = "istio-multicluster";

export const TOPOLOGIES = ["multi-primary", "multi-primary-multi-network"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/*
 * Defaults that upstream publishes (checked 2026-11). Istio retires gcr.io/istio-release,
 * registry.istio.io and istio-release.storage.googleapis.com in December 2026 (istio/istio#61467; the
 * 1.31 upgrade notes, "Deprecation of GCP infrastructure and hosting"): Helm charts stay at
 * blob.istio.io/istio-release/charts (and as OCI at oci://ghcr.io/istio/release/charts), images on
 * Docker Hub.
 */

/** Istio's Helm repository after the move off GCP (istio.io blog 2026 "retirement-of-gcp"). */
export const OFFICIAL_ISTIO_CHART_REPO = "https://blob.istio.io/istio-release/charts";
/** The newest Istio release announced on istio.io (news/releases/1.31.x/announcing-1.31.1). */
export const DEFAULT_ISTIO_VERSION = "1.31.1";
export const DEFAULT_TRUST_DOMAIN = "cluster.local";

export const ISTIO_CHARTS = ["base", "istiod", "gateway"] as const;
export type IstioChart = (typeof ISTIO_CHARTS)[number];

/** A cluster the program creates itself with `kind`, for laptops and CI machines with Docker. */
export interface KindClusterSource {
    readonly type: "kind";
    /** kind node image, e.g. `kindest/node:v1.34.0`; kind's own default when absent. */
    readonly nodeImage?: string;
}

/** A cluster that already exists and is reached through a kubeconfig. */
export interface ExistingClusterSource {
    readonly type: "existing";
    /** The kubeconfig's YAML content (read from the file when the config gave a path). */
    readonly kubeconfig: string;
    readonly context?: string;
    /** The API-server URL that OTHER clusters' istiod must use: `apiServer` from the config, else the kubeconfig's server. */
    readonly apiServer: string;
}

export type ClusterSource = KindClusterSource | ExistingClusterSource;

export interface ClusterConfig {
    readonly name: string;
    readonly network: string;
    readonly source: ClusterSource;
    /**
     * istio-system already exists (a platform team made it, with quotas and labels): it is labelled and
     * used, and on destroy the label is removed and the namespace kept. Otherwise it is created and deleted.
     */
    readonly existingIstioNamespace?: boolean;
}

/** Basic-auth login to a private chart mirror; the password only ever reaches the Release as a secret. */
export interface ChartCredentials {
    readonly username: string;
    readonly password: string;
}

/**
 * Where the Istio charts come from: a classic Helm repository (`https://...` with an `index.yaml`), an
 * OCI registry (`oci://host/path`, holding `<path>/base`, `<path>/istiod` and `<path>/gateway`), or a
 * local directory with the three chart directories (air-gapped sites).
 */
export type ChartSource =
    | { readonly type: "repository"; readonly url: string; readonly credentials?: ChartCredentials }
    | { readonly type: "oci"; readonly url: string; readonly credentials?: ChartCredentials }
    | { readonly type: "directory"; readonly path: string };

export interface IstioConfig {
    readonly version: string;
    readonly chartSource: ChartSource;
    /** Extra Helm values per chart, merged over the program's own. */
    readonly values: Readonly<Record<IstioChart, Record<string, unknown>>>;
    /** Leave Istio's CRDs in the clusters on `pulumi destroy` (the official chart's own default). */
    readonly keepCrds: boolean;
}

export interface ProvidedIntermediate {
    readonly cert: string;
    readonly key: string;
}

export type CaConfig =
    | { readonly type: "generated"; readonly organization: string; readonly validityHours: number }
    | {
          readonly type: "provided";
          readonly rootCert: string;
          readonly intermediates: Readonly<Record<string, ProvidedIntermediate>>;
      };

export interface ImagesConfig {
    /** Registry/hub for Istio's own images (istiod, proxies, gateways); DEFAULT_IMAGES.istioHub when absent. */
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

export const DEFAULT_IMAGES: Required<ImagesConfig> = {
    // Where Istio's release builds push, and the hub the 1.31 charts name (istio/release-builder:
    // release/publish.sh; release/build.sh on release-1.31, #2370 "Revert default registry in helm charts
    // to docker"). Set explicitly because the 1.30 charts (release-1.30's build.sh, at least 1.30.0 to
    // 1.30.3) name registry.istio.io/release, which is retired in December 2026.
    istioHub: "docker.io/istio",
    // samples/helloworld/helloworld.yaml names these images on registry.istio.io/release (1.30, 1.31);
    // that registry is retired with gcr.io, and the same images stay on Docker Hub.
    helloworldV1: "docker.io/istio/examples-helloworld-v1:1.0",
    helloworldV2: "docker.io/istio/examples-helloworld-v2:1.0",
    // samples/curl/curl.yaml (istio 1.31.0).
    curl: "docker.io/curlimages/curl:8.16.0",
};
