/** The `istio` section: which charts, from where, with which extra values; and what destroy keeps. */
import * as fs from "fs";
import { z } from "zod";
import { ChartSource } from "../../components/helmValues";
import { localChartVersion } from "../localCharts";
import { flag, isObject, onceValid, section, SecretOnly, secretSection, text } from "./keys";
import { expects, problem, report } from "./problems";

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
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

export const istio = section({
    version: text('a chart version like "1.30.4" (MAJOR.MINOR.PATCH)', SEMVER)
        .default(DEFAULT_ISTIO_VERSION)
        .meta({ description: "the Istio chart version, `MAJOR.MINOR.PATCH`; with a local chart directory, the one its charts' `Chart.yaml` files declare" }),
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
    // Helm renders a local chart whatever version it is asked for: istio.version must be the charts' own.
    .superRefine(({ version, chartRepo }, ctx) => {
        if (chartRepo.type !== "directory") {
            return;
        }
        let charts: string;
        try {
            charts = localChartVersion(chartRepo.path);
        } catch (err) {
            return report(ctx, ["chartRepo"], problem(chartRepo.path, `${CHART_REPO_ALLOWED} of one version; ${(err as Error).message}`, "path"));
        }
        if (charts !== version) {
            const where = `the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(chartRepo.path)})`;
            report(ctx, ["version"], problem(version, `${JSON.stringify(charts)}, ${where}: Helm installs a local chart as it is, whatever version is asked for`));
        }
    }, onceValid("version", "chartRepo"))
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

/** The mirror's login must be set as a secret. */
export const CHART_CREDENTIALS_SECRET_ONLY: SecretOnly = {
    key: "istio",
    fields: ["chartCredentials"],
    problem:
        "istio.chartCredentials: got a plain-text value; expected a secret (set the password with `pulumi config set --secret --path istio.chartCredentials.password ...`)",
};
