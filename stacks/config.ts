/**
 * The stack config as one declarative schema: every key with what it allows, its default and its
 * description, the rules across keys, and from it the TypeScript type `StackConfig`, the JSON Schema of
 * Pulumi.<stack>.yaml and the README's configuration reference (`npm run gen:config`).
 *
 * A problem reads `<key>: got <value>; expected <what is allowed>` (or `<key>: missing; ...`), and one run
 * reports all of them: a rule across keys runs as soon as the keys it reads are valid, even when others
 * are not. `secret: true` in a key's metadata means Pulumi.<stack>.yaml may hold it encrypted;
 * SECRET_ONLY lists the values it must hold encrypted.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import { z } from "zod";
import { ChartSource } from "../components/helmValues";
import { kubeconfigServer } from "../components/kubeconfig";
import { impliedTopology, Role, ROLES, TOPOLOGIES } from "./topology";

export const CONFIG_NAMESPACE = "istio-multicluster";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_LABEL_ALLOWED =
    "a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)";
/** Kubernetes label values: the network name ends up in `topology.istio.io/network`. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_ALLOWED =
    "a Kubernetes label value (letters, digits, '-', '_' and '.', 1-63 characters, starting and ending with a letter or digit)";
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const REPO_URL = /^(https?|oci):\/\/[^/\s]+/;
const OCI_URL = /^oci:\/\//;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/;

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

export const DEFAULT_IMAGES = {
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

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * How a message shows a value: `abbreviated` to 60 characters; a `path` (a file or directory) whole,
 * since its end is what tells it apart; a `secret` not at all. Multi-line text (a kubeconfig, a PEM key)
 * is never shown.
 */
type Shown = "abbreviated" | "path" | "secret";

/** A value given where a path goes that is one (a kubeconfig in one line of JSON is not, and holds credentials). */
const isPathLike = (value: unknown) => typeof value === "string" && !/^\s*[{[]/.test(value);

/** A config value as a message shows it. */
function describeValue(value: unknown, shown: Shown): string {
    if (shown === "secret") {
        return "a value that is not shown (it is a secret)";
    }
    const text = JSON.stringify(value, (_, v) => (typeof v === "string" && v.includes("\n") ? "<multi-line text, not shown>" : v)) ?? String(value);
    return text.length > 60 && !(shown === "path" && isPathLike(value)) ? `${text.slice(0, 57)}...` : text;
}

/** What follows the key in a problem: the value (or that it is missing) and what is allowed. */
function problem(value: unknown, allowed: string, shown: Shown = "abbreviated"): string {
    return `${value === undefined ? "missing" : `got ${describeValue(value, shown)}`}; expected ${allowed}`;
}

/** The error option of a schema: a value it refuses is reported with `allowed`. */
const expects = (allowed: string, shown: Shown = "abbreviated") => ({
    error: (issue: { input?: unknown }) => problem(issue.input, allowed, shown),
});

/** For rules: reports `text` (what follows the key) at `path`, relative to the object the rule is on. */
function report(ctx: z.RefinementCtx<unknown>, path: PropertyKey[], text: string): void {
    ctx.addIssue({ code: "custom", path, message: text });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Options of a rule across keys of one object: it runs once `keys` are valid, whatever the other keys hold. */
function onceValid(...keys: string[]) {
    return {
        when: (payload: z.core.ParsePayload) => isObject(payload.value) && !payload.issues.some((i) => keys.includes(String(i.path?.[0]))),
    };
}

/** A string matching `pattern`, or any non-empty string. */
function text(allowed: string, pattern?: RegExp, shown: Shown = "abbreviated") {
    const s = z.string(expects(allowed, shown));
    return pattern ? s.regex(pattern, expects(allowed, shown)) : s.min(1, expects(allowed, shown));
}

/** An object with exactly these keys: any other key is reported as a typo. */
function section<T extends z.ZodRawShape>(shape: T) {
    const keys = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (issue) => (issue.code === "unrecognized_keys" ? `no such key (allowed keys: ${keys})` : problem(issue.input, `an object with the keys ${keys}`)),
    });
}

/**
 * Like `section`, for values that are secret: no problem shows a value, not even a misspelt key's.
 * The file may hold the whole object encrypted.
 */
function secretSection<T extends z.ZodRawShape>(shape: T) {
    const keys = Object.keys(shape).join(", ");
    return z
        .object(shape, expects(`an object with the keys ${keys}`, "secret"))
        .catchall(z.unknown().refine(() => false, expects(`no such key (allowed keys: ${keys})`, "secret")))
        .meta({ secret: true, additionalProperties: false });
}

const wholeNumber = (min: number, max: number) => {
    const allowed = expects(`a whole number from ${min} to ${max}`);
    return z.int(allowed).min(min, allowed).max(max, allowed);
};
const flag = () => z.boolean(expects("true or false"));
const image = () => text("a container image reference without spaces", /^\S+$/);

// ---- clusters

/** The kubeconfig's YAML: `kubeconfig` itself when it is content, else the file it names (undefined if there is none). */
function kubeconfigContent(kubeconfig: string): string | undefined {
    if (kubeconfig.includes("\n")) {
        return kubeconfig;
    }
    const file = kubeconfig.replace(/^~(?=\/)/, os.homedir());
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

function isHttpsUrl(s: string): boolean {
    try {
        const url = new URL(s);
        return url.protocol === "https:" && url.hostname.length > 0;
    } catch {
        return false;
    }
}

const API_SERVER_ALLOWED = 'an https URL that the other clusters can reach, e.g. "https://10.0.0.5:6443"';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Whether `url` names the host it is used on: 127.0.0.0/8, ::1 (also IPv4-mapped), `localhost` or a name under it. */
function isLoopback(url: string): boolean {
    if (!URL.canParse(url)) {
        return false;
    }
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
    const family = net.isIP(host);
    return family === 0 ? host === "localhost" || host.endsWith(".localhost") : LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

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
            description: "`primary` runs istiod; `remote` runs none and is managed by the istiod of the cluster named in `primary` (see Topologies)",
        }),
    primary: text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL)
        .optional()
        .meta({ description: "for a `remote` only (and required there): the name of the primary cluster whose istiod serves it" }),
    existingIstioNamespace: flag().optional().meta({
        default: false,
        description:
            "for a cluster given by kubeconfig whose `istio-system` already exists (a platform team's, with its quotas and labels): the program only labels it and installs into it, and `pulumi destroy` removes the label and keeps the namespace (see *Objects that may already exist* below); not for kind clusters",
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
function withSource({ name, network, role = "primary", primary, kind, kubeconfig, context, apiServer, existingIstioNamespace = false }: z.output<typeof cluster>) {
    const entry = { name, network, role, primary, existingIstioNamespace };
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

const clusters = z
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
            roles.forEach(({ role, primary, written }, i) => {
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
                    }
                }
            });
        },
        { when: (payload) => Array.isArray(payload.value) },
    );

/** A cluster entry's name, role and primary where they are valid, and `primary` as written. */
function roleOf(entry: unknown): { name?: string; role?: Role; primary?: string; written?: unknown } {
    if (!isObject(entry)) {
        return {};
    }
    const label = (value: unknown) => (typeof value === "string" && DNS1123_LABEL.test(value) ? value : undefined);
    const role = entry.role === undefined ? "primary" : ROLES.find((r) => r === entry.role);
    return { name: label(entry.name), role, primary: label(entry.primary), written: entry.primary };
}

// ---- Istio

const CHART_REPO_ALLOWED = "a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts";

/** Extra Helm values for one chart; `owned` are the values the program sets itself from the stack config. */
function helmValues(chart: string, owned: string[]) {
    return z
        .record(z.string(), z.unknown(), expects(`an object of Helm values for the ${chart} chart`))
        .superRefine((values, ctx) => {
            for (const key of owned) {
                const value = key.split(".").reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), values);
                if (value !== undefined) {
                    report(ctx, key.split("."), problem(value, "no value: the program sets it from meshId, trustDomain and clusters[]"));
                }
            }
        })
        .default({});
}

const istio = section({
    version: text('a chart version like "1.30.4" (MAJOR.MINOR.PATCH)', SEMVER)
        .default(DEFAULT_ISTIO_VERSION)
        .meta({ description: "the Istio chart version, `MAJOR.MINOR.PATCH`" }),
    chartRepo: text(CHART_REPO_ALLOWED)
        .refine((s) => REPO_URL.test(s) || (fs.existsSync(s) && fs.statSync(s).isDirectory()), expects(CHART_REPO_ALLOWED, "path"))
        .default(OFFICIAL_ISTIO_CHART_REPO)
        .transform((s): ChartSource =>
            OCI_URL.test(s) ? { type: "oci", url: s } : REPO_URL.test(s) ? { type: "repository", url: s } : { type: "directory", path: s },
        )
        .meta({
            description:
                "a Helm repository (`https://`, `http://`), an OCI registry (`oci://`, e.g. Istio's `oci://ghcr.io/istio/release/charts`; each chart is pulled as `<registry>/<chart>` at exactly `istio.version`) or a local directory holding `base/`, `istiod/` and `gateway/` (air-gapped sites)",
        }),
    chartCredentials: secretSection({
        username: text("the mirror's user name").meta({ description: "the mirror's user name" }),
        password: text("the mirror's password", undefined, "secret").meta({ secret: true, description: "its password" }),
    })
        .optional()
        .meta({
            description:
                "login to a private chart mirror, both keys or none: for an `https://` repository or an `oci://` registry (not `http://`, not a directory); must be a secret: `pulumi config set --secret --path istio.chartCredentials.password ...`",
        }),
    keepCrds: flag()
        .default(false)
        .meta({ description: "leave Istio's CRDs (and every Istio resource) in the clusters on `pulumi destroy`, as `helm uninstall` does; see Destroy" }),
    values: section({
        base: helmValues("base", ["profile"]).meta({
            description: "extra Helm values for the `base` chart, merged over the program's own; `profile` is the program's (`remote` on remotes) and refused here",
        }),
        istiod: helmValues("istiod", [
            "global.meshID",
            "global.multiCluster.clusterName",
            "global.network",
            "meshConfig.trustDomain",
            // By role (see components/helmValues.ts).
            "profile",
            "global.externalIstiod",
            "global.configCluster",
            "global.remotePilotAddress",
            "istiodRemote.injectionPath",
        ]).meta({
            description:
                "extra Helm values for `istiod`, in every cluster; the program sets `global.meshID`, `global.multiCluster.clusterName`, `global.network` and `meshConfig.trustDomain` itself, and by role `profile`, `global.externalIstiod`, `global.configCluster`, `global.remotePilotAddress` and `istiodRemote.injectionPath`, and refuses them here",
        }),
        gateway: helmValues("gateway", ["name", "networkGateway"]).meta({
            description: "extra Helm values for the east-west `gateway`; `name` and `networkGateway` are the program's and refused here",
        }),
    }).prefault({}),
})
    // A login belongs to a repository or registry, and its password never crosses the network in plain text.
    .superRefine(({ chartRepo, chartCredentials }, ctx) => {
        if (chartCredentials === undefined) {
            return;
        }
        const login = { username: chartCredentials.username, password: "<secret>" };
        if (chartRepo.type === "directory") {
            report(
                ctx,
                ["chartCredentials"],
                problem(login, `no value while istio.chartRepo is a local directory (${JSON.stringify(chartRepo.path)}): only a Helm repository or OCI registry takes a login`),
            );
        } else if (chartRepo.url.startsWith("http://")) {
            report(
                ctx,
                ["chartCredentials"],
                problem(
                    login,
                    `no value while istio.chartRepo is plain HTTP (${JSON.stringify(chartRepo.url)}): the password would cross the network unencrypted (use an https:// or oci:// mirror)`,
                ),
            );
        }
    }, onceValid("chartRepo", "chartCredentials"))
    // The rule above has refused credentials for a directory.
    .transform(({ chartRepo, chartCredentials, ...istio }) => ({
        ...istio,
        chartRepo: chartRepo.type === "directory" || chartCredentials === undefined ? chartRepo : { ...chartRepo, credentials: chartCredentials },
    }))
    .prefault({});

// ---- the mesh's CA

const GENERATED_CA = { organization: "Istio multicluster mesh", validityHours: 24 * 365 };

/*
 * Renewal of the intermediates. Istio issues workload certificates for 24 h (DEFAULT_WORKLOAD_CERT_TTL)
 * and leaves those issued by the old intermediate in use until they expire, so an intermediate must be
 * replaced while it still outlives them: at the latest a day's margin before that. By default an
 * intermediate is renewed in the last third of its lifetime (four months of a year), as certificate
 * managers do (cert-manager's default renewBefore), which leaves months to notice a failed renewal.
 */
/** 24 h of workload certificates signed just before the renewal, plus a day's margin. */
export const MIN_RENEW_BEFORE_HOURS = 48;
/** The renewal window of a certificate that lasts `lifetimeHours`: its last third, and no less than MIN_RENEW_BEFORE_HOURS. */
export const defaultRenewBeforeHours = (lifetimeHours: number) => Math.max(Math.ceil(lifetimeHours / 3), MIN_RENEW_BEFORE_HOURS);
const RENEW_BEFORE_DEFAULT = `a third of the intermediate's lifetime, at least ${MIN_RENEW_BEFORE_HOURS}`;

const ca = section({
    // Defaults are applied below, once it is clear that the CA is generated.
    organization: text("a non-empty string")
        .optional()
        .meta({ default: GENERATED_CA.organization, description: "for the generated CA: the certificates' organization" }),
    validityHours: wholeNumber(24, 24 * 365 * 20)
        .optional()
        .meta({
            default: GENERATED_CA.validityHours,
            description: "for the generated CA: the intermediates' lifetime in hours (the root lasts 10 years); longer than `ca.renewBeforeHours`",
        }),
    renewBeforeHours: wholeNumber(MIN_RENEW_BEFORE_HOURS, 24 * 365 * 20)
        .optional()
        .meta({
            "x-default": RENEW_BEFORE_DEFAULT,
            description:
                "the renewal window, in hours before an intermediate expires: from then on `pulumi preview` warns, naming the cluster and the days left, and `pulumi up` issues a generated cluster's new intermediate under the same root and updates `cacerts` in place (a supplied one is only warned about); see docs/credentials.md",
        }),
    rootCert: text("a PEM certificate (the mesh's root CA)", PEM_CERT)
        .optional()
        .meta({ secret: true, "x-default": "generated", description: "bring your own CA instead: the root certificate" }),
    intermediates: z
        .record(
            z.string().meta({ title: "cluster" }),
            section({
                cert: text("a PEM certificate signed by ca.rootCert", PEM_CERT).meta({ secret: true, description: "the cluster's intermediate CA certificate" }),
                key: text("a PEM private key", PEM_KEY, "secret").meta({ secret: true, description: "its private key" }),
            }),
            expects("an object with one {cert, key} entry per cluster"),
        )
        .optional()
        .meta({
            "x-default": "generated",
            description: "with `rootCert`: one intermediate CA per cluster; the whole `ca` must be set as a secret (`pulumi config set --secret --path ...`)",
        }),
})
    // A supplied CA has both parts and leaves nothing to generate.
    .superRefine((c, ctx) => {
        if (c.rootCert === undefined && c.intermediates === undefined) {
            return;
        }
        for (const key of ["organization", "validityHours"] as const) {
            if (c[key] !== undefined) {
                report(ctx, [key], problem(c[key], "no value when ca.rootCert/ca.intermediates supply an existing CA"));
            }
        }
        if (c.rootCert === undefined) {
            report(ctx, ["rootCert"], problem(undefined, "a PEM certificate (the mesh's root CA)"));
        }
        if (c.intermediates === undefined) {
            report(ctx, ["intermediates"], problem(undefined, "an object with one {cert, key} entry per cluster"));
        }
    }, onceValid())
    // A generated intermediate outlives its renewal window: otherwise every `pulumi up` would renew it.
    .superRefine((c, ctx) => {
        if (c.rootCert !== undefined || c.intermediates !== undefined) {
            return;
        }
        const validityHours = c.validityHours ?? GENERATED_CA.validityHours;
        if (c.renewBeforeHours !== undefined && c.renewBeforeHours >= validityHours) {
            report(
                ctx,
                ["renewBeforeHours"],
                problem(c.renewBeforeHours, `fewer hours than ca.validityHours (${validityHours}): an intermediate renewed that early would be renewed at every \`pulumi up\``),
            );
        } else if (c.renewBeforeHours === undefined && defaultRenewBeforeHours(validityHours) >= validityHours) {
            report(
                ctx,
                ["validityHours"],
                problem(
                    validityHours,
                    `more than ${MIN_RENEW_BEFORE_HOURS}: an intermediate is renewed at least ${MIN_RENEW_BEFORE_HOURS} hours before it expires, so that it outlives the 24-hour workload certificates it signed before the renewal (with a day's margin)`,
                ),
            );
        }
    }, onceValid("validityHours", "renewBeforeHours", "rootCert", "intermediates"))
    .prefault({})
    .meta({ secret: true })
    .transform(({ rootCert, intermediates, organization, validityHours, renewBeforeHours }) =>
        rootCert !== undefined && intermediates !== undefined
            ? { type: "provided" as const, rootCert, intermediates, renewBeforeHours }
            : {
                  type: "generated" as const,
                  organization: organization ?? GENERATED_CA.organization,
                  validityHours: validityHours ?? GENERATED_CA.validityHours,
                  renewBeforeHours: renewBeforeHours ?? defaultRenewBeforeHours(validityHours ?? GENERATED_CA.validityHours),
              },
    );

// ---- the remote secrets

/**
 * Rotating a reader token updates each remote secret in place (same Secret, same key). istiod rebuilds
 * the remote cluster's client when the kubeconfig's hash changes; from 1.30 it keeps serving the old
 * registry until the new one has synced, and 1.30.0 to 1.30.3 have rotation bugs fixed in 1.30.4.
 */
export const READER_TOKEN_ROTATION_SINCE = "1.30.4";

/**
 * Whether the Istio of `version` (a valid istio.version) updates a remote secret in place without losing
 * the cluster. `1.0.0` is what Istio's charts built from source carry (its release tooling writes the
 * real version at release time; the Istio 1.0 release had no `base`/`istiod` charts, which this program
 * needs), so it is taken as a development build of the newest Istio. A prerelease of a version counts as
 * older than that version, as in semver.
 */
export function rotatesReaderTokensInPlace(version: string): boolean {
    const [core, prerelease] = version.split(/-(.*)/s);
    const [major, minor, patch] = core.split(".").map(Number);
    if (major === 1 && minor === 0 && patch === 0) {
        return true;
    }
    const [minMajor, minMinor, minPatch] = READER_TOKEN_ROTATION_SINCE.split(".").map(Number);
    const order = major - minMajor || minor - minMinor || patch - minPatch;
    return order > 0 || (order === 0 && prerelease === undefined);
}

const remoteSecrets = section({
    tokenGeneration: wholeNumber(0, 1_000_000)
        .default(0)
        .meta({
            description: `the reader tokens' generation: raising it rotates every remote secret's token (a new \`istio-reader-token-for-<cluster>-<generation>\` token Secret, each remote secret updated in place, the old token deleted and so revoked at the end of \`pulumi up\`); needs istio.version ${READER_TOKEN_ROTATION_SINCE} or later; see docs/credentials.md`,
        }),
}).prefault({});

/** A rotated token reaches istiod by an in-place update of its remote secret, which older Istio mishandles. */
function tokenRotationNeedsIstio({ istio, remoteSecrets }: { istio: { version: string }; remoteSecrets: { tokenGeneration: number } }, ctx: z.RefinementCtx<unknown>): void {
    if (remoteSecrets.tokenGeneration !== 0 && !rotatesReaderTokensInPlace(istio.version)) {
        report(
            ctx,
            ["remoteSecrets", "tokenGeneration"],
            problem(
                remoteSecrets.tokenGeneration,
                `0 while istio.version is ${JSON.stringify(istio.version)}: a rotated token reaches istiod by an update of its remote secret in place, which Istio before ${READER_TOKEN_ROTATION_SINCE} mishandles (1.30.0 to 1.30.3 have rotation bugs; before 1.30 istiod drops the cluster until the new client has synced); upgrade istio.version first`,
            ),
        );
    }
}

// ---- the stack config

/** The clusters as the topology sees them: every cluster is a primary unless it says otherwise. */
const rolesOf = (clusters: readonly { name: string; network: string; role?: Role; primary?: string }[]) =>
    clusters.map(({ name, network, role = "primary", primary }) => ({ name, network, role, primary }));

export const stackConfigSchema = section({
    meshId: text(`${DNS1123_LABEL_ALLOWED}, e.g. "mesh1"`, DNS1123_LABEL).meta({ description: "the mesh ID, a DNS-1123 label (`global.meshID`)" }),
    trustDomain: text('a DNS name such as "cluster.local"', DNS_NAME)
        .default("cluster.local")
        .meta({ description: "the mesh's trust domain (`meshConfig.trustDomain`)" }),
    topology: z
        .enum(TOPOLOGIES, expects(`one of ${TOPOLOGIES.join(", ")}`))
        .optional()
        .meta({
            "x-default": "from the roles and networks",
            description:
                "`multi-primary`, `primary-remote` (one primary with remotes) or `multi-primary-remote` (several primaries, some with remotes), each with `-multi-network` when the clusters are on several networks; when set, it must agree with the clusters' roles and networks",
        }),
    clusters,
    istio,
    ca,
    remoteSecrets,
    testApp: section({ enabled: flag().default(true).meta({ description: "deploy the helloworld/curl test app" }) }).prefault({}),
    verify: section({
        enabled: flag().optional().meta({ "x-default": "`testApp.enabled`", description: "run the cross-cluster traffic check" }),
        requests: wholeNumber(2, 1000).default(20).meta({ description: "requests per attempt from each cluster" }),
        attempts: wholeNumber(1, 1000).default(30).meta({ description: "attempts (5 s apart) before the check fails" }),
    }).prefault({}),
    workloads: section({
        awaitReady: flag()
            .default(true)
            .meta({ description: "wait for pods to be ready; `false` only for API servers without nodes (the e2e test), and then `verify.enabled` must be `false`" }),
    }).prefault({}),
    images: section({
        istioHub: image().default(DEFAULT_IMAGES.istioHub).meta({
            description: "registry of Istio's own images (`global.hub`); set it for a mirror, and on air-gapped sites whose local charts name another registry",
        }),
        helloworldV1: image().default(DEFAULT_IMAGES.helloworldV1).meta({ description: "test-app image, for mirrors" }),
        helloworldV2: image().default(DEFAULT_IMAGES.helloworldV2).meta({ description: "test-app image, for mirrors" }),
        curl: image().default(DEFAULT_IMAGES.curl).meta({ description: "test-app image, for mirrors" }),
    }).prefault({}),
})
    // A topology that is set must be the one the clusters' roles and networks make.
    .superRefine(({ topology, clusters }, ctx) => {
        const implied = impliedTopology(rolesOf(clusters));
        if (topology !== undefined && topology !== implied) {
            const networks = [...new Set(clusters.map((c) => c.network))];
            const on = networks.length === 1 ? "one network" : `${networks.length} networks`;
            const remotes = clusters.filter((c) => c.role === "remote").length;
            const primaries = clusters.length - remotes;
            const roles = `${primaries} ${primaries === 1 ? "primary" : "primaries"} and ${remotes || "no"} ${remotes === 1 ? "remote" : "remotes"}`;
            report(ctx, ["topology"], problem(topology, `"${implied}", because the clusters are ${roles} on ${on} (${networks.join(", ")})`));
        }
    }, onceValid("topology", "clusters"))
    .superRefine(tokenRotationNeedsIstio, onceValid("istio", "remoteSecrets"))
    // A supplied CA has an intermediate for every cluster, and only for those. Checked even while an
    // entry has problems of its own, so `ca` may still be the object as written.
    .superRefine(({ ca, clusters }, ctx) => {
        const intermediates = isObject(ca) ? ca.intermediates : undefined;
        if (!isObject(intermediates)) {
            return;
        }
        const names = clusters.map((c) => c.name);
        for (const name of names.filter((n) => !Object.hasOwn(intermediates, n))) {
            report(ctx, ["ca", "intermediates", name], problem(undefined, `the {cert, key} of cluster ${name}'s intermediate CA`));
        }
        for (const name of Object.keys(intermediates).filter((n) => !names.includes(n))) {
            report(ctx, ["ca", "intermediates", name], problem("{...}", `an entry only for a configured cluster (${names.join(", ")})`));
        }
    }, onceValid("clusters"))
    // The verification sends traffic between the test app's pods.
    .superRefine(({ testApp, verify, workloads }, ctx) => {
        const enabled = verify.enabled ?? testApp.enabled;
        if (enabled && !testApp.enabled) {
            report(ctx, ["verify", "enabled"], "got true while testApp.enabled is false; the verification needs the test app (set verify.enabled: false or testApp.enabled: true)");
        }
        if (enabled && !workloads.awaitReady) {
            report(ctx, ["verify", "enabled"], "got true while workloads.awaitReady is false; traffic can only be verified once pods run (set verify.enabled: false)");
        }
    }, onceValid("testApp", "verify", "workloads"))
    .transform((c) => ({
        ...c,
        topology: c.topology ?? impliedTopology(rolesOf(c.clusters)),
        clusters: c.clusters.map(withSource),
        verify: { ...c.verify, enabled: c.verify.enabled ?? c.testApp.enabled },
    }));

/** The validated config the mesh is composed from. */
export type StackConfig = z.output<typeof stackConfigSchema>;
/** The config as written: keys without the `istio-multicluster:` prefix, values JSON-decoded. */
export type StackConfigInput = z.input<typeof stackConfigSchema>;

/** `clusters[1].name`, `istio.values.istiod.global.network`: a key as the problems name it. */
function keyOf(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/**
 * Values that must be set as secrets: a top-level key holding any of `fields` must be one. Pulumi tells
 * secrets apart per top-level key; `pulumi config set --secret --path <key>.<field>` makes the whole key one.
 */
const SECRET_ONLY = [
    {
        key: "ca",
        fields: ["rootCert", "intermediates"],
        problem: "ca: got a plain-text value; expected a secret (set it with `pulumi config set --secret --path ca.intermediates.<cluster>.key ...`)",
    },
    {
        key: "istio",
        fields: ["chartCredentials"],
        problem:
            "istio.chartCredentials: got a plain-text value; expected a secret (set the password with `pulumi config set --secret --path istio.chartCredentials.password ...`)",
    },
];

function plainTextSecrets(raw: Record<string, unknown>, secretKeys: ReadonlySet<string>): string[] {
    return SECRET_ONLY.filter(({ key, fields }) => {
        const value = raw[key];
        return !secretKeys.has(key) && isObject(value) && fields.some((f) => value[f] !== undefined);
    }).map((s) => s.problem);
}

/** What a valid config says that works only in a special case; `<key>: <value> ...` like the problems. */
function warningsOf(input: StackConfigInput): string[] {
    return input.clusters.flatMap(({ apiServer }, i) =>
        apiServer !== undefined && isLoopback(apiServer)
            ? [
                  `clusters[${i}].apiServer: ${JSON.stringify(apiServer)} is a loopback address; it only works while every cluster's istiod runs on this ` +
                      "same host (as in the end-to-end test), not from istiod in another cluster's pods",
              ]
            : [],
    );
}

/**
 * Validates the config and fills in the defaults; throws one ConfigError that lists every problem, or
 * returns the config with warnings for the caller to log. `secretKeys` are the top-level keys the
 * stack holds as secrets.
 */
export function parseStackConfig(
    raw: Record<string, unknown>,
    secretKeys: ReadonlySet<string> = new Set(),
): { config: StackConfig; warnings: string[] } {
    const result = stackConfigSchema.safeParse(raw, { reportInput: true });
    const problems = [
        ...(result.error?.issues ?? []).flatMap((issue) =>
            // One problem per misspelt key, each with its value.
            issue.code === "unrecognized_keys"
                ? issue.keys.map((k) => `${keyOf([...issue.path, k])}: ${problem((issue.input as Record<string, unknown>)[k], issue.message)}`)
                : [`${keyOf(issue.path)}: ${issue.message}`],
        ),
        ...plainTextSecrets(raw, secretKeys),
    ];
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    // The schema has accepted `raw`.
    return { config: result.data!, warnings: warningsOf(raw as StackConfigInput) };
}
