import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { deployMesh } from "../stacks/mesh";
import { parseStackConfig } from "../stacks/config";
import { fakeState } from "./harness/fakeCluster";
import { runWithMocks } from "./harness/mockRuntime";
import { THREE_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

interface TokenKubeconfig {
    clusters: { name: string }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    users: { name: string }[];
    "current-context": string;
}

describe("a cluster's name across a three-cluster mesh", () => {
    it("is one string in its istiod, and in the data key, annotation and kubeconfig of every remote secret for it", async () => {
        const { resources } = await runWithMocks(() => deployMesh(parseStackConfig(THREE_CLUSTERS_TWO_NETWORKS).config), fakeState);
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const istiods = resources.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.name === "istiod");
        const remoteSecrets = resources.filter((r) => r.inputs.metadata?.labels?.["istio/multiCluster"] === "true");
        assert.equal(istiods.length, 3);
        assert.equal(remoteSecrets.length, 6);

        const secretsPerCluster = new Map<string, number>();
        for (const secret of remoteSecrets) {
            const [dataKey, ...otherKeys] = Object.keys(secret.inputs.stringData);
            assert.deepEqual(otherKeys, [], secret.name);
            const kubeconfig = yaml.load(secret.inputs.stringData[dataKey]) as TokenKubeconfig;
            const names = [
                dataKey,
                secret.inputs.metadata.annotations["networking.istio.io/cluster"],
                kubeconfig["current-context"],
                ...kubeconfig.clusters.map((c) => c.name),
                ...kubeconfig.contexts.flatMap((c) => [c.name, c.context.cluster, c.context.user]),
                ...kubeconfig.users.map((u) => u.name),
            ];
            // The cluster the kubeconfig reads: where its reader token was made; that cluster's istiod.
            const token = secret.dependencies.map((urn) => byUrn.get(urn)).find((r) => r?.inputs.type === "kubernetes.io/service-account-token");
            assert.ok(token, `${secret.name} is not made from a reader token`);
            const istiod = istiods.find((r) => r.provider === token.provider);
            assert.ok(istiod, `no istiod in the cluster ${secret.name} reads`);
            const clusterName = istiod.inputs.values.global.multiCluster.clusterName;
            assert.deepEqual(names, names.map(() => clusterName), secret.name);
            secretsPerCluster.set(clusterName, (secretsPerCluster.get(clusterName) ?? 0) + 1);
        }
        assert.deepEqual(Object.fromEntries(secretsPerCluster), { alpha: 2, beta: 2, gamma: 2 });
    });
});
