/** The `istio` section: which charts, from where, with which extra values; and what destroy keeps. */
import * as fs from "fs";
import { z } from "zod";
import { ChartSource, IN_PLACE } from "../../components/helmValues";
import { localChartVersion } from "../localCharts";
import { DNS1123_LABEL, DNS1123_LABEL_ALLOWED, flag, isObject, onceValid, section, SecretOnly, secretSection, text } from "./keys";
import { expects, problem, report } from "./problems";

export const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const VERSION_ALLOWED = 'a chart version like "1.30.4" (MAJOR.MINOR.PATCH)';
const REPO_URL = /^(https?|oci):\/\/[^/\s]+/;
const OCI_URL = /^oci:\/\//;

/*
 * Defaults that upstream publishes (checked 2026-11; the images' are in images.ts). Istio retires
 * gcr.io/istio-release, registry.istio.io and istio-release.storage.googleapis.com in December 2026
 * (istio/istio#61467; the 1.31 upgrade notes, "Deprecation of GCP infrastructure and hosting"): Helm
 * charts stay at blob.istio.io/istio-release/charts (and as OCI at oci://ghcr.io/istio/release/charts),
 * images on Docker Hub.
 */

/** Istio's Helm repository after the move off GCP (istio.io blog 2026 "retirement-of-gcp"). */
export const OFFICIAL_ISTIO_CHART_REPO = "https://blob.istio.io/istio-release/charts";
/** The newest Istio release announced on istio.io (news/releases/1.31.x/announcing-1.31.1). */
export const DEFAULT_ISTIO_VERSION = "1.31.1";

/** Why a version must be a local chart directory's own. */
export const localChartsAllowed = (dir: string) =>
    `the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(dir)}): Helm installs a local chart as it is, whatever version is asked for`;

const CHART_REPO_ALLOWED = "a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts";

/** Extra Helm values for one chart; `owned` are the values the program sets itself from the stack config. */
function helmValues(chart: string, owned: string[]) {
    return z
        .record(z.string(), z.unknown(), expects(`an object of Helm values for the ${chart} chart`))
        .superRefine((values, ctx) => {
            for (const key of owned) {
                const value = key.split(".").reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), values);
                if (value !== undefined) {
                    report(ctx, key.split("."), problem(value, "no value: the program sets it from meshId, trustDomain, clusters[] and the istio revisions"));
                }
            }
        })
        .default({});
}

/** How a version change reaches the clusters (the Sail Operator's names for its update strategies). */
export const UPGRADE_STRATEGIES = ["InPlace", "RevisionBased"] as const;
export type UpgradeStrategy = (typeof UPGRADE_STRATEGIES)[number];

const REVISION_NAME_ALLOWED = `${DNS1123_LABEL_ALLOWED}, not "default" (the name of the revision tag)`;

const revision = section({
    name: text(REVISION_NAME_ALLOWED, DNS1123_LABEL)
        .refine((name) => name !== "default", expects(REVISION_NAME_ALLOWED))
        .meta({ description: "the revision's name (`revision` of the istiod chart): its istiod is `istiod-<name>`, its namespaces' label `istio.io/rev: <name>`" }),
    version: text(VERSION_ALLOWED, SEMVER).meta({ description: "the Istio chart version of this revision" }),
});

export const istio = section({
    version: text(VERSION_ALLOWED, SEMVER)
        .optional()
        .meta({
            "x-default": `\`${DEFAULT_ISTIO_VERSION}\` (with \`InPlace\`)`,
            description:
                "with `upgradeStrategy: InPlace`, the Istio chart version, `MAJOR.MINOR.PATCH`; with a local chart directory, the one its charts' `Chart.yaml` files declare; no value with `RevisionBased` (each revision names its version)",
        }),
    upgradeStrategy: z
        .enum(UPGRADE_STRATEGIES, expects('"InPlace" (one istiod per primary, upgraded where it runs) or "RevisionBased" (istiod revisions side by side, the default tag moved between them)'))
        .default("InPlace")
        .meta({
            description:
                "`InPlace`: one unnamed istiod per primary, whose version change updates it where it runs; `RevisionBased`: the istiod revisions of `revisions` side by side in every primary, the revision tag `default` (and so every namespace labelled `istio-injection: enabled`, and the east-west gateways) on `defaultRevision` (see *Upgrading* in docs/operations.md)",
        }),
    revisions: z
        .array(revision, expects("a list of revisions, each with name and version"))
        .min(1, expects("a list of at least one revision, each with name and version"))
        .optional()
        .meta({ description: "with `upgradeStrategy: RevisionBased` (and required there): the istiod revisions every primary runs, and its remotes with it" }),
    defaultRevision: text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL)
        .optional()
        .meta({
            description:
                "with `upgradeStrategy: RevisionBased` (and required there, except while `inPlaceVersion` keeps the unnamed istiod injecting): the revision the revision tag `default` points to, the name of one in `revisions`; the base chart's validation and the east-west gateways follow it",
        }),
    inPlaceVersion: text(VERSION_ALLOWED, SEMVER)
        .optional()
        .meta({
            description:
                "with `upgradeStrategy: RevisionBased`, while a stack installed `InPlace` migrates to revisions: the version of its unnamed istiod (`istiod`), kept beside `revisions` until this key is removed; without `defaultRevision` that istiod's injector still injects and there is no tag `default`; with it, the tag injects and the unnamed istiod's injector is removed (see *From InPlace to RevisionBased* in docs/operations.md)",
        }),
    rolloutOrder: z
        .array(text(DNS1123_LABEL_ALLOWED, DNS1123_LABEL), expects("a list of the names of the primary clusters"))
        .optional()
        .meta({
            "x-default": "none: every cluster at once",
            description:
                "the primary clusters, each once, in the order a change to Istio reaches them (say, a canary cluster first): each one's `base`, `istiod` and east-west gateway charts, and its remotes', are applied only once the previous one's istiod and gateway are ready and, on an existing mesh, its istiod has synced every peer (the peer-sync check) and, with the traffic check on, traffic from it reaches every other cluster's helloworld (the traffic gate), so a failure leaves the clusters after it untouched; needs `workloads.awaitReady: true` (see *Cluster by cluster* in docs/operations.md)",
        }),
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
        .meta({ description: "leave Istio's CRDs (and every Istio resource) in the clusters on `pulumi destroy`, as `helm uninstall` does; see *Destroy* in docs/operations.md" }),
    values: section({
        base: helmValues("base", ["profile", "defaultRevision"]).meta({
            description:
                "extra Helm values for the `base` chart, merged over the program's own; `profile` (`remote` on remotes) and `defaultRevision` are the program's and refused here",
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
            // By revision.
            "revision",
            "revisionTags",
        ]).meta({
            description:
                "extra Helm values for `istiod`, in every cluster; the program sets `global.meshID`, `global.multiCluster.clusterName`, `global.network` and `meshConfig.trustDomain` itself, by role `profile`, `global.externalIstiod`, `global.configCluster`, `global.remotePilotAddress` and `istiodRemote.injectionPath`, and by revision `revision` and `revisionTags`, and refuses them here",
        }),
        gateway: helmValues("gateway", ["name", "networkGateway", "revision"]).meta({
            description: "extra Helm values for the east-west `gateway`; `name`, `networkGateway` and `revision` are the program's and refused here",
        }),
    }).prefault({}),
})
    // Each strategy has its own keys: one version, or revisions with the one the default tag points to.
    .superRefine(({ upgradeStrategy, version, revisions, defaultRevision, inPlaceVersion }, ctx) => {
        if (upgradeStrategy === "InPlace") {
            for (const [key, value] of [["revisions", revisions], ["defaultRevision", defaultRevision]] as const) {
                if (value !== undefined) {
                    report(ctx, [key], problem(value, 'no value with upgradeStrategy "InPlace" (revisions are for "RevisionBased")'));
                }
            }
            if (inPlaceVersion !== undefined) {
                report(
                    ctx,
                    ["inPlaceVersion"],
                    problem(inPlaceVersion, 'no value with upgradeStrategy "InPlace" (it keeps the unnamed istiod while migrating to "RevisionBased"; in place, istio.version is its version)'),
                );
            }
            return;
        }
        if (version !== undefined) {
            report(
                ctx,
                ["version"],
                problem(
                    version,
                    'no value with upgradeStrategy "RevisionBased": each of istio.revisions names its version (to keep the unnamed istiod of an InPlace install while migrating, move its version to istio.inPlaceVersion)',
                ),
            );
        }
        if (revisions === undefined) {
            return report(ctx, ["revisions"], problem(undefined, 'a list of at least one revision, each with name and version, with upgradeStrategy "RevisionBased"'));
        }
        const names = revisions.map((r) => r.name);
        names.forEach((name, i) => {
            if (names.indexOf(name) !== i) {
                report(ctx, ["revisions", i, "name"], problem(name, `a name not used by another revision (istio.revisions[${names.indexOf(name)}] is already named "${name}")`));
            }
        });
        if (defaultRevision === undefined && inPlaceVersion !== undefined) {
            return; // The unnamed istiod of istio.inPlaceVersion still injects; there is no tag yet.
        }
        if (defaultRevision === undefined || !names.includes(defaultRevision)) {
            const unset = inPlaceVersion === undefined ? "" : " (or no value, while the unnamed istiod of istio.inPlaceVersion still injects)";
            report(ctx, ["defaultRevision"], problem(defaultRevision, `the name of one of istio.revisions (${names.join(", ")}), which the revision tag default points to${unset}`));
        }
    }, onceValid("upgradeStrategy", "version", "revisions", "defaultRevision", "inPlaceVersion"))
    // Helm renders a local chart whatever version it is asked for: every version must be the charts' own.
    .superRefine(({ version, revisions, inPlaceVersion, chartRepo }, ctx) => {
        if (chartRepo.type !== "directory") {
            return;
        }
        let charts: string;
        try {
            charts = localChartVersion(chartRepo.path);
        } catch (err) {
            return report(ctx, ["chartRepo"], problem(chartRepo.path, `${CHART_REPO_ALLOWED} of one version; ${(err as Error).message}`, "path"));
        }
        const versions: [PropertyKey[], string][] =
            revisions === undefined
                ? [[["version"], version ?? DEFAULT_ISTIO_VERSION]]
                : [...revisions.map((r, i): [PropertyKey[], string] => [["revisions", i, "version"], r.version]), ...(inPlaceVersion === undefined ? [] : [[["inPlaceVersion"], inPlaceVersion] as [PropertyKey[], string]])];
        for (const [key, value] of versions.filter(([, v]) => v !== charts)) {
            report(ctx, key, problem(value, `${JSON.stringify(charts)}, ${localChartsAllowed(chartRepo.path)}`));
        }
    }, onceValid("version", "revisions", "inPlaceVersion", "chartRepo"))
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
    // The rule above has refused credentials for a directory. With InPlace, the one unnamed revision;
    // while migrating, `defaultRevision` IN_PLACE (no value) says the unnamed istiod still injects.
    .transform(({ chartRepo, chartCredentials, version, revisions, defaultRevision, ...istio }) => ({
        ...istio,
        revisions: revisions ?? [{ name: IN_PLACE, version: version ?? DEFAULT_ISTIO_VERSION }],
        defaultRevision: defaultRevision ?? IN_PLACE,
        chartRepo: chartRepo.type === "directory" || chartCredentials === undefined ? chartRepo : { ...chartRepo, credentials: chartCredentials },
    }))
    .prefault({});

/** The mirror's login must be set as a secret. */
export const CHART_CREDENTIALS_SECRET_ONLY: SecretOnly = {
    key: "istio",
    fields: ["chartCredentials"],
    problem:
        "istio.chartCredentials: got a plain-text value; expected a secret (set the password with `pulumi config set --secret --path istio.chartCredentials.password ...`)",
};
