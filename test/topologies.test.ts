import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { OFFICIAL_ISTIO_CHART_REPO, parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh, MeshOutputs } from "../stacks/mesh";
import { b64, clusterOfProvider, FAKE_JOB_STATUS, fakeClusterCa, fakeNodeAddress, fakeState, fakeToken } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks, valueOf } from "./harness/mockRuntime";
import { THREE_CLUSTERS_TWO_NETWORKS, TWO_CLUSTERS_ONE_NETWORK, TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

interface Scenario {
    readonly title: string;
    readonly raw: StackConfigInput;
    readonly clusters: readonly string[];
    readonly networks: Readonly<Record<string, string>>;
    readonly apiServers: Readonly<Record<string, string>>;
    readonly counts: Readonly<Record<string, number>>;
}

const SCENARIOS: Scenario[] = [
    {
        title: "two clusters on one network",
        raw: TWO_CLUSTERS_ONE_NETWORK,
        clusters: ["east", "west"],
        networks: { east: "net1", west: "net1" },
        apiServers: { east: "https://10.0.1.1:6443", west: "https://10.0.2.1:6443" },
        counts: {
            "pulumi-nodejs:dynamic:Resource": 2, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 2,
            "kubernetes:core/v1:Namespace": 4,
            "kubernetes:core/v1:Secret": 6, // 2 cacerts + 2 reader tokens + 2 remote secrets
            "kubernetes:helm.sh/v4:Chart": 4, // base and istiod per cluster, one resource per object
            "kubernetes:networking.istio.io/v1:Gateway": 0,
            "kubernetes:core/v1:Service": 2,
            "kubernetes:core/v1:ServiceAccount": 2,
            "kubernetes:apps/v1:Deployment": 4,
            "kubernetes:batch/v1:Job": 2, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 3,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 2,
            "tls:index/locallySignedCert:LocallySignedCert": 2,
        },
    },
    {
        title: "two kind clusters on two networks",
        raw: TWO_CLUSTERS_TWO_NETWORKS,
        clusters: ["cluster1", "cluster2"],
        networks: { cluster1: "network1", cluster2: "network2" },
        apiServers: { cluster1: `https://${fakeNodeAddress("cluster1")}:6443`, cluster2: `https://${fakeNodeAddress("cluster2")}:6443` },
        counts: {
            "pulumi-nodejs:dynamic:Resource": 2, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 2,
            "kubernetes:core/v1:Namespace": 4,
            "kubernetes:core/v1:Secret": 6,
            "kubernetes:helm.sh/v4:Chart": 6, // + an east-west gateway per cluster
            "kubernetes:networking.istio.io/v1:Gateway": 2,
            "kubernetes:core/v1:Service": 2,
            "kubernetes:core/v1:ServiceAccount": 2,
            "kubernetes:apps/v1:Deployment": 4,
            "command:local:Command": 4, // kind create + node address, per cluster
            "kubernetes:batch/v1:Job": 2, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 3,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 2,
            "tls:index/locallySignedCert:LocallySignedCert": 2,
        },
    },
    {
        title: "three clusters on two networks",
        raw: THREE_CLUSTERS_TWO_NETWORKS,
        clusters: ["alpha", "beta", "gamma"],
        networks: { alpha: "net-a", beta: "net-a", gamma: "net-b" },
        apiServers: { alpha: "https://10.0.1.1:6443", beta: "https://10.0.2.1:6443", gamma: `https://${fakeNodeAddress("gamma")}:6443` },
        counts: {
            "pulumi-nodejs:dynamic:Resource": 3, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 3,
            "kubernetes:core/v1:Namespace": 6,
            "kubernetes:core/v1:Secret": 15, // 3 cacerts + 6 reader tokens + 6 remote secrets
            "kubernetes:helm.sh/v4:Chart": 9,
            "kubernetes:networking.istio.io/v1:Gateway": 3,
            "kubernetes:core/v1:Service": 3,
            "kubernetes:core/v1:ServiceAccount": 3,
            "kubernetes:apps/v1:Deployment": 6,
            "command:local:Command": 2, // kind create + node address for gamma
            "kubernetes:batch/v1:Job": 3, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 4,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 3,
            "tls:index/locallySignedCert:LocallySignedCert": 3,
        },
    },
];

/** A Secret's `data`, decoded. */
const decoded = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));

const byName = (resources: RecordedResource[], name: string) => {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
};

/** The cluster a Kubernetes resource must land in, from the names the components give their children. */
function expectedCluster(name: string, clusters: readonly string[]): string {
    const pair = name.match(/^(.+)-to-(.+)-(reader-token|remote-secret)$/);
    if (pair) {
        return pair[3] === "reader-token" ? pair[1] : pair[2];
    }
    const owner = clusters.find((c) => name.startsWith(`${c}-`));
    assert.ok(owner, `${name} does not name its cluster`);
    return owner;
}

for (const scenario of SCENARIOS) {
    describe(scenario.title, () => {
        let resources: RecordedResource[];
        let outputs: MeshOutputs;
        const multiNetwork = new Set(Object.values(scenario.networks)).size > 1;

        before(async () => {
            const run = await runWithMocks(() => deployMesh(parseStackConfig(scenario.raw).config), fakeState);
            resources = run.resources;
            outputs = run.result;
        });

        it("registers the expected number of resources of each type", () => {
            const counts: Record<string, number> = {};
            // Custom resources, and the kubernetes provider's own components (the v4 Chart renders in the provider).
            for (const r of resources.filter((r) => r.custom || r.type.startsWith("kubernetes:"))) {
                counts[r.type] = (counts[r.type] ?? 0) + 1;
            }
            for (const [type, expected] of Object.entries(scenario.counts)) {
                assert.equal(counts[type] ?? 0, expected, type);
            }
            assert.deepEqual(Object.keys(counts).sort(), Object.keys(scenario.counts).filter((t) => scenario.counts[t] > 0).sort());
        });

        it("binds every Kubernetes resource to its own cluster's provider", () => {
            const k8sResources = resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8sResources.length > 0);
            for (const r of k8sResources) {
                assert.ok(r.provider, `${r.name} has no explicit provider`);
                assert.equal(clusterOfProvider(r.provider), expectedCluster(r.name, scenario.clusters), r.name);
            }
        });

        it("gives each cluster's istiod the mesh ID, its cluster name, its network and the trust domain", () => {
            const { config } = parseStackConfig(scenario.raw);
            for (const cluster of scenario.clusters) {
                const istiod = byName(resources, `${cluster}-istiod`);
                assert.equal(istiod.type, "kubernetes:helm.sh/v4:Chart");
                assert.equal(istiod.inputs.name, "istiod");
                assert.equal(istiod.inputs.version, config.istio.revisions[0].version);
                assert.equal(istiod.inputs.namespace, "istio-system");
                assert.equal(istiod.inputs.values.global.meshID, config.meshId);
                assert.equal(istiod.inputs.values.global.multiCluster.clusterName, cluster);
                assert.equal(istiod.inputs.values.global.network, scenario.networks[cluster]);
                assert.equal(istiod.inputs.values.meshConfig.trustDomain, config.trustDomain);
                const base = byName(resources, `${cluster}-istio-base`);
                assert.equal(base.inputs.values.base.enableCRDTemplates, true);
                const namespace = byName(resources, `${cluster}-istio-system`);
                assert.equal(namespace.inputs.metadata.labels["topology.istio.io/network"], scenario.networks[cluster]);
                if (config.istio.chartRepo.type === "directory") {
                    assert.equal(istiod.inputs.chart, `${config.istio.chartRepo.path}/istiod`);
                    assert.equal(istiod.inputs.repositoryOpts, undefined);
                } else {
                    assert.equal(istiod.inputs.chart, "istiod");
                    assert.equal(istiod.inputs.repositoryOpts.repo, OFFICIAL_ISTIO_CHART_REPO);
                }
            }
        });

        it(`installs east-west gateways ${multiNetwork ? "in every cluster" : "nowhere"}`, () => {
            for (const cluster of scenario.clusters) {
                const chart = resources.find((r) => r.name === `${cluster}-istio-eastwestgateway`);
                const gateway = resources.find((r) => r.name === `${cluster}-cross-network-gateway`);
                if (!multiNetwork) {
                    assert.equal(chart, undefined);
                    assert.equal(gateway, undefined);
                    continue;
                }
                assert.ok(chart && gateway, cluster);
                assert.equal(chart.type, "kubernetes:helm.sh/v4:Chart");
                assert.equal(chart.inputs.name, "istio-eastwestgateway");
                assert.equal(chart.inputs.values.networkGateway, scenario.networks[cluster]);
                assert.equal(chart.inputs.values.name, "istio-eastwestgateway");
                const isKind = scenario.apiServers[cluster].includes(fakeNodeAddress(cluster));
                assert.deepEqual(
                    chart.inputs.values.service,
                    isKind ? { type: "ClusterIP", externalIPs: [fakeNodeAddress(cluster)] } : { type: "LoadBalancer" },
                );
                assert.equal(gateway.inputs.metadata.annotations["pulumi.com/deletionPropagationPolicy"], "background");
                assert.deepEqual(gateway.inputs.spec, {
                    selector: { istio: "eastwestgateway" },
                    servers: [{ port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] }],
                });
            }
        });

        it("stores one remote secret per ordered pair, whose kubeconfig reaches the source with its CA and reader token", () => {
            const remoteSecrets = resources.filter((r) => r.name.endsWith("-remote-secret"));
            const n = scenario.clusters.length;
            assert.equal(remoteSecrets.length, n * (n - 1));
            for (const source of scenario.clusters) {
                for (const target of scenario.clusters.filter((c) => c !== source)) {
                    const token = byName(resources, `${source}-to-${target}-reader-token`);
                    assert.equal(token.inputs.type, "kubernetes.io/service-account-token");
                    assert.equal(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "istio-reader-service-account");
                    assert.equal(token.inputs.metadata.namespace, "istio-system");

                    const secret = byName(resources, `${source}-to-${target}-remote-secret`);
                    assert.equal(secret.inputs.metadata.name, `istio-remote-secret-${source}`);
                    assert.equal(secret.inputs.metadata.namespace, "istio-system");
                    assert.deepEqual(secret.inputs.metadata.labels, { "istio/multiCluster": "true" });
                    assert.deepEqual(secret.inputs.metadata.annotations, { "networking.istio.io/cluster": source, "pulumi.com/patchForce": "true" });
                    assert.deepEqual(Object.keys(secret.inputs.stringData), [source]);
                    const kubeconfig = yaml.load(secret.inputs.stringData[source]) as any;
                    assert.equal(kubeconfig["current-context"], source);
                    assert.equal(kubeconfig.clusters[0].cluster.server, scenario.apiServers[source]);
                    assert.equal(kubeconfig.clusters[0].cluster["certificate-authority-data"], b64(fakeClusterCa(source)));
                    assert.equal(kubeconfig.users[0].user.token, fakeToken(source, `istio-reader-token-for-${target}`));
                }
            }
        });

        it("delivers cacerts in every cluster that chain to one root", async () => {
            const root = resources.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")!;
            assert.equal(root.inputs.isCaCertificate, true);
            const rootCert = await valueOf(outputs.rootCert);
            assert.match(rootCert, /mesh-trust-root-cert self-signed/);
            for (const cluster of scenario.clusters) {
                const intermediate = byName(resources, `mesh-trust-${cluster}-ca-cert`);
                assert.equal(intermediate.inputs.isCaCertificate, true);
                assert.equal(intermediate.inputs.caCertPem, rootCert);
                assert.ok(intermediate.inputs.allowedUses.includes("cert_signing"));

                const cacerts = byName(resources, `${cluster}-cacerts`);
                assert.equal(cacerts.inputs.metadata.name, "cacerts");
                assert.equal(cacerts.inputs.metadata.namespace, "istio-system");
                const files = decoded(cacerts.inputs.data);
                assert.equal(cacerts.inputs.stringData, undefined, "cacerts is given as data, whose owner a server-side apply checks");
                assert.deepEqual(Object.keys(files).sort(), ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);
                assert.equal(files["root-cert.pem"], rootCert);
                assert.match(files["ca-cert.pem"], new RegExp(`mesh-trust-${cluster}-ca-cert issued by mesh-trust-root-cert`));
                assert.match(files["ca-key.pem"], new RegExp(`mesh-trust-${cluster}-ca-key`));
                assert.equal(files["cert-chain.pem"], `${files["ca-cert.pem"].trimEnd()}\n${rootCert.trimEnd()}\n`);
            }
        });

        it("orders istiod after cacerts, the test app after istiod and the remote secrets, the check after every app", () => {
            const urnOf = (name: string) => byName(resources, name).urn;
            const remoteSecretUrns = resources.filter((r) => r.name.endsWith("-remote-secret")).map((r) => r.urn);
            const istiodUrns = scenario.clusters.map((c) => urnOf(`${c}-istiod`));
            for (const cluster of scenario.clusters) {
                const istiod = byName(resources, `${cluster}-istiod`);
                assert.ok(istiod.dependencies.includes(urnOf(`${cluster}-cacerts`)), "istiod waits for cacerts");
                assert.ok(istiod.dependencies.includes(urnOf(`${cluster}-istio-base`)), "istiod waits for istio-base");

                const appNamespace = byName(resources, `${cluster}-sample-namespace`);
                for (const urn of [...istiodUrns, ...remoteSecretUrns]) {
                    assert.ok(appNamespace.dependencies.includes(urn), `${cluster}'s test app waits for ${urn}`);
                }
                const deployments = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment").map((r) => r.urn);
                const check = byName(resources, `${cluster}-cross-cluster-check`);
                for (const urn of [...deployments, ...remoteSecretUrns, urnOf(`${cluster}-sample-namespace`)]) {
                    assert.ok(check.dependencies.includes(urn), `${cluster}'s check waits for ${urn}`);
                }
            }
        });

        it("keeps keys, tokens and kubeconfigs secret", async () => {
            for (const cluster of scenario.clusters) {
                assert.ok(byName(resources, `${cluster}-cacerts`).secretInputs.has("data"));
                assert.ok(byName(resources, `${cluster}-k8s`).secretInputs.has("kubeconfig"));
                const check = byName(resources, `${cluster}-cross-cluster-check`);
                assert.deepEqual([...check.secretInputs], [], "the check's Job carries no credentials");
            }
            for (const secret of resources.filter((r) => r.name.endsWith("-remote-secret"))) {
                assert.ok(secret.secretInputs.has("stringData"), secret.name);
            }
            assert.equal(await pulumi.isSecret(outputs.rootCert), false, "the root certificate is public");
        });

        it("exports each cluster's summary and a verification result per cluster", async () => {
            const { config } = parseStackConfig(scenario.raw);
            const summaries = await Promise.all(
                outputs.clusters.map(async (c) => ({ ...c, apiServer: await valueOf(c.apiServer) })),
            );
            assert.deepEqual(
                summaries,
                scenario.clusters.map((name) => ({
                    name,
                    network: scenario.networks[name],
                    role: "primary",
                    controlPlane: name,
                    apiServer: scenario.apiServers[name],
                    istioVersion: config.istio.revisions[0].version,
                })),
            );
            const verification = await valueOf(outputs.verification!);
            assert.deepEqual(
                verification,
                scenario.clusters.map((cluster) => ({
                    cluster,
                    namespace: "sample",
                    job: byName(resources, `${cluster}-cross-cluster-check`).inputs.metadata.name,
                    expectedVersions: ["v1", "v2"],
                    succeeded: 1,
                    completionTime: FAKE_JOB_STATUS.completionTime,
                })),
            );
        });
    });
}
