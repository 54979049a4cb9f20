import * as k8s from "@pulumi/kubernetes";
import * as path from "path";
import { ChartSource, IstioChart } from "../stacks/types";

type Values = Record<string, unknown>;

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
