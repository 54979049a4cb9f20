import * as k8s from "@pulumi/kubernetes";
import * as path from "path";
type Values = Record<string, unknown>;

export type IstioChart = "base" | "istiod" | "gateway";

/** Where the Istio charts come from: a Helm repository, or a directory holding one directory per chart. */
export type ChartSource = { readonly type: "repository"; readonly url: string } | { readonly type: "directory"; readonly path: string };

/** The Istio charts of one mesh: their version, their source and extra Helm values per chart. */
export interface IstioCharts {
    readonly version: string;
    readonly chartSource: ChartSource;
    /** Merged over the program's own values. */
    readonly values: Readonly<Record<IstioChart, Values>>;
}

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

/** Where a Release finds an Istio chart: a named chart in a repository, or a chart directory on disk. */
export function chartLocation(source: ChartSource, chart: IstioChart): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "repositoryOpts"> {
    return source.type === "repository"
        ? { chart, repositoryOpts: { repo: source.url } }
        : { chart: path.join(source.path, chart) };
}
