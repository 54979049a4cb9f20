import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { ConfigError, DEFAULT_ISTIO_VERSION, parseStackConfig } from "../stacks/config";
import { loadStackConfig } from "../stacks/loadConfig";
import { deployMesh } from "../stacks/mesh";
import { fakeKubeconfig, fakeState } from "./harness/fakeCluster";
import { localChartsDir } from "./harness/localCharts";
import { runWithMocks } from "./harness/mockRuntime";

const KIND_CLUSTERS = [
    { name: "cluster1", network: "network1", kind: {} },
    { name: "cluster2", network: "network2", kind: {} },
];

/** The stack config as the engine hands it to the program: namespaced keys, objects as JSON text. */
function stackConfig(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(values).map(([key, value]) => [`istio-multicluster:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}

/** Runs the whole program on `values`; returns the error it stopped with and what it registered first. */
async function runProgram(values: Record<string, unknown>, secretKeys: string[] = []) {
    const { result, resources } = await runWithMocks(
        () => {
            try {
                deployMesh(loadStackConfig());
                return undefined;
            } catch (err) {
                return err as Error;
            }
        },
        fakeState,
        stackConfig(values),
        secretKeys.map((k) => `istio-multicluster:${k}`),
    );
    return { error: result, resources };
}

const VALID = { meshId: "mesh1", clusters: KIND_CLUSTERS };

const loopbackFromKubeconfig = (i: number, server: string) =>
    `clusters[${i}].apiServer: missing; expected an https URL that the other clusters can reach, e.g. "https://10.0.0.5:6443", ` +
    `because the kubeconfig's server ${JSON.stringify(server)} is a loopback address: istiod in another cluster would reach its own host with it, not this API server`;
const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

const SUPPLIED_CA = { rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: PEM_KEY }, cluster2: { cert: PEM_CERT, key: PEM_KEY } } };

const MIRROR = { username: "mirror-user", password: "mirror-password" };
/** Longer than the 60 characters a value is cut to in a problem. */
const LONG_MISSING_PATH = "/home/platform-team/clusters/production/eu-west-1/kubeconfigs/admin.yaml";
const CHART_REPO_ALLOWED = "a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts";
const CHARTS_1_31_0 = localChartsDir("1.31.0");
const MIXED_CHARTS = localChartsDir("1.31.0", { gateway: "1.30.4" });
const NO_GATEWAY_CHART = localChartsDir("1.31.0", { gateway: undefined });
const ONE_LINE_KUBECONFIG = JSON.stringify({ apiVersion: "v1", kind: "Config", users: [{ name: "admin", user: { token: "s3cr3t-admin-token" } }] });

/** `secret`: the top-level keys set with `pulumi config set --secret`. */
const CASES: { title: string; values: Record<string, unknown>; secret?: string[]; problems: string[] }[] = [
    {
        title: "fewer than two clusters",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0]] },
        problems: [
            'clusters: got [{"name":"cluster1","network":"network1","kind":{}}]; expected a list of at least two clusters, each with name, network and either kind or kubeconfig',
        ],
    },
    {
        title: "no clusters at all",
        values: { meshId: "mesh1" },
        problems: ["clusters: missing; expected a list of at least two clusters, each with name, network and either kind or kubeconfig"],
    },
    {
        title: "duplicate cluster names",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], name: "cluster1" }] },
        problems: ['clusters[1].name: got "cluster1"; expected a name not used by another cluster (clusters[0] is already named "cluster1")'],
    },
    {
        title: "an invalid cluster name",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], name: "Cluster_2" }] },
        problems: [
            `clusters[1].name: got "Cluster_2"; expected a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)`,
        ],
    },
    {
        title: "a missing network",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", kind: {} }] },
        problems: [
            `clusters[1].network: missing; expected a Kubernetes label value (letters, digits, '-', '_' and '.', 1-63 characters, starting and ending with a letter or digit)`,
        ],
    },
    {
        title: "both kind and kubeconfig",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], kubeconfig: "/etc/kubeconfig" }] },
        problems: [
            "clusters[1]: has both kind and kubeconfig; expected exactly one: kind (a local cluster this program creates) or kubeconfig (an existing cluster)",
        ],
    },
    {
        title: "neither kind nor kubeconfig",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2" }] },
        problems: [
            "clusters[1]: has neither kind nor kubeconfig; expected exactly one: kind (a local cluster this program creates) or kubeconfig (an existing cluster)",
        ],
    },
    {
        title: "a kubeconfig file that does not exist",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: "/no/such/kubeconfig" }] },
        problems: [`clusters[1].kubeconfig: got "/no/such/kubeconfig"; expected an existing kubeconfig file, or the kubeconfig's YAML content`],
    },
    {
        title: "a kubeconfig path longer than a value is shown, in full",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: LONG_MISSING_PATH }] },
        problems: [`clusters[1].kubeconfig: got "${LONG_MISSING_PATH}"; expected an existing kubeconfig file, or the kubeconfig's YAML content`],
    },
    {
        title: "a long value that is not a path, cut short",
        values: { ...VALID, meshId: "m".repeat(70) },
        problems: [
            `meshId: got "${"m".repeat(56)}...; expected a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit), e.g. "mesh1"`,
        ],
    },
    {
        title: "a kubeconfig in one line of JSON (taken for a path), cut short as it holds credentials",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: ONE_LINE_KUBECONFIG }] },
        problems: [
            `clusters[1].kubeconfig: got ${JSON.stringify(ONE_LINE_KUBECONFIG).slice(0, 57)}...; expected an existing kubeconfig file, or the kubeconfig's YAML content`,
        ],
    },
    {
        title: "a chart directory path longer than a value is shown, in full",
        values: { ...VALID, istio: { chartRepo: LONG_MISSING_PATH } },
        problems: [
            `istio.chartRepo: got "${LONG_MISSING_PATH}"; expected a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts`,
        ],
    },
    {
        title: "a context the kubeconfig does not have",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: fakeKubeconfig("cluster2"), context: "prod" }] },
        problems: ['clusters[1].context: got "prod"; expected a kubeconfig context with a server; the kubeconfig has no context "prod" (contexts: kind-cluster2)'],
    },
    {
        title: "an API-server address that is not an https URL",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: fakeKubeconfig("cluster2"), apiServer: "10.0.0.5:6443" }] },
        problems: [`clusters[1].apiServer: got "10.0.0.5:6443"; expected an https URL that the other clusters can reach, e.g. "https://10.0.0.5:6443"`],
    },
    {
        title: "an existing istio-system on a kind cluster",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], existingIstioNamespace: true }] },
        problems: [
            "clusters[1].existingIstioNamespace: got true; expected false for a kind cluster: the program creates the cluster, so no istio-system can exist in it before",
        ],
    },
    {
        title: "an existingIstioNamespace that is not a boolean",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: fakeKubeconfig("cluster2", "https://10.0.2.1:6443"), existingIstioNamespace: "yes" }] },
        problems: ['clusters[1].existingIstioNamespace: got "yes"; expected true or false'],
    },
    {
        title: "a loopback API-server address from the kubeconfig",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { name: "cluster2", network: "network2", kubeconfig: fakeKubeconfig("cluster2", "https://127.0.0.1:40123") }] },
        problems: [loopbackFromKubeconfig(1, "https://127.0.0.1:40123")],
    },
    {
        title: "an unknown topology",
        values: { ...VALID, topology: "external-control-plane" },
        problems: [
            'topology: got "external-control-plane"; expected one of multi-primary, multi-primary-multi-network, primary-remote, primary-remote-multi-network, multi-primary-remote, multi-primary-remote-multi-network',
        ],
    },
    {
        title: "a topology the networks contradict",
        values: { ...VALID, topology: "multi-primary" },
        problems: ['topology: got "multi-primary"; expected "multi-primary-multi-network", because the clusters are 2 primaries and no remotes on 2 networks (network1, network2)'],
    },
    {
        title: "a topology the roles contradict",
        values: { ...VALID, topology: "multi-primary-multi-network", clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "remote", primary: "cluster1" }] },
        problems: [
            'topology: got "multi-primary-multi-network"; expected "primary-remote-multi-network", because the clusters are 1 primary and 1 remote on 2 networks (network1, network2)',
        ],
    },
    {
        title: "a role Istio has but the program does not install",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "config" }] },
        problems: [`clusters[1].role: got "config"; expected "primary" (runs istiod) or "remote" (uses its primary's istiod); external control planes are not supported`],
    },
    {
        title: "a remote without its primary",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "remote" }] },
        problems: ["clusters[1].primary: missing; expected the name of a primary cluster of this mesh (cluster1): clusters[1] is a remote, which runs no istiod of its own"],
    },
    {
        title: "a primary that names a primary",
        values: { ...VALID, clusters: [{ ...KIND_CLUSTERS[0], primary: "cluster2" }, KIND_CLUSTERS[1]] },
        problems: ['clusters[0].primary: got "cluster2"; expected no value for a primary cluster: only a cluster with role: remote names its primary'],
    },
    {
        title: "a remote whose primary does not exist",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "remote", primary: "cluster9" }] },
        problems: ['clusters[1].primary: got "cluster9"; expected the name of a primary cluster of this mesh (cluster1); no cluster is named "cluster9"'],
    },
    {
        title: "a remote that names itself as its primary",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "remote", primary: "cluster2" }] },
        problems: ['clusters[1].primary: got "cluster2"; expected the name of a primary cluster of this mesh (cluster1); a remote cannot be its own primary'],
    },
    {
        title: "a remote whose primary is another remote",
        values: {
            ...VALID,
            clusters: [
                KIND_CLUSTERS[0],
                { ...KIND_CLUSTERS[1], role: "remote", primary: "cluster1" },
                { name: "cluster3", network: "network3", kind: {}, role: "remote", primary: "cluster2" },
            ],
        },
        problems: [
            `clusters[2].primary: got "cluster2"; expected the name of a primary cluster of this mesh (cluster1); clusters[1] is a remote too, and only a primary runs the istiod a remote uses`,
        ],
    },
    {
        title: "remotes only",
        values: {
            ...VALID,
            clusters: [
                { ...KIND_CLUSTERS[0], role: "remote", primary: "cluster2" },
                { ...KIND_CLUSTERS[1], role: "remote", primary: "cluster1" },
            ],
        },
        problems: [
            `clusters[0].primary: got "cluster2"; expected the name of a primary cluster of this mesh (there is none); clusters[1] is a remote too, and only a primary runs the istiod a remote uses`,
            `clusters[1].primary: got "cluster1"; expected the name of a primary cluster of this mesh (there is none); clusters[0] is a remote too, and only a primary runs the istiod a remote uses`,
        ],
    },
    {
        title: "a primary name that is not a cluster name",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], role: "remote", primary: "Cluster 1" }] },
        problems: [
            `clusters[1].primary: got "Cluster 1"; expected a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)`,
        ],
    },
    {
        title: "a kind remote on its primary's network",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], network: "network1", role: "remote", primary: "cluster1" }] },
        problems: [
            'clusters[0].network: got "network1"; expected a network no other cluster is on (clusters[1] is on it too): pod IPs of a kind cluster are not routable from other clusters',
            'clusters[1].network: got "network1"; expected a network no other cluster is on (clusters[0] is on it too): pod IPs of a kind cluster are not routable from other clusters',
        ],
    },
    {
        title: "Helm values that would change a cluster's role",
        values: { ...VALID, istio: { values: { base: { profile: "remote" }, istiod: { profile: "remote", global: { remotePilotAddress: "10.0.0.1" } } } } },
        problems: [
            'istio.values.base.profile: got "remote"; expected no value: the program sets it from meshId, trustDomain, clusters[] and the istio revisions',
            'istio.values.istiod.profile: got "remote"; expected no value: the program sets it from meshId, trustDomain, clusters[] and the istio revisions',
            'istio.values.istiod.global.remotePilotAddress: got "10.0.0.1"; expected no value: the program sets it from meshId, trustDomain, clusters[] and the istio revisions',
        ],
    },
    {
        title: "kind clusters sharing a network",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], network: "network1" }] },
        problems: [
            'clusters[0].network: got "network1"; expected a network no other cluster is on (clusters[1] is on it too): pod IPs of a kind cluster are not routable from other clusters',
            'clusters[1].network: got "network1"; expected a network no other cluster is on (clusters[0] is on it too): pod IPs of a kind cluster are not routable from other clusters',
        ],
    },
    {
        title: "a malformed Istio version",
        values: { ...VALID, istio: { version: "1.30" } },
        problems: ['istio.version: got "1.30"; expected a chart version like "1.30.4" (MAJOR.MINOR.PATCH)'],
    },
    {
        title: "an Istio version other than the local charts' own",
        values: { ...VALID, istio: { version: "1.31.9", chartRepo: CHARTS_1_31_0 } },
        problems: [
            `istio.version: got "1.31.9"; expected "1.31.0", the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(CHARTS_1_31_0)}): Helm installs a local chart as it is, whatever version is asked for`,
        ],
    },
    {
        title: "the default Istio version over local charts of another",
        values: { ...VALID, istio: { chartRepo: CHARTS_1_31_0 } },
        problems: [
            `istio.version: got "${DEFAULT_ISTIO_VERSION}"; expected "1.31.0", the version of the base, istiod and gateway charts in istio.chartRepo (${JSON.stringify(CHARTS_1_31_0)}): Helm installs a local chart as it is, whatever version is asked for`,
        ],
    },
    {
        title: "local charts of different versions",
        values: { ...VALID, istio: { version: "1.31.0", chartRepo: MIXED_CHARTS } },
        problems: [
            `istio.chartRepo: got ${JSON.stringify(MIXED_CHARTS)}; expected ${CHART_REPO_ALLOWED} of one version; its charts are of different versions (base 1.31.0, istiod 1.31.0, gateway 1.30.4)`,
        ],
    },
    {
        title: "a local chart directory without a chart's Chart.yaml",
        values: { ...VALID, istio: { version: "1.31.0", chartRepo: NO_GATEWAY_CHART } },
        problems: [`istio.chartRepo: got ${JSON.stringify(NO_GATEWAY_CHART)}; expected ${CHART_REPO_ALLOWED} of one version; it has no readable gateway/Chart.yaml (ENOENT)`],
    },
    {
        title: "a chart repo that is neither a URL nor an existing directory",
        values: { ...VALID, istio: { chartRepo: "./no-such-charts" } },
        problems: [
            'istio.chartRepo: got "./no-such-charts"; expected a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts',
        ],
    },
    {
        title: "chart credentials without a password",
        values: { ...VALID, istio: { chartRepo: "https://mirror.example.com/charts", chartCredentials: { username: "mirror-user" } } },
        secret: ["istio"],
        problems: ["istio.chartCredentials.password: missing; expected the mirror's password"],
    },
    {
        title: "chart credentials that are not an object, without showing them",
        values: { ...VALID, istio: { chartRepo: "https://mirror.example.com/charts", chartCredentials: "mirror-user:mirror-password" } },
        secret: ["istio"],
        problems: ["istio.chartCredentials: got a value that is not shown (it is a secret); expected an object with the keys username, password"],
    },
    {
        title: "a misspelt chart-credentials key, without showing its value",
        values: { ...VALID, istio: { chartRepo: "https://mirror.example.com/charts", chartCredentials: { username: "mirror-user", passwd: "mirror-password" } } },
        secret: ["istio"],
        problems: [
            "istio.chartCredentials.password: missing; expected the mirror's password",
            "istio.chartCredentials.passwd: got a value that is not shown (it is a secret); expected no such key (allowed keys: username, password)",
        ],
    },
    {
        title: "chart credentials set in plain text",
        values: { ...VALID, istio: { chartRepo: "https://mirror.example.com/charts", chartCredentials: MIRROR } },
        problems: [
            "istio.chartCredentials: got a plain-text value; expected a secret (set the password with `pulumi config set --secret --path istio.chartCredentials.password ...`)",
        ],
    },
    {
        title: "chart credentials for a local chart directory",
        values: { ...VALID, istio: { version: "1.31.0", chartRepo: CHARTS_1_31_0, chartCredentials: MIRROR } },
        secret: ["istio"],
        problems: [
            `istio.chartCredentials: got {"username":"mirror-user","password":"<secret>"}; expected no value while istio.chartRepo is a local directory (${JSON.stringify(CHARTS_1_31_0)}): only a Helm repository or OCI registry takes a login`,
        ],
    },
    {
        title: "chart credentials for a plain-HTTP repository",
        values: { ...VALID, istio: { chartRepo: "http://mirror.example.com/charts", chartCredentials: MIRROR } },
        secret: ["istio"],
        problems: [
            'istio.chartCredentials: got {"username":"mirror-user","password":"<secret>"}; expected no value while istio.chartRepo is plain HTTP ("http://mirror.example.com/charts"): the password would cross the network unencrypted (use an https:// or oci:// mirror)',
        ],
    },
    {
        title: "keepCrds that is not a boolean",
        values: { ...VALID, istio: { keepCrds: "yes" } },
        problems: ['istio.keepCrds: got "yes"; expected true or false'],
    },
    {
        title: "Helm values that contradict the program's own",
        values: { ...VALID, istio: { values: { istiod: { global: { network: "other" } } } } },
        problems: ['istio.values.istiod.global.network: got "other"; expected no value: the program sets it from meshId, trustDomain, clusters[] and the istio revisions'],
    },
    {
        title: "values for a chart the program does not install",
        values: { ...VALID, istio: { values: { cni: {} } } },
        problems: ["istio.values.cni: got {}; expected no such key (allowed keys: base, istiod, gateway)"],
    },
    {
        title: "a misspelt top-level key",
        values: { ...VALID, meshID: "mesh1" },
        problems: ['meshID: got "mesh1"; expected no such key (allowed keys: meshId, trustDomain, topology, clusters, istio, ca, remoteSecrets, testApp, verify, workloads, images)'],
    },
    {
        title: "a misspelt cluster key",
        values: { ...VALID, clusters: [KIND_CLUSTERS[0], { ...KIND_CLUSTERS[1], netwrok: "network2" }] },
        problems: [
            'clusters[1].netwrok: got "network2"; expected no such key (allowed keys: name, network, kind, kubeconfig, context, apiServer, role, primary, existingIstioNamespace, helloworldVersion, istioVersion, defaultRevision, gone)',
        ],
    },
    {
        title: "a missing mesh ID",
        values: { clusters: KIND_CLUSTERS },
        problems: [
            `meshId: missing; expected a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit), e.g. "mesh1"`,
        ],
    },
    {
        title: "a non-boolean switch",
        values: { ...VALID, testApp: { enabled: "yes" }, verify: { enabled: false } },
        problems: ['testApp.enabled: got "yes"; expected true or false'],
    },
    {
        title: "an existing CA set in plain text",
        values: { ...VALID, ca: { rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: PEM_KEY }, cluster2: { cert: PEM_CERT, key: PEM_KEY } } } },
        problems: [
            "ca: got a plain-text value; expected a secret (set it with `pulumi config set --secret --path ca.intermediates.<cluster>.key ...`)",
        ],
    },
    {
        title: "an existing CA missing a cluster's intermediate",
        values: { ...VALID, ca: { rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: PEM_KEY } } } },
        secret: ["ca"],
        problems: ["ca.intermediates.cluster2: missing; expected the {cert, key} of cluster cluster2's intermediate CA"],
    },
    {
        title: "intermediates too short-lived for the minimum renewal window",
        values: { ...VALID, ca: { validityHours: 48 } },
        problems: [
            "ca.validityHours: got 48; expected more than 48: an intermediate is renewed at least 48 hours before it expires, so that it outlives the 24-hour workload certificates it signed before the renewal (with a day's margin)",
        ],
    },
    {
        title: "a renewal window as long as the intermediates' lifetime",
        values: { ...VALID, ca: { validityHours: 720, renewBeforeHours: 720 } },
        problems: [
            "ca.renewBeforeHours: got 720; expected fewer hours than ca.validityHours (720): an intermediate renewed that early would be renewed at every `pulumi up`",
        ],
    },
    {
        title: "a renewal window shorter than a workload certificate's lifetime plus a margin",
        values: { ...VALID, ca: { renewBeforeHours: 24 } },
        problems: ["ca.renewBeforeHours: got 24; expected a whole number from 48 to 175200"],
    },
    {
        title: "a root rotation phase that is not one",
        values: { ...VALID, ca: { rootRotation: { phase: "both" } } },
        problems: ['ca.rootRotation.phase: got "both"; expected one of "prepare", "trust-both", "sign-new", "new-only", in this order'],
    },
    {
        title: "a new root of one's own for a generated CA",
        values: { ...VALID, ca: { rootRotation: { phase: "prepare", rootCert: PEM_CERT } } },
        problems: [
            'ca.rootRotation.rootCert: got "<multi-line text, not shown>"; expected no value while the CA is generated: the program generates the new root, as generation ca.rootGeneration + 1',
        ],
    },
    {
        title: "a supplied CA's rotation without its new root, and in sign-new without the new intermediates",
        values: { ...VALID, ca: { ...SUPPLIED_CA, rootRotation: { phase: "sign-new" } } },
        secret: ["ca"],
        problems: [
            "ca.rootRotation.rootCert: missing; expected a PEM certificate (the new root CA) while ca.rootCert is supplied",
            'ca.rootRotation.intermediates: missing; expected an object with one {cert, key} entry per cluster, under ca.rootRotation.rootCert: they sign from phase "sign-new" on',
        ],
    },
    {
        title: "a supplied CA's rotation to the root it has, with a generation and new intermediates for another cluster",
        values: {
            ...VALID,
            ca: { ...SUPPLIED_CA, rootGeneration: 1, rootRotation: { phase: "prepare", rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: PEM_KEY }, cluster3: { cert: PEM_CERT, key: PEM_KEY } } } },
        },
        secret: ["ca"],
        problems: [
            "ca.rootGeneration: got 1; expected no value when ca.rootCert/ca.intermediates supply an existing CA",
            'ca.rootRotation.rootCert: got "<multi-line text, not shown>"; expected a root other than ca.rootCert: the rotation replaces ca.rootCert with it',
            "ca.rootRotation.intermediates.cluster2: missing; expected the {cert, key} of cluster cluster2's intermediate CA",
            'ca.rootRotation.intermediates.cluster3: got "{...}"; expected an entry only for a configured cluster (cluster1, cluster2)',
        ],
    },
    {
        title: "ISTIO_MULTIROOT_MESH set by hand during a root rotation",
        values: { ...VALID, ca: { rootRotation: { phase: "trust-both" } }, istio: { values: { istiod: { env: { ISTIO_MULTIROOT_MESH: "false" } } } } },
        problems: [
            'istio.values.istiod.env.ISTIO_MULTIROOT_MESH: got "false"; expected no value while ca.rootRotation is set: the program sets it on istiod for the rotation, and removes it once the rotation ends',
        ],
    },
    {
        title: "a wait between phases that is not a number of hours",
        values: { ...VALID, ca: { rootGeneration: -1, rootRotation: { phase: "prepare", waitHours: "2d" } } },
        problems: ["ca.rootGeneration: got -1; expected a whole number from 0 to 1000", 'ca.rootRotation.waitHours: got "2d"; expected a whole number from 0 to 8760'],
    },
    {
        title: "a reader-token rotation on an Istio that mishandles it",
        values: { ...VALID, istio: { version: "1.30.3" }, remoteSecrets: { tokenGeneration: 1 } },
        problems: [
            'remoteSecrets.tokenGeneration: got 1; expected 0 while istio.version is "1.30.3": a rotated token reaches istiod by an update of its remote secret in place, which Istio before 1.30.4 mishandles (1.30.0 to 1.30.3 have rotation bugs; before 1.30 istiod drops the cluster until the new client has synced); upgrade istio.version first',
        ],
    },
    {
        title: "a reader-token generation that is not a whole number",
        values: { ...VALID, remoteSecrets: { tokenGeneration: "next" } },
        problems: ['remoteSecrets.tokenGeneration: got "next"; expected a whole number from 0 to 1000000'],
    },
];

describe("stack config validation", () => {
    for (const c of CASES) {
        it(`rejects ${c.title} before registering any resource`, async () => {
            const { error, resources } = await runProgram(c.values, c.secret);
            assert.ok(error instanceof pulumi.RunError, `expected a RunError, got ${error}`);
            assert.equal(error.stack, undefined, "a stack makes Pulumi's SDK format the error at length before the message shows");
            assert.equal(
                error.message,
                `Invalid stack config (${c.problems.length} problem${c.problems.length === 1 ? "" : "s"}):\n` +
                    c.problems.map((p) => `  - ${p}`).join("\n"),
            );
            assert.deepEqual(resources, []);
        });
    }

    it("reports every problem of one config in a single message", async () => {
        const { error } = await runProgram({ meshId: "Mesh 1", clusters: [KIND_CLUSTERS[0]], istio: { version: "latest" } });
        assert.ok(error instanceof pulumi.RunError);
        assert.equal(error.message.split("\n")[0], "Invalid stack config (3 problems):");
        assert.match(error.message, /^ {2}- meshId: got "Mesh 1"/m);
        assert.match(error.message, /^ {2}- clusters: got /m);
        assert.match(error.message, /^ {2}- istio\.version: got "latest"/m);
    });

    it("accepts an existing CA set as a secret and delivers it as given", async () => {
        const ca = { rootCert: PEM_CERT, intermediates: { cluster1: { cert: PEM_CERT, key: PEM_KEY }, cluster2: { cert: PEM_CERT, key: PEM_KEY } } };
        const { error, resources } = await runProgram({ ...VALID, ca }, ["ca"]);
        assert.equal(error, undefined);
        assert.equal(resources.filter((r) => r.type.startsWith("tls:")).length, 0, "no CA is generated");
        const cacerts = resources.find((r) => r.name === "cluster1-cacerts")!;
        assert.equal(Buffer.from(cacerts.inputs.data["ca-key.pem"], "base64").toString(), PEM_KEY);
        assert.equal(Buffer.from(cacerts.inputs.data["root-cert.pem"], "base64").toString(), PEM_CERT);
        assert.ok(cacerts.secretInputs.has("data"));
    });

    it("accepts the embedded dev stack's config (Pulumi.dev.yaml) and fills in the defaults", async () => {
        const devStack = yaml.load(fs.readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
        const values = Object.fromEntries(Object.entries(devStack.config).map(([k, v]) => [k.replace(/^istio-multicluster:/, ""), v]));
        const { error, resources } = await runProgram(values);
        assert.equal(error, undefined);
        const istiod = resources.find((r) => r.name === "cluster1-istiod")!;
        assert.equal(istiod.inputs.version, DEFAULT_ISTIO_VERSION);
        assert.equal(istiod.inputs.values.meshConfig.trustDomain, "cluster.local");
        assert.equal(resources.filter((r) => r.type === "kubernetes:batch/v1:Job").length, 2);
    });

    it("accepts the verification without waiting for workloads, and still awaits the check's Job", async () => {
        const { error, resources } = await runProgram({ ...VALID, workloads: { awaitReady: false } });
        assert.equal(error, undefined);
        const annotations = (type: string) => resources.filter((r) => r.type === type).map((r) => r.inputs.metadata.annotations ?? {});
        assert.equal(annotations("kubernetes:apps/v1:Deployment").length, 4);
        for (const a of annotations("kubernetes:apps/v1:Deployment")) {
            assert.equal(a["pulumi.com/skipAwait"], "true");
        }
        assert.equal(annotations("kubernetes:batch/v1:Job").length, 2);
        for (const a of annotations("kubernetes:batch/v1:Job")) {
            assert.equal(a["pulumi.com/skipAwait"], undefined);
        }
    });
});

describe("the API-server address the other clusters' istiod use", () => {
    const LOOPBACK = [
        "https://127.0.0.1:6443",
        "https://127.12.0.3",
        "https://localhost:6443",
        "https://LOCALHOST",
        "https://api.localhost:6443",
        "https://localhost.:6443",
        "https://[::1]:6443",
        "https://[::ffff:127.0.0.1]:6443",
    ];
    const REACHABLE = ["https://10.0.0.5:6443", "https://128.0.0.1:6443", "https://localhost.example.com", "https://[::2]:6443", "https://api.example.com"];
    /** Two existing clusters; the second one's kubeconfig names `server`, and `apiServer` is set when given. */
    const config = (server: string, apiServer?: string) => ({
        meshId: "mesh1",
        clusters: [
            { name: "east", network: "net1", kubeconfig: fakeKubeconfig("east", "https://10.0.1.1:6443") },
            { name: "west", network: "net1", kubeconfig: fakeKubeconfig("west", server), helloworldVersion: "v2" as const, ...(apiServer ? { apiServer } : {}) },
        ],
    });

    it("is refused when it is the kubeconfig's loopback server", () => {
        for (const server of LOOPBACK) {
            assert.throws(() => parseStackConfig(config(server)), (err: ConfigError) => {
                assert.deepEqual(err.problems, [loopbackFromKubeconfig(1, server)]);
                return true;
            });
        }
    });

    it("is the kubeconfig's server when that is not a loopback address", () => {
        for (const server of REACHABLE) {
            const { config: parsed, warnings } = parseStackConfig(config(server));
            assert.deepEqual(parsed.clusters[1].source, { type: "existing", kubeconfig: fakeKubeconfig("west", server), context: undefined, apiServer: server });
            assert.deepEqual(warnings, []);
        }
    });

    it("is kept when set, even on loopback, with a warning that only istiods on this host can use it", () => {
        for (const apiServer of LOOPBACK) {
            const { config: parsed, warnings } = parseStackConfig(config("https://127.0.0.1:6443", apiServer));
            assert.equal(parsed.clusters[1].source.type === "existing" && parsed.clusters[1].source.apiServer, apiServer);
            assert.deepEqual(warnings, [
                `clusters[1].apiServer: ${JSON.stringify(apiServer)} is a loopback address; it only works while every cluster's istiod runs on this same host (as in the end-to-end test), not from istiod in another cluster's pods`,
            ]);
        }
    });

    it("warns through Pulumi's log when the program runs, and goes on", async (t) => {
        const values = config("https://127.0.0.1:6443", "https://127.0.0.1:6443");
        const warn = t.mock.method(pulumi.log, "warn", () => undefined);
        const { error, resources } = await runProgram(values);
        assert.equal(error, undefined);
        assert.ok(resources.length > 0);
        assert.equal(warn.mock.callCount(), 1);
        assert.deepEqual(warn.mock.calls[0].arguments[0], parseStackConfig(values).warnings[0]);
    });

    it("set to a reachable address, replaces the kubeconfig's loopback server without a warning", () => {
        const { config: parsed, warnings } = parseStackConfig(config("https://127.0.0.1:6443", "https://10.0.2.1:6443"));
        assert.equal(parsed.clusters[1].source.type === "existing" && parsed.clusters[1].source.apiServer, "https://10.0.2.1:6443");
        assert.deepEqual(warnings, []);
    });
});
