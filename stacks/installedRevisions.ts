/**
 * The istiod revisions each cluster runs now, read before any resource is registered, and the version
 * changes the support policy refuses: one that skips a minor version.
 */
import * as pulumi from "@pulumi/pulumi";
import { IN_PLACE, Revisions } from "../components/helmValues";
import { getFromEachCluster } from "./askClusters";
import { ConfigError, StackConfig } from "./config";
import { problem } from "./config/problems";
import { minorsApart, SUPPORT_POLICY } from "./config/supportPolicy";
import { PROBE_TIMEOUT_MS } from "./reachability";
import { stopProgram } from "./stopProgram";

/** The injection webhooks of the istiod chart, every revision's and every role's (a remote has one too), as metadata only. */
const INJECTORS = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?labelSelector=app%3Dsidecar-injector";
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/** A revision that runs in a cluster: its injection webhook, its name ("" in place) and its chart version. */
export interface InstalledRevision {
    readonly webhook: string;
    readonly revision: string;
    readonly version: string;
}

/** By cluster, the istiod revisions it runs now; a cluster that was not read is missing. */
export type Installed = Readonly<Record<string, readonly InstalledRevision[]>>;

interface ObjectMetadata {
    readonly name: string;
    readonly labels?: Record<string, string>;
}

/**
 * The revisions of a list of injection webhooks: each chart labels its webhook with its revision
 * (`istio.io/rev`, `default` in place) and its chart (`helm.sh/chart: istiod-<version>`). Revision
 * tags (`istio.io/tag`) are aliases, not revisions; a webhook no istiod chart made is not one either.
 */
export function revisionsOf(items: readonly { readonly metadata: ObjectMetadata }[]): InstalledRevision[] {
    return items.flatMap(({ metadata: { name, labels = {} } }) => {
        const chart = /^istiod-(\d+\.\d+\.\d+.*)$/.exec(labels["helm.sh/chart"] ?? "");
        if (chart === null || labels["istio.io/tag"] !== undefined) {
            return [];
        }
        const revision = labels["istio.io/rev"] ?? "default";
        return [{ webhook: name, revision: revision === "default" ? IN_PLACE : revision, version: chart[1] }];
    });
}

/**
 * By cluster, the revisions each cluster given by kubeconfig runs, and a problem per cluster that could
 * not be asked. kind clusters (the program creates them, and their credentials are in the state) and
 * clusters behind a proxy are not asked, as for reachability; nor, with a warning, a cluster whose
 * kubeconfig's user may not list webhooks.
 */
export async function installedRevisions(
    clusters: StackConfig["clusters"],
    timeoutMs: number,
): Promise<{ installed: Readonly<Record<string, InstalledRevision[]>>; problems: string[] }> {
    const installed: Record<string, InstalledRevision[]> = {};
    const answers = await getFromEachCluster(clusters, INJECTORS, METADATA_LIST, timeoutMs);
    const problems = answers.map(({ name, answer }) => {
        if ("failure" in answer) {
            return `${name}: could not read which Istio runs there: ${answer.failure}`;
        }
        if (answer.status === 403) {
            pulumi.log.warn(`cluster ${name}: the kubeconfig's user may not list mutatingwebhookconfigurations, so the Istio version it runs is not checked against the support policy`);
            return undefined;
        }
        if (answer.status !== 200) {
            return `${name}: could not read which Istio runs there: HTTP ${answer.status} ${answer.statusMessage}`.trimEnd();
        }
        installed[name] = revisionsOf(JSON.parse(answer.body).items ?? []);
        return undefined;
    });
    return { installed, problems: problems.filter((p): p is string => p !== undefined) };
}

/** The key a cluster's revision takes its version from. */
function versionKey(config: StackConfig, cluster: StackConfig["clusters"][number], revision: string): string {
    if (config.istio.upgradeStrategy === "RevisionBased") {
        if (revision === IN_PLACE) {
            return "istio.inPlaceVersion";
        }
        return `istio.revisions[${config.istio.revisions.findIndex((r) => r.name === revision)}].version`;
    }
    const serving = cluster.role === "remote" ? cluster.primary : cluster.name;
    const i = config.clusters.findIndex((c) => c.name === serving);
    return config.clusters[i].istioVersion === undefined ? "istio.version" : `clusters[${i}].istioVersion`;
}

const shown = (revision: string) => (revision === IN_PLACE ? "in place" : `revision ${revision}`);

/**
 * A problem per version the config would install in a cluster more than one minor version from a
 * version that cluster runs now: an upgrade (or a downgrade) that skips a minor version.
 */
export function skippedMinorProblems(config: StackConfig, installed: Installed): string[] {
    return config.clusters
        .filter((c) => !c.gone)
        .flatMap((cluster) =>
            cluster.istio.revisions.flatMap(({ name, version }) =>
                (installed[cluster.name] ?? [])
                    .filter((now) => minorsApart(now.version, version) > 1)
                    .map(
                        (now) =>
                            `${versionKey(config, cluster, name)}: ${problem(
                                version,
                                `a version within one minor version of ${now.version}, which ${cluster.name} runs now (${shown(now.revision)}, ` +
                                    `webhook ${now.webhook}); the change would skip a minor version: ${SUPPORT_POLICY}`,
                            )}`,
                    ),
            ),
        );
}

/**
 * A problem per cluster whose unnamed istiod still injects (its webhook `istio-sidecar-injector` is
 * read) while the config is revision-based and keeps no unnamed istiod (no `istio.inPlaceVersion`):
 * that `up` would delete the istiod that injects and serves the running proxies in the same run that
 * moves injection to the tag. The migration keeps it until the tag has moved off it.
 */
export function unnamedDroppedProblems(config: StackConfig, installed: Installed): string[] {
    if (config.istio.upgradeStrategy !== "RevisionBased" || config.istio.inPlaceVersion !== undefined) {
        return [];
    }
    return config.clusters
        .filter((c) => !c.gone)
        .flatMap((cluster) =>
            (installed[cluster.name] ?? [])
                .filter((now) => now.revision === IN_PLACE)
                .map(
                    (now) =>
                        `istio.inPlaceVersion: ${problem(
                            undefined,
                            `"${now.version}", the version of the unnamed istiod ${cluster.name} runs now (webhook ${now.webhook} still injects namespaces labelled istio-injection: enabled): ` +
                                "a stack installed InPlace keeps its unnamed istiod beside istio.revisions until istio.defaultRevision has moved the tag default (and with it injection) to a revision, and drops it in an up after that (see From InPlace to RevisionBased in docs/operations.md)",
                        )}`,
                ),
        );
}

/**
 * A problem per cluster whose unnamed istiod still injects while the config moves the tag `default` to a
 * revision that cluster does not run yet: the tag's webhook would send every injection to an istiod
 * that this same `up` only starts (pods refused until it serves). The revision goes in first, beside.
 */
export function tagBeforeRevisionProblems(config: StackConfig, installed: Installed): string[] {
    if (config.istio.upgradeStrategy !== "RevisionBased" || config.istio.inPlaceVersion === undefined) {
        return [];
    }
    return config.clusters
        .filter((c) => !c.gone && c.role === "primary")
        .flatMap((cluster) => {
            const running = installed[cluster.name];
            const target = cluster.istio.defaultRevision;
            if (running === undefined || target === IN_PLACE || !running.some((r) => r.revision === IN_PLACE) || running.some((r) => r.revision === target)) {
                return [];
            }
            const i = config.clusters.findIndex((c) => c.name === cluster.name);
            const key = config.clusters[i].defaultRevision === undefined ? "istio.defaultRevision" : `clusters[${i}].defaultRevision`;
            return [
                `${key}: ${problem(
                    target,
                    `no value until revision ${target} runs in ${cluster.name} beside its unnamed istiod (webhook ${running.find((r) => r.revision === IN_PLACE)!.webhook}): ` +
                        `install the revision in an up of its own first, then move the tag, so that injection moves to an istiod that already serves (see From InPlace to RevisionBased in docs/operations.md)`,
                )}`,
            ];
        });
}

/** The revisions a cluster runs that `configured` no longer lists: those this `up` removes. */
export const formerRevisions = (running: readonly InstalledRevision[], configured: Revisions): string[] =>
    running.map((r) => r.revision).filter((r) => !configured.revisions.some((c) => c.name === r));

/**
 * Stops the program, before any resource is registered, at a version change the support policy refuses,
 * with the config's message; or when a cluster could not be asked what it runs. Returns what each
 * cluster that was asked runs.
 */
export async function requireSupportedUpgrade(config: StackConfig, timeoutMs = PROBE_TIMEOUT_MS): Promise<Installed> {
    const { installed, problems } = await installedRevisions(config.clusters.filter((c) => !c.gone), timeoutMs);
    if (problems.length > 0) {
        throw stopProgram(`Cannot check the Istio version change against the support policy; stopped before changing anything:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const skipped = [...new Set([...skippedMinorProblems(config, installed), ...unnamedDroppedProblems(config, installed), ...tagBeforeRevisionProblems(config, installed)])];
    if (skipped.length > 0) {
        throw stopProgram(new ConfigError(skipped).message);
    }
    return installed;
}
