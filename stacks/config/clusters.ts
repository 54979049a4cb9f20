/**
 * The `clusters` section: each cluster's name, network, role and where it comes from (kind or a
 * kubeconfig), with the rules across clusters; and `topology`, which must agree with them.
 */
import { z } from "zod";
import { kubeconfigServer } from "../../components/kubeconfig";
import { HELLOWORLD_VERSIONS } from "../../components/testApp";
import { helloworldVersionOf } from "../helloworldVersion";
import { impliedTopology, Role, ROLES, TOPOLOGIES, Topology } from "../topology";
import { API_SERVER_ALLOWED, isHttpsUrl, isLoopback, kubeconfigContent } from "./apiServer";
import { SEMVER } from "./istio";
import { DNS1123_LABEL, DNS1123_LABEL_ALLOWED, flag, isObject, onceValid, Rule, section, text } from "./keys";
import { expects, problem, report } from "./problems";

/** Kubernetes label values: the network name ends up in `topology.istio.io/network`. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_ALLOWED =
    "a Kubernetes label value (letters, digits, '-', '_' and '.', 1-63 characters, starting and ending with a letter or digit)";

const kindCluster = section({
    nodeImage: text('a container image such as "kindest/node:v1.34.0"')
        .optional()
        .meta({ "x-default": "kind's", description: "the kind node image, e.g. `kindest/node:v1.34.0`" }),
});

const cluster = section({
    name: text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL).meta({
        description: "unique DNS-1123 label; the cluster's name in the mesh (`global.multiCluster.clusterName`)",
    }),
    network: text(LABEL_VALUE_ALLOWED, LABEL_VALUE).meta({ description: "the cluster's network (`global.network`, `topology.istio.io/network`)" }),
    // `true` is what `pulumi config set --path 'clusters[0].kind' true` sets.
    kind: z
        .union([z.literal(true), kindCluster], expects("{} (or true), or an object with the key nodeImage"))
        .optional()
        .meta({ description: "`{}` or `{ nodeImage: kindest/node:v1.34.0 }`: a local kind cluster the program creates" }),
    kubeconfig: text("a kubeconfig file path or the kubeconfig's YAML content")
        .optional()
        .meta({ secret: true, description: "instead of `kind`: a kubeconfig file path or its YAML content (then set it as a secret) for an existing cluster" }),
    context: text("the name of a context in the kubeconfig").optional().meta({ description: "the kubeconfig context to use", "x-default": "its current context" }),
    apiServer: text(API_SERVER_ALLOWED)
        .refine(isHttpsUrl, expects(API_SERVER_ALLOWED))
        .optional()
        .meta({
            description:
                "the `https://` URL the **other** clusters' istiod must use to reach this API server; a loopback address here (warned about) only works while every istiod runs on this host",
            "x-default": "the kubeconfig's server, unless that is a loopback address",
        }),
    // role and existingIstioNamespace are defaulted in withSource: a default here would show in the
    // problems with `clusters` as if written there.
    role: z
        .enum(ROLES, expects('"primary" (runs istiod) or "remote" (uses its primary\'s istiod); external control planes are not supported'))
        .optional()
        .meta({
            default: "primary",
            description: "`primary` runs istiod; `remote` runs none and is managed by the istiod of the cluster named in `primary` (see docs/topologies.md)",
        }),
    primary: text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL)
        .optional()
        .meta({ description: "for a `remote` only (and required there): the name of the primary cluster whose istiod serves it" }),
    existingIstioNamespace: flag().optional().meta({
        default: false,
        description:
            "for a cluster given by kubeconfig whose `istio-system` already exists (a platform team's, with its quotas and labels): the program only labels it and installs into it, and `pulumi destroy` removes the label and keeps the namespace (see *Objects that may already exist* in docs/operations.md); not for kind clusters",
    }),
    helloworldVersion: z
        .enum(HELLOWORLD_VERSIONS, expects('"v1" or "v2"'))
        .optional()
        .meta({ "x-default": "`v2` if the name ends in an even number, else `v1`", description: "the helloworld version the test app runs in this cluster" }),
    istioVersion: text('a chart version like "1.30.4" (MAJOR.MINOR.PATCH)', SEMVER)
        .optional()
        .meta({
            "x-default": "`istio.version`",
            description:
                "with `istio.upgradeStrategy: InPlace`, on a primary: the Istio version of this cluster and its remotes, to upgrade one cluster at a time; within one minor version of every other cluster's",
        }),
    defaultRevision: text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL)
        .optional()
        .meta({
            "x-default": "`istio.defaultRevision`",
            description:
                "with `istio.upgradeStrategy: RevisionBased`, on a primary: the revision the tag `default` points to in this cluster and its remotes, to move it one cluster at a time",
        }),
    gone: flag().optional().meta({
        default: false,
        description:
            "`true` once the cluster is gone for good: `pulumi up --refresh=false` then takes it out of the mesh and drops its objects from the state without reaching it; remove the entry afterwards (see *A cluster is unreachable* in docs/operations.md)",
    }),
})
    // Exactly one source; an existing cluster's kubeconfig must name an API server that other clusters can reach.
    .superRefine((c, ctx) => {
        if ((c.kind === undefined) === (c.kubeconfig === undefined)) {
            return report(
                ctx,
                [],
                `${c.kind === undefined ? "has neither kind nor kubeconfig" : "has both kind and kubeconfig"}; ` +
                    "expected exactly one: kind (a local cluster this program creates) or kubeconfig (an existing cluster)",
            );
        }
        if (c.kubeconfig === undefined) {
            for (const key of ["context", "apiServer"] as const) {
                if (c[key] !== undefined) {
                    report(ctx, [key], problem(c[key], "no value for a kind cluster (only clusters given by kubeconfig take it)"));
                }
            }
            if (c.existingIstioNamespace) {
                report(
                    ctx,
                    ["existingIstioNamespace"],
                    problem(true, "false for a kind cluster: the program creates the cluster, so no istio-system can exist in it before"),
                );
            }
            return;
        }
        const content = kubeconfigContent(c.kubeconfig);
        if (content === undefined) {
            return report(ctx, ["kubeconfig"], problem(c.kubeconfig, "an existing kubeconfig file, or the kubeconfig's YAML content", "path"));
        }
        let server: string;
        try {
            server = kubeconfigServer(content, c.context);
        } catch (err) {
            const key = c.context === undefined ? "kubeconfig" : "context";
            return report(
                ctx,
                [key],
                problem(c[key], `a kubeconfig context with a server; the kubeconfig ${(err as Error).message}`, key === "kubeconfig" ? "path" : "abbreviated"),
            );
        }
        if (c.apiServer === undefined && isLoopback(server)) {
            report(
                ctx,
                ["apiServer"],
                problem(
                    undefined,
                    `${API_SERVER_ALLOWED}, because the kubeconfig's server ${JSON.stringify(server)} is a loopback address: ` +
                        "istiod in another cluster would reach its own host with it, not this API server",
                ),
            );
        }
    }, onceValid("kubeconfig", "context"));

/**
 * A valid cluster entry as the components take it. Done once the whole config is valid, so that
 * problems with the clusters show the entries as they were written.
 */
export function withSource(c: z.output<typeof cluster>) {
    const { name, network, role = "primary", primary, kind, kubeconfig, context, apiServer, existingIstioNamespace = false, gone = false, istioVersion, defaultRevision } = c;
    const entry = { name, network, role, primary, existingIstioNamespace, gone, helloworldVersion: helloworldVersionOf(c), istioVersion, defaultRevision };
    if (kubeconfig === undefined) {
        return { ...entry, source: { type: "kind" as const, nodeImage: kind === true ? undefined : kind?.nodeImage } };
    }
    // The rule above has read this kubeconfig and found the server.
    const content = kubeconfigContent(kubeconfig)!;
    return {
        ...entry,
        source: { type: "existing" as const, kubeconfig: content, context, apiServer: apiServer ?? kubeconfigServer(content, context) },
    };
}

const CLUSTERS_ALLOWED = "a list of at least two clusters, each with name, network and either kind or kubeconfig";

export const clusters = z
    .array(cluster, expects(CLUSTERS_ALLOWED))
    .min(2, expects(CLUSTERS_ALLOWED))
    .meta({ description: "two or more clusters" })
    // Pod IPs of a kind cluster are not routable from other clusters, so a kind cluster needs a network of its own.
    .superRefine(
        (entries, ctx) =>
            entries.forEach((c, i) => {
                const other = entries.findIndex((o, j) => j !== i && o.network === c.network);
                if (c.kind !== undefined && other !== -1) {
                    report(
                        ctx,
                        [i, "network"],
                        problem(c.network, `a network no other cluster is on (clusters[${other}] is on it too): pod IPs of a kind cluster are not routable from other clusters`),
                    );
                }
            }),
        { when: (payload) => payload.issues.length === 0 },
    )
    // Names are unique. Checked on the valid names, even while other entries have problems.
    .superRefine(
        (entries, ctx) => {
            const first = new Map<string, number>();
            entries.forEach((entry, i) => {
                const name = isObject(entry) ? entry.name : undefined;
                if (typeof name !== "string" || !DNS1123_LABEL.test(name)) {
                    return;
                }
                const seen = first.get(name);
                if (seen !== undefined) {
                    report(ctx, [i, "name"], problem(name, `a name not used by another cluster (clusters[${seen}] is already named "${name}")`));
                }
                first.set(name, seen ?? i);
            });
        },
        { when: (payload) => Array.isArray(payload.value) },
    )
    // A remote names a primary of this mesh, and a primary names none. Checked on the entries whose
    // name, role and primary are valid, even while others have problems.
    .superRefine(
        (entries, ctx) => {
            const roles = entries.map(roleOf);
            const primaries = roles.filter((r) => r.role === "primary" && r.name !== undefined).map((r) => r.name);
            const allowed = `the name of a primary cluster of this mesh (${primaries.join(", ") || "there is none"})`;
            roles.forEach(({ role, primary, written, gone }, i) => {
                if (role === "primary" && written !== undefined) {
                    report(ctx, [i, "primary"], problem(written, "no value for a primary cluster: only a cluster with role: remote names its primary"));
                } else if (role === "remote" && written === undefined) {
                    report(ctx, [i, "primary"], problem(undefined, `${allowed}: clusters[${i}] is a remote, which runs no istiod of its own`));
                } else if (role === "remote" && primary !== undefined) {
                    const j = roles.findIndex((r) => r.name === primary);
                    if (j === -1) {
                        report(ctx, [i, "primary"], problem(primary, `${allowed}; no cluster is named "${primary}"`));
                    } else if (j === i) {
                        report(ctx, [i, "primary"], problem(primary, `${allowed}; a remote cannot be its own primary`));
                    } else if (roles[j].role === "remote") {
                        report(ctx, [i, "primary"], problem(primary, `${allowed}; clusters[${j}] is a remote too, and only a primary runs the istiod a remote uses`));
                    } else if (roles[j].gone && !gone) {
                        report(ctx, [i, "primary"], problem(primary, `${allowed}; clusters[${j}] is gone, and its remotes with it: set gone: true here too`));
                    }
                }
            });
        },
        { when: (payload) => Array.isArray(payload.value) },
    );

/** A cluster entry's name, role and primary where they are valid, and `primary` as written. */
function roleOf(entry: unknown): { name?: string; role?: Role; primary?: string; written?: unknown; gone?: boolean } {
    if (!isObject(entry)) {
        return {};
    }
    const label = (value: unknown) => (typeof value === "string" && DNS1123_LABEL.test(value) ? value : undefined);
    const role = entry.role === undefined ? "primary" : ROLES.find((r) => r === entry.role);
    return { name: label(entry.name), role, primary: label(entry.primary), written: entry.primary, gone: entry.gone === true };
}

/** The clusters of the mesh as the topology sees them: those not gone, each a primary unless it says otherwise. */
export const rolesOf = (clusters: readonly { name: string; network: string; role?: Role; primary?: string; gone?: boolean }[]) =>
    clusters.filter((c) => !c.gone).map(({ name, network, role = "primary", primary }) => ({ name, network, role, primary }));

export const topology = z
    .enum(TOPOLOGIES, expects(`one of ${TOPOLOGIES.join(", ")}`))
    .optional()
    .meta({
        "x-default": "from the roles and networks",
        description:
            "`multi-primary`, `primary-remote` (one primary with remotes) or `multi-primary-remote` (several primaries, some with remotes), each with `-multi-network` when the clusters are on several networks; when set, it must agree with the clusters' roles and networks",
    });

/** A topology that is set must be the one the clusters' roles and networks make. */
export const topologyAgreesWithClusters: Rule<{ topology?: Topology; clusters: z.output<typeof clusters> }> = [
    ({ topology, clusters: entries }, ctx) => {
        const clusters = rolesOf(entries);
        const implied = impliedTopology(clusters);
        if (topology !== undefined && topology !== implied) {
            const networks = [...new Set(clusters.map((c) => c.network))];
            const on = networks.length === 1 ? "one network" : `${networks.length} networks`;
            const remotes = clusters.filter((c) => c.role === "remote").length;
            const primaries = clusters.length - remotes;
            const roles = `${primaries} ${primaries === 1 ? "primary" : "primaries"} and ${remotes || "no"} ${remotes === 1 ? "remote" : "remotes"}`;
            report(ctx, ["topology"], problem(topology, `"${implied}", because the clusters are ${roles} on ${on} (${networks.join(", ")})`));
        }
    },
    onceValid("topology", "clusters"),
];

/** What a valid config says that works only in a special case; `<key>: <value> ...` like the problems. */
export function loopbackApiServerWarnings(clusters: readonly { apiServer?: string }[]): string[] {
    return clusters.flatMap(({ apiServer }, i) =>
        apiServer !== undefined && isLoopback(apiServer)
            ? [
                  `clusters[${i}].apiServer: ${JSON.stringify(apiServer)} is a loopback address; it only works while every cluster's istiod runs on this ` +
                      "same host (as in the end-to-end test), not from istiod in another cluster's pods",
              ]
            : [],
    );
}
