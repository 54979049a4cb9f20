import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { parseStackConfig } from "../stacks/config";
import { fakeKubeconfig } from "./harness/fakeCluster";

/** The YAML blocks of the section under `heading` in the Markdown file `file`, in order. */
function examples(file: string, heading: string): Record<string, unknown>[] {
    const page = fs.readFileSync(file, "utf8");
    const start = page.indexOf(`\n${heading}\n`);
    assert.notEqual(start, -1, `${file} has no "${heading}"`);
    const next = page.indexOf("\n## ", start + heading.length + 1);
    const section = page.slice(start, next === -1 ? undefined : next);
    return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => (yaml.load(m[1]) as { config: Record<string, unknown> }).config);
}

/** A kubeconfig for cluster `name` whose context is the one the example names, if any. */
function kubeconfigFor(name: string, server: string, context: unknown): string {
    const kubeconfig = fakeKubeconfig(name, server);
    return typeof context === "string" ? kubeconfig.replace(`- name: kind-${name}\n  context:`, `- name: ${context}\n  context:`) : kubeconfig;
}

/** The config as the program gets it; kubeconfig paths (on no one's disk here) become content naming a reachable server. */
function asProgramConfig(config: Record<string, unknown>): Record<string, unknown> {
    const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^istio-multicluster:/, ""), v]));
    const clusters = (raw.clusters as Record<string, unknown>[]).map((c, i) =>
        typeof c.kubeconfig === "string" ? { ...c, kubeconfig: kubeconfigFor(String(c.name), `https://10.0.${i}.1:6443`, c.context) } : c,
    );
    return { ...raw, clusters };
}

/** The topology the program makes of an example; an example a user copies must draw no warning. */
const topologyOf = (config: Record<string, unknown>) => {
    const { config: parsed, warnings } = parseStackConfig(asProgramConfig(config));
    assert.deepEqual(warnings, [], `warnings for ${JSON.stringify(config)}`);
    return parsed.topology;
};

describe("the example stack configs of the docs", () => {
    it("docs/topologies.md: valid, one per topology as the text says", () => {
        assert.deepEqual(examples("docs/topologies.md", "## Example stack configs").map(topologyOf), [
            "multi-primary",
            "multi-primary-multi-network",
            "primary-remote",
            "primary-remote-multi-network",
            "multi-primary-remote-multi-network",
        ]);
    });

    it("README.md: the config for existing clusters is valid, two clusters on two networks as the text says", () => {
        assert.deepEqual(examples("README.md", "## A config for your own clusters").map(topologyOf), ["multi-primary-multi-network"]);
    });
});
