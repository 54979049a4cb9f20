import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A local chart directory, as an air-gapped site holds the charts: `base`, `istiod` and `gateway`, each
 * with a Chart.yaml of `versions[chart]` (or `version`), or none where that is undefined. Only its layout
 * and Chart.yaml files matter under mocks. Removed when the test process exits.
 */
export function localChartsDir(version: string, versions: Readonly<Record<string, string | undefined>> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    for (const chart of ["base", "istiod", "gateway"]) {
        fs.mkdirSync(path.join(dir, chart));
        const chartVersion = chart in versions ? versions[chart] : version;
        if (chartVersion !== undefined) {
            fs.writeFileSync(path.join(dir, chart, "Chart.yaml"), `apiVersion: v2\nname: ${chart}\nversion: ${chartVersion}\n`);
        }
    }
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}
