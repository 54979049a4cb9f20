/**
 * Which Istio each cluster runs — `istio.version` or `istio.revisions`, and a primary's own
 * `istioVersion` or `defaultRevision` for an upgrade one cluster at a time — and the support policy
 * across them: versions one minor apart at most, in the whole mesh.
 */
import { z } from "zod";
import { IN_PLACE, Revisions } from "../../components/helmValues";
import { versionCore } from "../../components/istioVersion";
import { localChartVersion } from "../localCharts";
import { clusters as clustersSchema } from "./clusters";
import { istio as istioSchema, localChartsAllowed } from "./istio";
import { onceValid, Rule } from "./keys";
import { keyOf, problem, report } from "./problems";

/** What the program holds to: Istio's upgrade guides test one minor version per step. */
export const SUPPORT_POLICY =
    "Istio supports upgrades and downgrades of one minor version at a time (its upgrade guides test no more per step), " +
    "so the clusters of a mesh stay within one minor version of each other";

/** How many minor versions apart two versions are; Infinity across major versions. */
export function minorsApart(a: string, b: string): number {
    const [majorA, minorA] = versionCore(a);
    const [majorB, minorB] = versionCore(b);
    return majorA === majorB ? Math.abs(minorA - minorB) : Infinity;
}

type Istio = z.output<typeof istioSchema>;
type Entries = z.output<typeof clustersSchema>;

/** The entry whose istiod serves `entry`: itself, or a remote's primary. */
const servingEntry = (entries: Entries, entry: Entries[number]) =>
    entry.role === "remote" ? (entries.find((e) => e.name === entry.primary) ?? entry) : entry;

/** What a cluster runs, by its entry (a remote by its primary's). */
export function clusterIstio(istio: Istio, entries: Entries, entry: Entries[number]): Revisions {
    const serving = servingEntry(entries, entry);
    if (istio.upgradeStrategy === "InPlace") {
        return { revisions: [{ name: IN_PLACE, version: serving.istioVersion ?? istio.revisions[0].version }], defaultRevision: IN_PLACE };
    }
    // While migrating from InPlace, the unnamed istiod first, beside the revisions; the tag `default` on
    // IN_PLACE (no defaultRevision) means the unnamed istiod still injects.
    const unnamed = istio.inPlaceVersion === undefined ? [] : [{ name: IN_PLACE, version: istio.inPlaceVersion }];
    return { revisions: [...unnamed, ...istio.revisions], defaultRevision: serving.defaultRevision ?? istio.defaultRevision };
}

/** A primary's own version or default revision belongs to its strategy, and names what exists. */
export const clusterOverridesAgree: Rule<{ istio: Istio; clusters: Entries }> = [
    ({ istio, clusters: entries }, ctx) => {
        const strategy = istio.upgradeStrategy;
        const names = istio.revisions.map((r) => r.name);
        entries.forEach((entry, i) => {
            const own = [
                ["istioVersion", entry.istioVersion, "InPlace"],
                ["defaultRevision", entry.defaultRevision, "RevisionBased"],
            ] as const;
            for (const [key, value, needs] of own) {
                if (value === undefined) {
                    continue;
                }
                if (entry.role === "remote") {
                    report(ctx, ["clusters", i, key], problem(value, `no value on a remote: it runs what its primary ${entry.primary} runs`));
                } else if (strategy !== needs) {
                    report(ctx, ["clusters", i, key], problem(value, `no value with istio.upgradeStrategy "${strategy}" (it is for "${needs}")`));
                } else if (key === "defaultRevision" && !names.includes(value)) {
                    report(ctx, ["clusters", i, key], problem(value, `the name of one of istio.revisions (${names.join(", ")})`));
                } else if (key === "istioVersion" && istio.chartRepo.type === "directory") {
                    // istio.ts has checked that the directory holds charts of one version.
                    const charts = localChartVersion(istio.chartRepo.path);
                    if (value !== charts) {
                        report(ctx, ["clusters", i, key], problem(value, `${JSON.stringify(charts)}, ${localChartsAllowed(istio.chartRepo.path)}`));
                    }
                }
            }
        });
    },
    onceValid("istio", "clusters"),
];

/** A version of the mesh, where it is set and which clusters run it. */
interface MeshVersion {
    readonly key: PropertyKey[];
    readonly version: string;
    readonly clusters: readonly string[];
}

/** Every version the mesh would run once the config is applied, with its key. */
function meshVersions(istio: Istio, entries: Entries): MeshVersion[] {
    const mesh = entries.filter((e) => !e.gone);
    if (istio.upgradeStrategy === "RevisionBased") {
        return [
            ...(istio.inPlaceVersion === undefined ? [] : [{ key: ["istio", "inPlaceVersion"], version: istio.inPlaceVersion, clusters: mesh.map((e) => e.name) }]),
            ...istio.revisions.map((r, j) => ({ key: ["istio", "revisions", j, "version"], version: r.version, clusters: mesh.map((e) => e.name) })),
        ];
    }
    const served = (primary: string) => mesh.filter((e) => servingEntry(entries, e).name === primary).map((e) => e.name);
    return entries.flatMap((e, i) =>
        e.role === "remote" || e.gone
            ? []
            : [{ key: e.istioVersion === undefined ? ["istio", "version"] : ["clusters", i, "istioVersion"], version: clusterIstio(istio, entries, e).revisions[0].version, clusters: served(e.name) }],
    );
}

/** The versions a mesh runs are at most one minor version apart. Each version is reported against those listed before it. */
export const meshWithinOneMinor: Rule<{ istio: Istio; clusters: Entries }> = [
    ({ istio, clusters: entries }, ctx) => {
        const versions = meshVersions(istio, entries);
        const reported = new Set<string>();
        versions.forEach((later, j) => {
            const apart = versions.slice(0, j).filter((earlier) => minorsApart(earlier.version, later.version) > 1);
            const key = later.key.join(".");
            if (apart.length === 0 || reported.has(key)) {
                return;
            }
            reported.add(key);
            const others = apart.map((a) => `${a.version} (${keyOf(a.key)}: ${a.clusters.join(", ")})`);
            report(
                ctx,
                later.key,
                problem(later.version, `a version within one minor version of ${others.join(" and ")}, since ${later.clusters.join(", ")} would run it: ${SUPPORT_POLICY}`),
            );
        });
    },
    onceValid("istio", "clusters"),
];
