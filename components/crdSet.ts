import * as crypto from "crypto";
import * as zlib from "zlib";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConnection } from "./cluster";
import { crdSetProvider, CrdSetInputs } from "./crdSetProvider";
import { canonicalJson, ChartSource, Values } from "./helmValues";

/** An object of a rendered chart, as far as the CRD set reads it. */
interface RenderedObject {
    readonly kind?: string;
    readonly metadata?: { readonly name?: string };
}

/** The `base` chart as Helm would install it: where from, which version, under which release, with which values. */
export interface BaseChartRendering {
    readonly source: ChartSource;
    readonly version: string;
    readonly releaseName: string;
    readonly namespace: string;
    readonly values: Values;
}

/**
 * Istio's CRDs as the `base` chart renders them, through the cluster's kubernetes provider: it fetches the
 * chart the way the Chart resources do (local directory, Helm repository or OCI registry, with the same
 * credentials), also during a preview, and renders it with Helm's own template engine.
 */
function renderBaseCrds(chart: BaseChartRendering, provider: k8s.Provider, parent: pulumi.Resource): pulumi.Output<object[]> {
    const { source } = chart;
    const credentials = source.type === "directory" ? undefined : source.credentials;
    const fetchOpts = {
        version: chart.version,
        ...(source.type === "repository" ? { repo: source.url } : {}),
        ...(credentials ? { username: credentials.username } : {}),
    };
    const location =
        source.type === "directory"
            ? { path: `${source.path.replace(/\/+$/, "")}/base` }
            : { chart: source.type === "oci" ? `${source.url.replace(/\/+$/, "")}/base` : "base", version: chart.version };
    // The v3 template invoke takes its options as one JSON string; the password stays a secret inside it.
    const jsonOpts = pulumi
        .all([chart.values, credentials ? pulumi.secret(credentials.password) : undefined])
        .apply(([values, password]) =>
            JSON.stringify({
                ...location,
                fetch_opts: { ...fetchOpts, ...(password === undefined ? {} : { password }) },
                release_name: chart.releaseName,
                namespace: chart.namespace,
                values,
            }),
        );
    return pulumi
        .runtime.invokeOutput<{ result: RenderedObject[] }>("kubernetes:helm:template", { jsonOpts }, { provider, parent })
        .apply(({ result }) => result.filter((o) => o.kind === "CustomResourceDefinition"));
}

/** The one label of a CRD that Helm fills from the release name (the base chart's `istio.labels`). */
const RELEASE_LABEL = "app.kubernetes.io/instance";

/**
 * The `base` chart's CRDs, rendered once per chart, version and values rather than once per cluster. The
 * rendering reaches the program through the Pulumi CLI as one deeply nested value, which the CLI
 * marshals and logs level by level: at four clusters, the renderings took 18% of its CPU in `pulumi up`
 * (docs/benchmarks.md). The chart puts the release name in one label of each CRD; each other cluster's
 * copy gets its own, as its own rendering would have.
 */
export class BaseCrdRenderings {
    private readonly renderings = new Map<string, { readonly releaseName: string; readonly crds: pulumi.Output<object[]> }>();

    /** `renderBaseCrds`, through the provider and parent of the first cluster that asks for this rendering. */
    crdsFor(chart: BaseChartRendering, provider: k8s.Provider, parent: pulumi.Resource): pulumi.Output<object[]> {
        const { source, version, namespace, values } = chart;
        const where = source.type === "directory" ? source : { type: source.type, url: source.url, username: source.credentials?.username };
        const key = canonicalJson({ where, version, namespace, values });
        let rendering = this.renderings.get(key);
        if (rendering === undefined) {
            rendering = { releaseName: chart.releaseName, crds: renderBaseCrds(chart, provider, parent) };
            this.renderings.set(key, rendering);
        }
        const { releaseName, crds } = rendering;
        return releaseName === chart.releaseName ? crds : crds.apply((list) => list.map((crd) => releasedAs(crd, releaseName, chart.releaseName)));
    }
}

/** `crd` as rendered under release `to` rather than `from`. */
function releasedAs(crd: object, from: string, to: string): object {
    const metadata = (crd as { metadata?: { labels?: Record<string, string> } }).metadata;
    if (metadata?.labels?.[RELEASE_LABEL] !== from) {
        return crd;
    }
    return { ...crd, metadata: { ...metadata, labels: { ...metadata.labels, [RELEASE_LABEL]: to } } };
}

/** A CRD's digest: the SHA-256 of its manifest, as JSON with sorted keys. */
export function crdDigest(crd: object): string {
    return crypto.createHash("sha256").update(canonicalJson(crd)).digest("hex");
}

/** The CRDs as the set's `manifests` input: a JSON array, gzip-compressed, base64 (about a tenth of the JSON). */
export function packCrds(crds: readonly object[]): string {
    return zlib.gzipSync(JSON.stringify(crds), { level: 9 }).toString("base64");
}

export interface IstioCrdSetArgs {
    /** The cluster's name in the mesh. */
    readonly cluster: string;
    readonly connection: ClusterConnection;
    /** The CRDs to apply (from `renderBaseCrds`); none for a cluster that is gone. */
    readonly crds: pulumi.Input<readonly object[]>;
    /** Leave the CRDs, and every Istio resource, in the cluster when the set is deleted. */
    readonly keep: boolean;
    /** The cluster no longer exists: the set only lets go of it (see Cluster's `gone`). */
    readonly gone: boolean;
}

/**
 * The provider of the CRD sets, given explicitly: Pulumi gives the default provider of dynamic resources
 * the whole stack config as its inputs, so every change of any key would show as an update of that
 * provider in `pulumi preview`. This one has none. One serves every cluster (each set carries its own
 * connection): the engine starts a Node.js process of about 170 MB per provider.
 */
export class CrdSetProvider extends pulumi.ProviderResource {
    constructor(name: string, opts?: pulumi.ResourceOptions) {
        super("pulumi-nodejs", name, {}, opts);
    }
}

/**
 * Istio's CRDs in one cluster as one resource. As one Pulumi resource each, the 15 CRDs of the `base`
 * chart were two thirds of the state (each held twice, as the manifest and as the live object, about 100
 * KB) and of the properties the engine handles at every step. The set holds them compressed, once, with
 * one digest each: `pulumi preview --diff` shows which CRDs a new chart version changes by name, and a
 * refresh reads each one back, so a CRD deleted or edited in the cluster shows as a change and `pulumi up`
 * applies it again (components/crdSetProvider.ts).
 */
export class IstioCrdSet extends pulumi.dynamic.Resource {
    /** The names of the CRDs in the set, sorted (known in a preview: they come from the chart). */
    readonly names: pulumi.Output<string[]>;

    constructor(name: string, args: IstioCrdSetArgs, opts?: pulumi.CustomResourceOptions) {
        const crds = pulumi.output(args.crds);
        const inputs: pulumi.Inputs = {
            cluster: args.cluster,
            kubeconfig: pulumi.secret(args.connection.kubeconfig),
            context: args.connection.context,
            // Secret only so that a diff shows `[secret]` instead of a long unreadable string; the digests
            // say what changed. Never secret themselves: the CRDs are a secret only where the chart
            // repository's password made the rendering one.
            manifests: pulumi.secret(crds.apply((list) => packCrds(list))),
            digests: pulumi.unsecret(crds.apply((list) => Object.fromEntries(list.map((crd) => [crdName(crd), crdDigest(crd)])))),
            keep: args.keep,
            gone: args.gone,
        } satisfies Record<keyof CrdSetInputs, unknown>;
        super(crdSetProvider, name, inputs, { ...opts, additionalSecretOutputs: ["kubeconfig"] });
        this.names = pulumi.unsecret(crds.apply((list) => list.map(crdName).sort()));
    }
}

function crdName(crd: object): string {
    const name = (crd as RenderedObject).metadata?.name;
    if (name === undefined) {
        throw new Error("a CustomResourceDefinition of the base chart has no metadata.name");
    }
    return name;
}
