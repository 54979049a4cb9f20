import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { deployMesh, MeshOutputs } from "../stacks/mesh";
import { clusterOfProvider, fakeLoadBalancerAddress, fakeNodeAddress, fakeState } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks, valueOf } from "./harness/mockRuntime";
import {
    PRIMARY_REMOTE_ONE_NETWORK,
    PRIMARY_TWO_REMOTES_TWO_NETWORKS,
    SIX_CLUSTERS_MIXED,
    TWO_PRIMARIES_EACH_WITH_A_REMOTE,
} from "./harness/scenarios";

interface Scenario {
    readonly title: string;
    readonly raw: StackConfigInput;
    readonly topology: string;
    /** Each remote's primary. */
    readonly remotes: Readonly<Record<string, string>>;
    /** Each primary; those with remotes expose istiod at this address. */
    readonly primaries: Readonly<Record<string, string | undefined>>;
    readonly networks: Readonly<Record<string, string>>;
    /** Clusters with an east-west gateway, and whether it also exposes the services (cross-network-gateway). */
    readonly gateways: Readonly<Record<string, "network" | "network-and-services">>;
    /** `<source>-to-<target>`: the target's istiod reads the source. */
    readonly remoteSecrets: readonly string[];
    readonly counts: Readonly<Record<string, number>>;
}

const SCENARIOS: Scenario[] = [
    {
        title: "one primary and one remote on one network",
        raw: PRIMARY_REMOTE_ONE_NETWORK,
        topology: "primary-remote",
        primaries: { east: fakeLoadBalancerAddress("east") },
        remotes: { west: "east" },
        networks: { east: "net1", west: "net1" },
        gateways: { east: "network" },
        remoteSecrets: ["west-to-east"],
        counts: {
            "pulumi-nodejs:dynamic:Resource": 2, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 3, // one per cluster, and one for the remote's istiod
            "kubernetes:core/v1:Namespace": 4,
            "kubernetes:core/v1:Secret": 4, // 2 cacerts + 1 reader token + 1 remote secret
            // base and istiod (or their remote profile) per cluster + the primary's gateway
            "kubernetes:helm.sh/v4:Chart": 5,
            "kubernetes:networking.istio.io/v1:Gateway": 1, // istiod-gateway only: nothing crosses networks
            "kubernetes:networking.istio.io/v1:VirtualService": 1,
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
        title: "one kind primary and two remotes on two networks",
        raw: PRIMARY_TWO_REMOTES_TWO_NETWORKS,
        topology: "primary-remote-multi-network",
        primaries: { hub: fakeNodeAddress("hub") },
        remotes: { spoke1: "hub", spoke2: "hub" },
        networks: { hub: "network1", spoke1: "network2", spoke2: "network2" },
        gateways: { hub: "network-and-services", spoke1: "network", spoke2: "network" },
        remoteSecrets: ["spoke1-to-hub", "spoke2-to-hub"],
        counts: {
            "pulumi-nodejs:dynamic:Resource": 3, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 5, // one per cluster, and one per remote's istiod
            "kubernetes:core/v1:Namespace": 6,
            "kubernetes:core/v1:Secret": 7, // 3 cacerts + 2 reader tokens + 2 remote secrets
            "kubernetes:helm.sh/v4:Chart": 9, // base, istiod and gateway per cluster
            "kubernetes:networking.istio.io/v1:Gateway": 2, // cross-network-gateway and istiod-gateway, both in hub
            "kubernetes:networking.istio.io/v1:VirtualService": 1,
            "kubernetes:core/v1:Service": 3,
            "kubernetes:core/v1:ServiceAccount": 3,
            "kubernetes:apps/v1:Deployment": 6,
            "command:local:Command": 2, // kind create + node address for hub
            "kubernetes:batch/v1:Job": 3, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 4,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 3,
            "tls:index/locallySignedCert:LocallySignedCert": 3,
        },
    },
    {
        title: "two primaries on one network, each with a remote",
        raw: TWO_PRIMARIES_EACH_WITH_A_REMOTE,
        topology: "multi-primary-remote",
        primaries: { alpha: fakeLoadBalancerAddress("alpha"), beta: fakeLoadBalancerAddress("beta") },
        remotes: { "alpha-edge": "alpha", "beta-edge": "beta" },
        networks: { alpha: "net1", "alpha-edge": "net1", beta: "net1", "beta-edge": "net1" },
        gateways: { alpha: "network", beta: "network" },
        remoteSecrets: ["alpha-to-beta", "alpha-edge-to-alpha", "alpha-edge-to-beta", "beta-to-alpha", "beta-edge-to-alpha", "beta-edge-to-beta"],
        counts: {
            "pulumi-nodejs:dynamic:Resource": 4, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 6, // one per cluster, and one per remote's istiod
            "kubernetes:core/v1:Namespace": 8,
            "kubernetes:core/v1:Secret": 16, // 4 cacerts + 6 reader tokens + 6 remote secrets
            "kubernetes:helm.sh/v4:Chart": 10, // 4 base + 4 istiod + the primaries' gateways
            "kubernetes:networking.istio.io/v1:Gateway": 2,
            "kubernetes:networking.istio.io/v1:VirtualService": 2,
            "kubernetes:core/v1:Service": 4,
            "kubernetes:core/v1:ServiceAccount": 4,
            "kubernetes:apps/v1:Deployment": 8,
            "kubernetes:batch/v1:Job": 4, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 5,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 4,
            "tls:index/locallySignedCert:LocallySignedCert": 4,
        },
    },
    {
        title: "six clusters: three primaries, two with remotes, on five networks",
        raw: SIX_CLUSTERS_MIXED,
        topology: "multi-primary-remote-multi-network",
        primaries: { east: fakeLoadBalancerAddress("east"), west: fakeNodeAddress("west"), north: undefined },
        remotes: { "east-edge": "east", "west-edge": "west", south: "east" },
        networks: { east: "net-east", "east-edge": "net-east", west: "net-west", "west-edge": "net-west-edge", north: "net-east", south: "net-south" },
        gateways: {
            east: "network-and-services",
            "east-edge": "network",
            west: "network-and-services",
            "west-edge": "network",
            north: "network-and-services",
            south: "network",
        },
        // Each primary reads the five other clusters.
        remoteSecrets: ["east", "west", "north"].flatMap((target) =>
            ["east", "east-edge", "west", "west-edge", "north", "south"].filter((s) => s !== target).map((source) => `${source}-to-${target}`),
        ),
        counts: {
            "pulumi-nodejs:dynamic:Resource": 6, // Istio's CRDs, one set per cluster
            "pulumi:providers:pulumi-nodejs": 1, // one for every set
            "pulumi:providers:kubernetes": 9, // one per cluster, and one per remote's istiod
            "kubernetes:core/v1:Namespace": 12,
            "kubernetes:core/v1:Secret": 36, // 6 cacerts + 15 reader tokens + 15 remote secrets
            "kubernetes:helm.sh/v4:Chart": 18, // base, istiod and gateway per cluster
            "kubernetes:networking.istio.io/v1:Gateway": 5, // cross-network-gateway in 3 primaries, istiod-gateway in 2
            "kubernetes:networking.istio.io/v1:VirtualService": 2,
            "kubernetes:core/v1:Service": 6,
            "kubernetes:core/v1:ServiceAccount": 6,
            "kubernetes:apps/v1:Deployment": 12,
            "command:local:Command": 4, // kind create + node address for west and west-edge
            "kubernetes:batch/v1:Job": 6, // the cross-cluster check, per cluster
            "tls:index/privateKey:PrivateKey": 7,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 6,
            "tls:index/locallySignedCert:LocallySignedCert": 6,
        },
    },
];

const byName = (resources: RecordedResource[], name: string) => {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
};
const named = (resources: RecordedResource[], name: string) => resources.find((r) => r.name === name);

/** Whether `from` waits for `urn`, directly or through what it waits for. */
function dependsOnTransitively(resources: RecordedResource[], from: RecordedResource, urn: string): boolean {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const pending = [...from.dependencies];
    while (pending.length > 0) {
        const next = pending.pop()!;
        if (next === urn) {
            return true;
        }
        if (!seen.has(next)) {
            seen.add(next);
            pending.push(...(byUrn.get(next)?.dependencies ?? []));
        }
    }
    return false;
}

/** The cluster a resource belongs to by its name: the longest cluster name it starts with, or the pair's end. */
function clusterOfName(name: string, clusters: readonly string[]): string {
    const pair = name.match(/^(.+)-to-(.+)-(reader-token|remote-secret)$/);
    if (pair) {
        return pair[3] === "reader-token" ? pair[1] : pair[2];
    }
    const owner = clusters.filter((c) => name.startsWith(`${c}-`)).sort((a, b) => b.length - a.length)[0];
    assert.ok(owner, `${name} does not name its cluster`);
    return owner;
}

for (const scenario of SCENARIOS) {
    describe(`primary-remote: ${scenario.title}`, () => {
        let resources: RecordedResource[];
        let outputs: MeshOutputs;
        const clusters = Object.keys(scenario.networks);
        const servingPrimaries = Object.keys(scenario.primaries).filter((p) => scenario.primaries[p] !== undefined);

        before(async () => {
            const run = await runWithMocks(() => deployMesh(parseStackConfig(scenario.raw).config), fakeState);
            resources = run.resources;
            outputs = run.result;
        });

        it("registers the expected number of resources of each type, and reads each exposing primary's gateway Service", () => {
            const counts: Record<string, number> = {};
            for (const r of resources.filter((r) => !r.read && (r.custom || r.type.startsWith("kubernetes:")))) {
                counts[r.type] = (counts[r.type] ?? 0) + 1;
            }
            assert.deepEqual(counts, Object.fromEntries(Object.entries(scenario.counts).filter(([, n]) => n > 0)));
            const reads = resources.filter((r) => r.read);
            assert.deepEqual(
                reads.map((r) => [r.type, r.inputs.id, clusterOfProvider(r.provider)]).sort(),
                servingPrimaries.map((p) => ["kubernetes:core/v1:Service", "istio-system/istio-eastwestgateway", p]).sort(),
            );
        });

        it("binds every Kubernetes resource to its own cluster's provider", () => {
            for (const r of resources.filter((r) => r.type.startsWith("kubernetes:"))) {
                assert.equal(clusterOfProvider(r.provider), clusterOfName(r.name, clusters), r.name);
            }
        });

        it("reports the topology and each cluster's role and control plane", async () => {
            assert.equal(outputs.topology, scenario.topology);
            assert.deepEqual(
                outputs.clusters.map((c) => [c.name, c.role, c.controlPlane]),
                clusters.map((c) => (c in scenario.remotes ? [c, "remote", scenario.remotes[c]] : [c, "primary", c])),
            );
            const verification = await valueOf(outputs.verification!);
            assert.deepEqual(verification.map((v) => v.cluster), clusters);
        });

        it("installs istiod on the primaries, with externalIstiod where they serve remotes", () => {
            for (const [primary] of Object.entries(scenario.primaries)) {
                const istiod = byName(resources, `${primary}-istiod`);
                assert.equal(istiod.inputs.chart, "istiod");
                assert.equal(istiod.inputs.values.profile, undefined);
                assert.equal(istiod.inputs.values.global.multiCluster.clusterName, primary);
                assert.equal(istiod.inputs.values.global.network, scenario.networks[primary]);
                assert.equal(istiod.inputs.values.global.externalIstiod, servingPrimaries.includes(primary) ? true : undefined, primary);
                assert.equal(istiod.inputs.values.global.remotePilotAddress, undefined);
                // istiod looks for its injector's ConfigMap once, at start: the engine must create it first.
                assert.equal(istiod.inputs.values.deploymentAnnotations["config.kubernetes.io/depends-on"], "/namespaces/istio-system/ConfigMap/istio-sidecar-injector");
                assert.equal(byName(resources, `${primary}-istio-base`).inputs.values.profile, undefined);
                assert.equal(byName(resources, `${primary}-istio-system`).inputs.metadata.annotations, undefined);
            }
        });

        it("installs the remotes in the remote profile, pointed at their primary's east-west gateway", () => {
            const { config } = parseStackConfig(scenario.raw);
            for (const [remote, primary] of Object.entries(scenario.remotes)) {
                const network = scenario.networks[remote];
                const istiod = byName(resources, `${remote}-istiod`);
                assert.equal(clusterOfProvider(istiod.provider), remote);
                assert.equal(istiod.inputs.name, "istiod");
                assert.equal(istiod.inputs.chart, "istiod");
                assert.equal(istiod.inputs.version, config.istio.revisions[0].version);
                assert.equal(istiod.inputs.namespace, "istio-system");
                assert.deepEqual(istiod.inputs.values, {
                    profile: "remote",
                    global: {
                        meshID: config.meshId,
                        multiCluster: { clusterName: remote },
                        network,
                        hub: config.images.istioHub,
                        remotePilotAddress: scenario.primaries[primary],
                        configCluster: true,
                    },
                    meshConfig: { trustDomain: config.trustDomain },
                    istiodRemote: { injectionPath: `/inject/cluster/${remote}/net/${network}` },
                });
                const base = byName(resources, `${remote}-istio-base`);
                assert.equal(clusterOfProvider(base.provider), remote);
                assert.equal(base.inputs.values.profile, "remote");
                assert.equal(base.inputs.values.base.enableCRDTemplates, true);
                assert.deepEqual(byName(resources, `${remote}-istio-system`).inputs.metadata, {
                    name: "istio-system",
                    labels: { "topology.istio.io/network": network },
                    annotations: { "topology.istio.io/controlPlaneClusters": primary },
                });
            }
        });

        it("installs east-west gateways where the topology needs them, exposing services only from primaries", () => {
            for (const cluster of clusters) {
                const chart = named(resources, `${cluster}-istio-eastwestgateway`);
                const crossNetwork = named(resources, `${cluster}-cross-network-gateway`);
                const expected = scenario.gateways[cluster];
                assert.equal(chart !== undefined, expected !== undefined, cluster);
                assert.equal(crossNetwork !== undefined, expected === "network-and-services", cluster);
                if (chart) {
                    assert.equal(chart.type, "kubernetes:helm.sh/v4:Chart");
                    assert.equal(chart.inputs.chart, "gateway");
                    assert.equal(chart.inputs.values.name, "istio-eastwestgateway");
                    assert.equal(chart.inputs.values.networkGateway, scenario.networks[cluster]);
                }
            }
        });

        it("exposes istiod on each serving primary's gateway exactly as expose-istiod.yaml", () => {
            const exposures = resources.filter((r) => r.name.endsWith("-istiod-gateway") || r.name.endsWith("-istiod-vs"));
            assert.deepEqual(exposures.map((r) => clusterOfProvider(r.provider)).sort(), servingPrimaries.flatMap((p) => [p, p]).sort());
            for (const primary of servingPrimaries) {
                const gateway = byName(resources, `${primary}-istiod-gateway`);
                assert.equal(gateway.inputs.metadata.name, "istiod-gateway");
                assert.equal(gateway.inputs.metadata.namespace, "istio-system");
                assert.deepEqual(gateway.inputs.spec, {
                    selector: { istio: "eastwestgateway" },
                    servers: [
                        { port: { name: "tls-istiod", number: 15012, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
                        { port: { name: "tls-istiodwebhook", number: 15017, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
                    ],
                });
                const vs = byName(resources, `${primary}-istiod-vs`);
                assert.equal(vs.inputs.metadata.name, "istiod-vs");
                assert.deepEqual(vs.inputs.spec, {
                    hosts: ["*"],
                    gateways: ["istiod-gateway"],
                    tls: [
                        {
                            match: [{ port: 15012, sniHosts: ["*"] }],
                            route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 15012 } } }],
                        },
                        {
                            match: [{ port: 15017, sniHosts: ["*"] }],
                            route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 443 } } }],
                        },
                    ],
                });
                const istiod = byName(resources, `${primary}-istiod`).urn;
                assert.ok(gateway.dependencies.includes(istiod) && vs.dependencies.includes(istiod), "istiod's webhook validates them");
                const gatewayChart = byName(resources, `${primary}-istio-eastwestgateway`).urn;
                assert.ok(gateway.dependencies.includes(gatewayChart) && vs.dependencies.includes(gatewayChart), "they route through the gateway's pods");
            }
        });

        it("stores remote secrets only in primaries: each reads every other cluster, and no remote reads anything", () => {
            const secrets = resources.filter((r) => r.name.endsWith("-remote-secret"));
            assert.deepEqual(secrets.map((r) => r.name.replace(/-remote-secret$/, "")).sort(), [...scenario.remoteSecrets].sort());
            for (const secret of secrets) {
                const target = clusterOfProvider(secret.provider)!;
                assert.ok(target in scenario.primaries, `${secret.name} is stored in ${target}, a remote`);
            }
            for (const remote of Object.keys(scenario.remotes)) {
                assert.equal(secrets.filter((s) => clusterOfProvider(s.provider) === remote).length, 0, remote);
                const tokens = resources.filter((r) => r.name.startsWith(`${remote}-to-`) && r.name.endsWith("-reader-token"));
                for (const token of tokens) {
                    assert.equal(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "istio-reader-service-account");
                    assert.ok(token.dependencies.includes(byName(resources, `${remote}-istiod`).urn), "after the remote istiod's reader role");
                }
            }
        });

        it("installs each remote after its primary's gateway and exposure", () => {
            for (const [remote, primary] of Object.entries(scenario.remotes)) {
                const istiod = byName(resources, `${remote}-istiod`);
                assert.equal(istiod.type, "kubernetes:helm.sh/v4:Chart");
                // By data: its remotePilotAddress is read from the gateway's Service once the VirtualService exists.
                for (const name of [`${primary}-istiod-vs`, `${primary}-eastwest-service`]) {
                    assert.ok(istiod.dependencies.includes(byName(resources, name).urn), `${remote}'s istiod waits for ${name}`);
                }
                // The gateway's chart through the exposure, which depends on it: Pulumi orders by the whole graph.
                const chart = byName(resources, `${primary}-istio-eastwestgateway`);
                assert.equal(chart.type, "kubernetes:helm.sh/v4:Chart");
                assert.ok(dependsOnTransitively(resources, istiod, chart.urn), `${remote}'s istiod waits for ${chart.name}`);
            }
        });

        it("gives each remote's istiod a provider that depends on the exposure, so destroy deletes its objects first", () => {
            for (const [remote, primary] of Object.entries(scenario.remotes)) {
                // The chart's objects take its provider, not its dependencies; the engine deletes a provider's
                // dependencies only after the provider, and the provider only after its objects.
                const providerUrn = byName(resources, `${remote}-istiod`).provider!.split("::").slice(0, -1).join("::");
                const provider = resources.find((r) => r.urn === providerUrn);
                assert.ok(provider, `${remote}-istiod's provider is not registered`);
                assert.equal(provider.name, `${remote}-k8s-served-by-${primary}`);
                for (const name of [`${primary}-istiod-gateway`, `${primary}-istiod-vs`]) {
                    assert.ok(provider.dependencies.includes(byName(resources, name).urn), `${provider.name} does not depend on ${name}`);
                }
                const own = byName(resources, `${remote}-k8s`);
                assert.deepEqual([provider.inputs.kubeconfig, provider.inputs.upsertExistingObjects], [own.inputs.kubeconfig, own.inputs.upsertExistingObjects]);
                assert.ok(byName(resources, `${remote}-istio-base`).provider!.startsWith(`${own.urn}::`), "only istiod waits for the exposure");
            }
        });

        it("installs a remote's gateway once its primary reads it and is reachable, and its app after the exposure", () => {
            for (const [remote, primary] of Object.entries(scenario.remotes)) {
                const app = byName(resources, `${remote}-sample-namespace`);
                for (const name of [`${primary}-istiod`, `${primary}-istiod-gateway`, `${primary}-istiod-vs`, `${remote}-to-${primary}-remote-secret`]) {
                    assert.ok(app.dependencies.includes(byName(resources, name).urn), `${remote}'s app waits for ${name}`);
                }
                const gateway = named(resources, `${remote}-istio-eastwestgateway`);
                if (gateway) {
                    for (const name of [`${remote}-istiod`, `${remote}-to-${primary}-remote-secret`, `${primary}-istiod-gateway`, `${primary}-istiod-vs`]) {
                        assert.ok(gateway.dependencies.includes(byName(resources, name).urn), `${remote}'s gateway waits for ${name}`);
                    }
                }
            }
        });
    });
}
