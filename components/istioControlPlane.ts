import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { leaveWebhooksToIstiod, replaceDefaultValidatorOnRevision, revisionTagFollows, takeOverWebhooks } from "./chartTransforms";
import { ClusterConnection, clusterProvider } from "./cluster";
import { BaseCrdRenderings, IstioCrdSet } from "./crdSet";
import {
    baseRoleValues,
    chartLocation,
    ControlPlaneRole,
    IN_PLACE,
    injectorBeforeIstiodValues,
    IstioCharts,
    istiodRoleValues,
    mergeValues,
    multiRootValues,
    newestVersion,
    renderingDigest,
    revisionValues,
    Revisions,
} from "./helmValues";
import { ClusterCaBundle } from "./caPhases";
import { REPAIR_EDITS_ON_UP, STACK_ANNOTATION, stackIdentity } from "./ownership";

export const ISTIO_NAMESPACE = "istio-system";
const CONTROL_PLANE_TYPE = "istio-multicluster:istio:ControlPlane";
const CHART_TYPE = "kubernetes:helm.sh/v4:Chart";
/** The provider a remote's istiod objects are applied through (see IstioControlPlane). */
const servedBy = (remote: string, primary: string) => `${remote}-k8s-served-by-${primary}`;
/**
 * On `cacerts`: when its intermediate expires (RFC 3339). Read, with the rest of the Secret's metadata,
 * before any resource is registered, so that `pulumi preview` warns of an intermediate in its renewal
 * window even when the preview cannot know the certificate that replaces it (stacks/caExpiry.ts).
 */
export const CA_CERT_NOT_AFTER_ANNOTATION = "istio-multicluster.pulumi.com/ca-cert-not-after";

export interface IstioControlPlaneArgs {
    readonly provider: k8s.Provider;
    /** What `provider` is made from; a remote's istiod gets a provider of its own (see below). */
    readonly connection: ClusterConnection;
    readonly clusterName: string;
    readonly network: string;
    readonly role: ControlPlaneRole;
    readonly meshId: string;
    readonly trustDomain: string;
    readonly istio: IstioCharts;
    /** The istiod revisions (one chart each) and the one the revision tag `default` points to. */
    readonly revisions: Revisions;
    /**
     * Revisions the cluster runs now that `revisions` no longer lists (read before registration; none
     * where the cluster was not read): the tag may still be on one of them when it is dropped.
     */
    readonly formerRevisions?: readonly string[];
    readonly ca: ClusterCaBundle;
    /** Registry for istiod's images and, through its injector, the proxies' and gateways'. */
    readonly istioHub: string;
    /** When false, Pulumi does not wait for istiod's pods (API servers without nodes). */
    readonly awaitWorkloads: boolean;
    /** Leave Istio's CRDs (and so every Istio resource in the cluster) in place on delete. */
    readonly keepCrds: boolean;
    /** The provider of the CRD sets, one for every cluster of the stack (see CrdSetProvider). */
    readonly crdSetProvider: pulumi.ProviderResource;
    /** The `base` chart's CRDs, rendered once for every cluster with the same chart and values. */
    readonly crdRenderings: BaseCrdRenderings;
    /**
     * istio-system already exists and is not ours: label it instead of creating it, and on destroy
     * remove the label and keep the namespace. When false, the namespace is created and deleted.
     */
    readonly adoptExistingNamespace: boolean;
    /**
     * The `cacerts` of the cluster before this one, if any: this cluster's is written (and, at a renewal,
     * updated) only once that one is, so a new intermediate reaches one cluster at a time.
     */
    readonly cacertsAfter?: pulumi.Resource;
    /** More annotations on `cacerts`: what records a root rotation's progress there (stacks/rootRotation.ts). */
    readonly cacertsAnnotations: Readonly<Record<string, string>>;
    /** A root rotation is under way: istiod runs with ISTIO_MULTIROOT_MESH (see helmValues.ts). */
    readonly multiRootMesh: boolean;
    /**
     * What the `base` and `istiod` charts are applied only after (another cluster's charts, awaited
     * ready): a promise, since that cluster may be composed after this one.
     */
    readonly rolloutAfter?: Promise<pulumi.Resource[]>;
}

/**
 * Istio in one cluster of a multi-cluster mesh: the `istio-system` namespace labelled with the cluster's
 * network (created, or an existing one adopted), the `cacerts` Secret from the shared root of trust, and
 * the `base` and `istiod` charts with the mesh ID, cluster name, network and trust domain, for a primary
 * or, in the `remote` profile, for a remote (then the namespace names its primary).
 */
export class IstioControlPlane extends pulumi.ComponentResource {
    readonly namespace: pulumi.Output<string>;
    /** `istio-system/cacerts`, which istiod's plugged-in CA reads. */
    readonly cacerts: k8s.core.v1.Secret;
    /** Istio's CRDs, one resource for the whole set. */
    readonly crds: IstioCrdSet;
    readonly base: k8s.helm.v4.Chart;
    /** The chart of the revision the `default` tag points to (of the one revision, in place): what injects the workloads. */
    readonly istiod: k8s.helm.v4.Chart;
    /** The charts of every revision. */
    readonly istiodCharts: readonly k8s.helm.v4.Chart[];
    /** Changes whenever istiod's objects are rendered from another chart version or other values. */
    readonly istiodDigest: pulumi.Output<string>;

    constructor(name: string, args: IstioControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CONTROL_PLANE_TYPE, name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const { istio } = args;

        const metadata = {
            name: ISTIO_NAMESPACE,
            labels: { "topology.istio.io/network": args.network },
            // The istiod that manages this remote: it patches the remote's webhooks and writes its ConfigMaps.
            ...(args.role.type === "remote" ? { annotations: { "topology.istio.io/controlPlaneClusters": args.role.primary } } : {}),
        };
        // An adopted namespace is labelled by server-side apply under the patch's own field manager;
        // deleting the patch gives up that label and nothing else. A label another manager set to a
        // different value is a conflict that stops `pulumi up` (not forced: the network would be wrong).
        const namespace = args.adoptExistingNamespace
            ? new k8s.core.v1.NamespacePatch(`${name}-istio-system`, { metadata }, childOpts)
            : new k8s.core.v1.Namespace(`${name}-istio-system`, { metadata }, childOpts);
        this.namespace = namespace.metadata.name;

        // Applied with force, so a `pulumi up` puts back certificates edited by hand. A site's own
        // `cacerts` is therefore never reached: the program stops before registering anything when a
        // cluster has a `cacerts` this stack did not write (stacks/foreignCacerts.ts, by the annotation).
        // istiod watches the files of `cacerts` and, while `root-cert.pem` stays the same bytes, takes a new
        // intermediate without a restart, so a renewal updates the Secret in place; so does each phase of a
        // root rotation, which istiod takes without a restart with ISTIO_MULTIROOT_MESH (components/caPhases.ts).
        const annotations = args.ca.caCertNotAfter.apply((notAfter) => ({
            ...REPAIR_EDITS_ON_UP,
            [STACK_ANNOTATION]: stackIdentity(),
            ...(notAfter === undefined ? {} : { [CA_CERT_NOT_AFTER_ANNOTATION]: notAfter }),
            ...args.cacertsAnnotations,
        }));
        const cacerts = new k8s.core.v1.Secret(
            `${name}-cacerts`,
            {
                metadata: { name: "cacerts", namespace: this.namespace, annotations },
                data: {
                    "ca-cert.pem": args.ca.caCert.apply(base64),
                    "ca-key.pem": args.ca.caKey.apply(base64),
                    "root-cert.pem": args.ca.rootCert.apply(base64),
                    "cert-chain.pem": args.ca.certChain.apply(base64),
                },
            },
            // The previous cluster's `cacerts` passes no data to this one: only the order matters.
            { ...childOpts, dependsOn: args.cacertsAfter === undefined ? [] : [args.cacertsAfter] },
        );
        this.cacerts = cacerts;

        // Istio's CRDs are one resource per cluster (components/crdSet.ts), rendered by the `base` chart
        // with the values and under the release name the Chart below uses, so that they carry the labels
        // Helm would give them. The Chart renders everything else of `base`.
        const baseValues = mergeValues(
            {
                defaultRevision: args.revisions.defaultRevision === IN_PLACE ? "default" : args.revisions.defaultRevision,
                base: { enableCRDTemplates: true },
                global: { istioNamespace: ISTIO_NAMESPACE },
                ...baseRoleValues(args.role),
            },
            istio.values.base,
        );
        const baseRelease = `${name}-istio-base`;
        const baseVersion = newestVersion(args.revisions);
        this.crds = new IstioCrdSet(
            `${name}-istio-crds`,
            {
                cluster: args.clusterName,
                connection: args.connection,
                crds: args.crdRenderings.crdsFor(
                    { source: istio.chartSource, version: baseVersion, releaseName: baseRelease, namespace: ISTIO_NAMESPACE, values: baseValues },
                    args.provider,
                    this,
                ),
                keep: args.keepCrds,
                gone: false,
            },
            { parent: this, provider: args.crdSetProvider, dependsOn: args.rolloutAfter },
        );
        // `base` is cluster-wide (reader service account, default-revision validation) and is rendered into
        // one Pulumi resource per object: each shows in `pulumi preview --diff`, and Pulumi, not Helm,
        // deletes it. The CRDs must exist before anything of Istio that needs them: no data flows.
        const userExcludedCrds: readonly string[] = (istio.values.base as { base?: { excludedCRDs?: string[] } }).base?.excludedCRDs ?? [];
        this.base = new k8s.helm.v4.Chart(
            baseRelease,
            {
                ...chartLocation(istio.chartSource, "base"),
                version: baseVersion,
                namespace: this.namespace,
                values: mergeValues(baseValues, { base: { excludedCRDs: this.crds.names.apply((names) => [...userExcludedCrds, ...names]) } }),
                skipAwait: !args.awaitWorkloads,
            },
            {
                ...childOpts,
                dependsOn: args.rolloutAfter?.then<pulumi.Resource[]>((after) => [this.crds, ...after]) ?? [this.crds],
                transforms: [leaveWebhooksToIstiod, replaceDefaultValidatorOnRevision, takeOverWebhooks],
            },
        );

        // `istiod` is rendered into one resource per object too, under the release name Helm would give
        // it: a `pulumi up` interrupted while Helm installs a release leaves the release deployed but not in
        // the state, and every later run fails on its name, whereas objects left behind are taken over by
        // the next run (see Cluster). istiod patches its validator (leaveWebhooksToIstiod) and the sidecar
        // injector's `caBundle`; the chart renders no `caBundle`, so Pulumi neither applies nor diffs it.
        // istiod reads `cacerts` only when it starts, so it must exist first (no data flows between them).
        const istiodValues = mergeValues(
            mergeValues(
                {
                    global: {
                        meshID: args.meshId,
                        multiCluster: { clusterName: args.clusterName },
                        network: args.network,
                        hub: args.istioHub,
                    },
                    meshConfig: { trustDomain: args.trustDomain },
                },
                mergeValues(istiodRoleValues(args.role, args.clusterName, args.network), multiRootValues(args.role.type === "primary" && args.multiRootMesh)),
            ),
            istio.values.istiod,
        );
        // A remote's istiod objects (its injector and the `istiod` Service) point at its primary's exposure,
        // so `pulumi destroy` must delete them first. A v4 Chart's objects do not take on the chart's
        // dependencies, but every resource depends on its provider: on a remote the chart gets a provider
        // of its own that depends on the exposure, which the engine deletes only after all its objects.
        const istiodProvider =
            args.role.type === "remote"
                ? clusterProvider(servedBy(name, args.role.primary), args.connection, { parent: this, dependsOn: [args.role.primaryExposure] })
                : args.provider;
        // One chart per revision: `istiod` for an in-place install, `istiod-<revision>` beside each other
        // otherwise, the revision tag `default` rendered by the chart of the revision it points to.
        const { revisions, defaultRevision } = args.revisions;
        const chartName = (revision: string) => (revision === IN_PLACE ? `${name}-istiod` : `${name}-istiod-${revision}`);
        const charts = revisions.map(({ name: revision, version }) => {
            const revisionOwn = mergeValues(istiodValues, revisionValues(revision, defaultRevision));
            const values = mergeValues(revisionOwn, injectorBeforeIstiodValues(revisionOwn, ISTIO_NAMESPACE));
            // The tag's objects may come from any other revision's chart, also from one dropped in this same `up`.
            const others = [...revisions.map((r) => r.name), ...(args.formerRevisions ?? [])]
                .filter((r) => r !== revision)
                .map((r) => ({ name: chartName(r), urn: pulumi.createUrn(chartName(r), CHART_TYPE, this) }));
            const chart = new k8s.helm.v4.Chart(
                chartName(revision),
                {
                    name: revision === IN_PLACE ? "istiod" : `istiod-${revision}`,
                    ...chartLocation(istio.chartSource, "istiod"),
                    version,
                    namespace: this.namespace,
                    values,
                    skipAwait: !args.awaitWorkloads,
                },
                {
                    ...childOpts,
                    provider: istiodProvider,
                    dependsOn: args.rolloutAfter?.then<pulumi.Resource[]>((after) => [this.crds, this.base, cacerts, ...after]) ?? [this.crds, this.base, cacerts],
                    transforms: [leaveWebhooksToIstiod, revisionTagFollows(chartName(revision), others), takeOverWebhooks],
                },
            );
            return { revision, chart, digest: renderingDigest("istiod", version, values) };
        });
        this.istiod = charts.find((c) => c.revision === defaultRevision)!.chart;
        this.istiodCharts = charts.map((c) => c.chart);
        this.istiodDigest = charts.length === 1 ? charts[0].digest : pulumi.all(charts.map((c) => c.digest)).apply((digests) => digests.join(","));

        this.registerOutputs({ namespace: this.namespace, istiodDigest: this.istiodDigest });
    }
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * What is left of a control plane once its cluster is gone: its CRD set, which lets go of the cluster
 * without reaching it, and, for a remote, the provider its istiod objects were applied through, under the
 * same name and parent, from the gone cluster's connection. Those objects' deletes run on it, so they drop
 * the objects from the state instead of failing to reach the cluster.
 */
export class GoneControlPlane extends pulumi.ComponentResource {
    constructor(
        name: string,
        args: {
            readonly clusterName: string;
            readonly primary?: string;
            readonly connection: ClusterConnection;
            readonly crdSetProvider: pulumi.ProviderResource;
        },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(CONTROL_PLANE_TYPE, name, {}, opts);
        new IstioCrdSet(
            `${name}-istio-crds`,
            { cluster: args.clusterName, connection: args.connection, crds: [], keep: false, gone: true },
            { parent: this, provider: args.crdSetProvider },
        );
        if (args.primary !== undefined) {
            clusterProvider(servedBy(name, args.primary), args.connection, { parent: this });
        }
        this.registerOutputs({});
    }
}
