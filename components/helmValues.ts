import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as path from "path";
import { compareVersions } from "./istioVersion";

export type Values = Record<string, unknown>;

export type IstioChart = "base" | "istiod" | "gateway";

/** Basic-auth login to a private chart mirror; the password only ever reaches the Chart as a secret. */
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

/** The Istio charts of one mesh: their source and extra Helm values per chart. */
export interface IstioCharts {
    readonly chartSource: ChartSource;
    /** Merged over the program's own values. */
    readonly values: Readonly<Record<IstioChart, Values>>;
}

/** The revision name of an in-place install: the istiod chart's `revision: ""`, which Istio calls `default`. */
export const IN_PLACE = "";

/** An istiod revision: the `revision` value of the istiod chart ("" for the unnamed one of an in-place install) and its chart version. */
export interface Revision {
    readonly name: string;
    readonly version: string;
}

/** The istiod revisions of one cluster and the one the revision tag `default` points to ("" for an in-place install, which has no tag). */
export interface Revisions {
    readonly revisions: readonly Revision[];
    readonly defaultRevision: string;
}

/** The revision the `default` tag points to. */
export const defaultRevisionOf = ({ revisions, defaultRevision }: Revisions): Revision => revisions.find((r) => r.name === defaultRevision)!;

/** The newest version of `revisions`: the CRDs of the `base` chart must serve every istiod. */
export const newestVersion = ({ revisions }: Revisions): string =>
    revisions.map((r) => r.version).reduce((newest, v) => (compareVersions(v, newest) > 0 ? v : newest));

function isPlainObject(value: unknown): value is Values {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `override` into `base` recursively; lists and scalars in `override` replace those in `base`, as Helm does. */
export function mergeValues(base: Values, override: Values): Values {
    const merged: Values = { ...base };
    for (const [key, value] of Object.entries(override)) {
        const existing = merged[key];
        merged[key] = isPlainObject(existing) && isPlainObject(value) ? mergeValues(existing, value) : value;
    }
    return merged;
}

type ChartLocation = Pick<k8s.helm.v4.ChartArgs, "chart" | "repositoryOpts">;

/**
 * Where a Chart finds an Istio chart. The kubernetes provider treats a chart as OCI only when its name
 * is the full `oci://` reference, and then ignores `repositoryOpts.repo`; since 4.27 it logs in to the
 * registry with `repositoryOpts.username`/`password` (pulumi-kubernetes#3661). Helm needs an exact
 * version to pull from a registry, which every Chart gets.
 */
export function chartLocation(source: ChartSource, chart: IstioChart): ChartLocation {
    switch (source.type) {
        case "repository":
            return { chart, repositoryOpts: { repo: source.url, ...login(source.credentials) } };
        case "oci":
            return {
                chart: `${source.url.replace(/\/+$/, "")}/${chart}`,
                ...(source.credentials ? { repositoryOpts: login(source.credentials) } : {}),
            };
        case "directory":
            return { chart: path.join(source.path, chart) };
    }
}

function login(credentials: ChartCredentials | undefined): { username?: string; password?: pulumi.Output<string> } {
    return credentials ? { username: credentials.username, password: pulumi.secret(credentials.password) } : {};
}

/**
 * The part a cluster plays in the control plane. A primary runs istiod; one that serves remotes also
 * manages them. A remote runs no istiod: its webhooks and its proxies reach its primary's istiod at
 * `discoveryAddress`, the address of the primary's east-west gateway. This is what the charts' values
 * take from it.
 */
export type RoleValues =
    | { readonly type: "primary"; readonly servesRemotes: boolean }
    | {
          readonly type: "remote";
          readonly primary: string;
          /** Where the primary exposes istiod to its remotes. */
          readonly discoveryAddress: pulumi.Input<string>;
      };

/** A cluster's role as its control plane is built: a remote also knows the objects exposing its primary. */
export type ControlPlaneRole =
    | Extract<RoleValues, { type: "primary" }>
    | (Extract<RoleValues, { type: "remote" }> & { readonly primaryExposure: pulumi.Resource });

/** The `base` chart's values for a role, from Istio's primary-remote guides (Helm: `--set profile=remote` on a remote). */
export function baseRoleValues(role: RoleValues): Values {
    return role.type === "remote" ? { profile: "remote" } : {};
}

/**
 * The `istiod` chart's values for a role, as Istio's primary-remote guides install it with Helm. A primary
 * with remotes sets `global.externalIstiod`, so its istiod also manages the remotes whose `istio-system`
 * names it in `topology.istio.io/controlPlaneClusters`. A remote is installed in the `remote` profile
 * (no istiod; a Service and EndpointSlice `istiod` pointing at `remotePilotAddress`, and an injection
 * webhook whose path tells the primary's injector the remote's cluster and network), with
 * `global.configCluster`, as the guides' Helm steps set it.
 */
export function istiodRoleValues(role: RoleValues, clusterName: string, network: string): Values {
    if (role.type === "primary") {
        return role.servesRemotes ? { global: { externalIstiod: true } } : {};
    }
    return {
        profile: "remote",
        global: { remotePilotAddress: role.discoveryAddress, configCluster: true },
        istiodRemote: { injectionPath: `/inject/cluster/${clusterName}/net/${network}` },
    };
}

/**
 * The `istiod` chart's values while a root rotation is under way, on a cluster that runs istiod:
 * ISTIO_MULTIROOT_MESH lets istiod take a `root-cert.pem` that adds or drops a root without a restart
 * (it is read only at start, so turning it on or off restarts istiod). The chart writes `env` into the
 * Deployment's container.
 */
export function multiRootValues(rotating: boolean): Values {
    return rotating ? { env: { ISTIO_MULTIROOT_MESH: "true" } } : {};
}

/**
 * The `istiod` chart's values for a revision: its name, and on the revision the `default` tag points to,
 * the tag, whose webhooks inject every namespace labelled `istio-injection: enabled` (and
 * `istio.io/rev: default`) and every pod labelled `sidecar.istio.io/inject: "true"`. None for the
 * unnamed istiod of an in-place install, whose own injector `istio-sidecar-injector` injects those;
 * but once the tag points to a named revision beside it (a stack migrating from InPlace), the chart
 * renders that injector no more (`global.operatorManageWebhooks`, which omits only the mutating
 * webhooks), so that the tag alone injects, as `istioctl tag set default` deactivates it.
 */
export function revisionValues(revision: string, defaultRevision: string): Values {
    if (revision === IN_PLACE) {
        return defaultRevision === IN_PLACE ? {} : { global: { operatorManageWebhooks: true } };
    }
    return { revision, ...(revision === defaultRevision ? { revisionTags: ["default"] } : {}) };
}

/**
 * A digest of what a chart's objects are rendered from: the chart, its version and its values (Outputs
 * resolved). It changes exactly when the rendered objects may change, which is what a Helm release's
 * revision counted.
 */
export function renderingDigest(chart: IstioChart, version: string, values: pulumi.Input<Values>): pulumi.Output<string> {
    return pulumi.output(values).apply((resolved) => createHash("sha256").update(canonicalJson({ chart, version, values: resolved })).digest("hex"));
}

/** JSON with every object's keys sorted, so that equal values give equal text. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_, v) => (isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

const DEPENDS_ON = "config.kubernetes.io/depends-on";

/**
 * `istiod` values that make the engine create the sidecar injector's ConfigMap before istiod's
 * Deployment. istiod looks for that ConfigMap once, when it starts, and without it never serves
 * injection nor patches the webhook's `caBundle` (its log: "Skipping sidecar injector, template not
 * found"), so every pod of an injected namespace is refused until istiod restarts. Helm creates
 * ConfigMaps before Deployments; a v4 Chart creates its objects in parallel unless an object names
 * another in the `config.kubernetes.io/depends-on` annotation. `values` are the chart's values as
 * merged; nothing is added where the chart renders no such ConfigMap (a remote, or it is omitted).
 */
export function injectorBeforeIstiodValues(values: Values, namespace: string): Values {
    const global = (values.global ?? {}) as Values;
    const istiodRemote = (values.istiodRemote ?? {}) as Values;
    if (values.profile === "remote" || istiodRemote.enabled === true || global.omitSidecarInjectorConfigMap === true) {
        return {};
    }
    const revision = typeof values.revision === "string" && values.revision !== "" ? `-${values.revision}` : "";
    const injector = `/namespaces/${namespace}/ConfigMap/istio-sidecar-injector${revision}`;
    const own = ((values.deploymentAnnotations ?? {}) as Values)[DEPENDS_ON];
    return { deploymentAnnotations: { [DEPENDS_ON]: typeof own === "string" && own !== "" ? `${own},${injector}` : injector } };
}
