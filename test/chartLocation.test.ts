import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { chartLocation } from "../components/helmValues";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { fakeState } from "./harness/fakeCluster";
import { runWithMocks, valueOf } from "./harness/mockRuntime";
import { TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

const MIRROR = { username: "mirror-user", password: "mirror-password" };

/** The repository options chartLocation builds: plain values, except the password. */
type RepositoryOpts = { repo?: string; username?: string; password?: pulumi.Input<string> };

/** The password, after checking that it is a secret Output. */
async function secretValue(input: pulumi.Input<string> | undefined): Promise<string> {
    assert.ok(pulumi.Output.isInstance(input), "the password is not an Output");
    const output = input as pulumi.Output<string>;
    assert.equal(await pulumi.isSecret(output), true, "the password is not a secret");
    return valueOf(output);
}

describe("where a Chart finds an Istio chart", () => {
    it("a classic repository: the chart's name and the repository URL", () => {
        assert.deepEqual(chartLocation({ type: "repository", url: "https://charts.example.com/istio" }, "istiod"), {
            chart: "istiod",
            repositoryOpts: { repo: "https://charts.example.com/istio" },
        });
    });

    it("a classic repository behind a login: the password only as a secret", async () => {
        const location = chartLocation({ type: "repository", url: "https://mirror.example.com/charts", credentials: MIRROR }, "base");
        assert.equal(location.chart, "base");
        const opts = location.repositoryOpts as RepositoryOpts;
        assert.deepEqual(Object.keys(opts).sort(), ["password", "repo", "username"]);
        assert.equal(opts.repo, "https://mirror.example.com/charts");
        assert.equal(opts.username, "mirror-user");
        assert.equal(await secretValue(opts.password), "mirror-password");
    });

    it("an OCI registry: the chart's full oci:// reference as its name, and no repository", () => {
        for (const url of ["oci://ghcr.io/istio/release/charts", "oci://ghcr.io/istio/release/charts/"]) {
            assert.deepEqual(chartLocation({ type: "oci", url }, "gateway"), { chart: "oci://ghcr.io/istio/release/charts/gateway" });
        }
    });

    it("an OCI registry behind a login: username and secret password, still no repository", async () => {
        const location = chartLocation({ type: "oci", url: "oci://registry.example.com/mirror/istio", credentials: MIRROR }, "istiod");
        assert.equal(location.chart, "oci://registry.example.com/mirror/istio/istiod");
        const opts = location.repositoryOpts as RepositoryOpts;
        assert.deepEqual(Object.keys(opts).sort(), ["password", "username"]);
        assert.equal(opts.username, "mirror-user");
        assert.equal(await secretValue(opts.password), "mirror-password");
    });

    it("a local directory: the chart's directory as its name", () => {
        assert.deepEqual(chartLocation({ type: "directory", path: "/srv/istio-charts" }, "base"), { chart: "/srv/istio-charts/base" });
    });
});

describe("an OCI registry as istio.chartRepo in the stack config", () => {
    /** The Charts (base, istiod, gateway) of a two-cluster, two-network mesh from `istio`. */
    async function charts(istio: StackConfigInput["istio"], secretKeys?: Set<string>) {
        const { config } = parseStackConfig({ ...TWO_CLUSTERS_TWO_NETWORKS, istio }, secretKeys);
        const { resources } = await runWithMocks(() => deployMesh(config), fakeState);
        const charts = resources.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart");
        assert.equal(charts.length, 6);
        for (const chart of charts) {
            assert.equal(chart.inputs.version, config.istio.revisions[0].version, chart.name);
        }
        return charts;
    }

    it("pulls each chart by its full oci:// reference at the exact version", async () => {
        for (const chart of await charts({ chartRepo: "oci://ghcr.io/istio/release/charts" })) {
            assert.match(chart.inputs.chart, /^oci:\/\/ghcr\.io\/istio\/release\/charts\/(base|istiod|gateway)$/, chart.name);
            assert.equal(chart.inputs.repositoryOpts, undefined, chart.name);
        }
    });

    it("logs in to a private mirror with istio.chartCredentials and keeps the password secret", async () => {
        for (const chart of await charts({ chartRepo: "oci://registry.example.com/istio", chartCredentials: MIRROR }, new Set(["istio"]))) {
            assert.match(chart.inputs.chart, /^oci:\/\/registry\.example\.com\/istio\/(base|istiod|gateway)$/, chart.name);
            assert.deepEqual(chart.inputs.repositoryOpts, MIRROR, chart.name);
            assert.ok(chart.secretInputs.has("repositoryOpts"), `${chart.name} sends the password in plain text`);
        }
    });
});
