import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { IstioChart } from "../components/helmValues";

const CHARTS: readonly IstioChart[] = ["base", "istiod", "gateway"];

/**
 * The one version the charts of a local chart directory declare (`version` in each chart's
 * Chart.yaml). Helm renders a local chart as it is, whatever version it is asked for, so this, not
 * `istio.version`, is what the clusters get. Throws an Error saying which Chart.yaml is missing or
 * unreadable, or which versions disagree.
 */
export function localChartVersion(dir: string): string {
    const versions = CHARTS.map((chart) => {
        const file = path.join(chart, "Chart.yaml");
        let text: string;
        try {
            text = fs.readFileSync(path.join(dir, file), "utf8");
        } catch (err) {
            throw new Error(`it has no readable ${file} (${(err as NodeJS.ErrnoException).code})`);
        }
        let version: unknown;
        try {
            version = (yaml.load(text) as { version?: unknown } | undefined)?.version;
        } catch {
            throw new Error(`its ${file} is not valid YAML`);
        }
        if (typeof version !== "string" || version === "") {
            throw new Error(`its ${file} names no version`);
        }
        return version;
    });
    if (new Set(versions).size > 1) {
        throw new Error(`its charts are of different versions (${CHARTS.map((chart, i) => `${chart} ${versions[i]}`).join(", ")})`);
    }
    return versions[0];
}
