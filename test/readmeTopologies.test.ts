import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { parseStackConfig } from "../stacks/config";
import { fakeKubeconfig } from "./harness/fakeCluster";

/** The YAML blocks of README.md's "Example stack configs", in order. */
function examples(): Record<string, unknown>[] {
    const readme = fs.readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("### Example stack configs"), readme.indexOf("### What runs where"));
    return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => (yaml.load(m[1]) as { config: Record<string, unknown> }).config);
}

/** The config as the program gets it; kubeconfig paths (on no one's disk here) become content naming a reachable server. */
function asProgramConfig(config: Record<string, unknown>): Record<string, unknown> {
    const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^istio-multicluster:/, ""), v]));
    const clusters = (raw.clusters as Record<string, unknown>[]).map((c, i) =>
        typeof c.kubeconfig === "string" ? { ...c, kubeconfig: fakeKubeconfig(String(c.name), `https://10.0.${i}.1:6443`) } : c,
    );
    return { ...raw, clusters };
}

describe("README.md's example stack configs", () => {
    it("are valid, one per topology as the text says", () => {
        const topologies = examples().map((config) => parseStackConfig(asProgramConfig(config)).config.topology);
        assert.deepEqual(topologies, [
            "multi-primary",
            "multi-primary-multi-network",
            "primary-remote",
            "primary-remote-multi-network",
            "multi-primary-remote-multi-network",
        ]);
    });
});
