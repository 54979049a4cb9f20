import * as fs from "fs";
import * as os from "os";
import { kubeconfigServer } from "../components/kubeconfig";
import { isObject, Problems, RawObject } from "./configProblems";
import {
    DNS1123_LABEL,
    DNS1123_LABEL_ALLOWED,
    isHttpsUrl,
    LABEL_VALUE,
    LABEL_VALUE_ALLOWED,
    readBoolean,
    readInteger,
    readOptionalString,
    readSection,
    readString,
} from "./fieldReaders";
import {
    CaConfig,
    ChartSource,
    ClusterConfig,
    ClusterSource,
    DEFAULT_IMAGES,
    DEFAULT_ISTIO_VERSION,
    DEFAULT_TRUST_DOMAIN,
    ImagesConfig,
    ISTIO_CHARTS,
    IstioChart,
    IstioConfig,
    OFFICIAL_ISTIO_CHART_REPO,
    ProvidedIntermediate,
    StackConfig,
    Topology,
    TOPOLOGIES,
} from "./types";

const TOP_LEVEL_KEYS = ["meshId", "trustDomain", "topology", "clusters", "istio", "ca", "testApp", "verify", "workloads", "images"];
const CLUSTER_KEYS = ["name", "network", "kind", "kubeconfig", "context", "apiServer"];
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/;

/** Helm values that the program sets from the stack config itself; setting them again in `istio.values` would contradict it. */
const PROGRAM_OWNED_VALUES: Readonly<Record<IstioChart, readonly string[]>> = {
    base: [],
    istiod: ["global.meshID", "global.multiCluster.clusterName", "global.network", "meshConfig.trustDomain"],
    gateway: ["name", "networkGateway"],
};

/**
 * Parses and validates the stack config (keys without the `istio-multicluster:` prefix, values already
 * JSON-decoded). Throws one ConfigError that lists every problem.
 */
export function parseStackConfig(raw: RawObject): StackConfig {
    const problems = new Problems();
    problems.unknownKeys("", raw, TOP_LEVEL_KEYS);

    const meshId = readString(problems, "meshId", raw.meshId, `${DNS1123_LABEL_ALLOWED}, e.g. "mesh1"`, (s) => DNS1123_LABEL.test(s));
    const trustDomain =
        readOptionalString(problems, "trustDomain", raw.trustDomain, 'a DNS name such as "cluster.local"', (s) => DNS_NAME.test(s)) ??
        DEFAULT_TRUST_DOMAIN;
    const clusters = readClusters(problems, raw.clusters);
    const topology = readTopology(problems, raw.topology, clusters);
    const istio = readIstio(problems, raw.istio);
    const ca = readCa(problems, raw.ca, clusters);

    const testAppSection = readSection(problems, "testApp", raw.testApp, ["enabled"]);
    const testAppEnabled = readBoolean(problems, "testApp.enabled", testAppSection.enabled, true);
    const verifySection = readSection(problems, "verify", raw.verify, ["enabled", "requests", "attempts"]);
    const verify = {
        enabled: readBoolean(problems, "verify.enabled", verifySection.enabled, testAppEnabled),
        requests: readInteger(problems, "verify.requests", verifySection.requests, 20, 2, 1000),
        attempts: readInteger(problems, "verify.attempts", verifySection.attempts, 30, 1, 1000),
    };
    const workloadsSection = readSection(problems, "workloads", raw.workloads, ["awaitReady"]);
    const awaitWorkloads = readBoolean(problems, "workloads.awaitReady", workloadsSection.awaitReady, true);
    if (verify.enabled && !testAppEnabled) {
        problems.conflict("verify.enabled: got true while testApp.enabled is false; the verification needs the test app (set verify.enabled: false or testApp.enabled: true)");
    }
    if (verify.enabled && !awaitWorkloads) {
        problems.conflict("verify.enabled: got true while workloads.awaitReady is false; traffic can only be verified once pods run (set verify.enabled: false)");
    }
    const images = readImages(problems, raw.images);

    problems.throwIfAny();
    return {
        topology: topology!,
        meshId: meshId!,
        trustDomain,
        clusters: clusters!,
        istio: istio!,
        ca: ca!,
        testApp: { enabled: testAppEnabled },
        verify,
        awaitWorkloads,
        images,
    };
}

function readClusters(problems: Problems, value: unknown): ClusterConfig[] | undefined {
    const allowed = "a list of at least two clusters, each with name, network and either kind or kubeconfig";
    if (!Array.isArray(value) || value.length < 2) {
        problems.add("clusters", value, allowed);
        return undefined;
    }
    const clusters: ClusterConfig[] = [];
    const seen = new Map<string, number>();
    value.forEach((entry, i) => {
        const key = `clusters[${i}]`;
        if (!isObject(entry)) {
            problems.add(key, entry, "an object with name, network and either kind or kubeconfig");
            return;
        }
        problems.unknownKeys(`${key}.`, entry, CLUSTER_KEYS);
        const name = readString(problems, `${key}.name`, entry.name, DNS1123_LABEL_ALLOWED, (s) => DNS1123_LABEL.test(s));
        if (name !== undefined) {
            const first = seen.get(name);
            if (first !== undefined) {
                problems.add(`${key}.name`, name, `a name not used by another cluster (clusters[${first}] is already named "${name}")`);
            }
            seen.set(name, i);
        }
        const network = readString(problems, `${key}.network`, entry.network, LABEL_VALUE_ALLOWED, (s) => LABEL_VALUE.test(s));
        const source = readClusterSource(problems, key, entry);
        if (name !== undefined && network !== undefined && source !== undefined) {
            clusters.push({ name, network, source });
        }
    });
    if (clusters.length !== value.length) {
        return undefined;
    }
    checkKindNetworks(problems, clusters);
    return clusters;
}

/** Pod IPs of a kind cluster are not routable from other clusters, so a kind cluster needs a network of its own. */
function checkKindNetworks(problems: Problems, clusters: ClusterConfig[]): void {
    clusters.forEach((cluster, i) => {
        const other = clusters.findIndex((c, j) => j !== i && c.network === cluster.network);
        if (cluster.source.type === "kind" && other !== -1) {
            problems.add(
                `clusters[${i}].network`,
                cluster.network,
                `a network no other cluster is on (clusters[${other}] is on it too): pod IPs of a kind cluster are not routable from other clusters`,
            );
        }
    });
}

function readClusterSource(problems: Problems, key: string, entry: RawObject): ClusterSource | undefined {
    const hasKind = entry.kind !== undefined;
    const hasKubeconfig = entry.kubeconfig !== undefined;
    if (hasKind === hasKubeconfig) {
        problems.conflict(
            `${key}: ${hasKind ? "has both kind and kubeconfig" : "has neither kind nor kubeconfig"}; ` +
                "expected exactly one: kind (a local cluster this program creates) or kubeconfig (an existing cluster)",
        );
        return undefined;
    }
    if (hasKind) {
        for (const onlyExisting of ["context", "apiServer"]) {
            if (entry[onlyExisting] !== undefined) {
                problems.add(`${key}.${onlyExisting}`, entry[onlyExisting], "no value for a kind cluster (only clusters given by kubeconfig take it)");
            }
        }
        const kind = entry.kind === true ? {} : readSection(problems, `${key}.kind`, entry.kind, ["nodeImage"]);
        const nodeImage = readOptionalString(problems, `${key}.kind.nodeImage`, kind.nodeImage, 'a container image such as "kindest/node:v1.34.0"');
        return { type: "kind", nodeImage };
    }
    const kubeconfig = readString(problems, `${key}.kubeconfig`, entry.kubeconfig, "a kubeconfig file path or the kubeconfig's YAML content");
    const context = readOptionalString(problems, `${key}.context`, entry.context, "the name of a context in the kubeconfig");
    const apiServer = readOptionalString(
        problems,
        `${key}.apiServer`,
        entry.apiServer,
        'an https URL that the other clusters can reach, e.g. "https://10.0.0.5:6443"',
        isHttpsUrl,
    );
    if (kubeconfig === undefined) {
        return undefined;
    }
    const isContent = kubeconfig.includes("\n");
    const file = kubeconfig.replace(/^~(?=\/)/, os.homedir());
    if (!isContent && !fs.existsSync(file)) {
        problems.add(`${key}.kubeconfig`, kubeconfig, "an existing kubeconfig file, or the kubeconfig's YAML content");
        return undefined;
    }
    const content = isContent ? kubeconfig : fs.readFileSync(file, "utf8");
    try {
        const server = kubeconfigServer(content, context);
        return { type: "existing", kubeconfig: content, context, apiServer: apiServer ?? server };
    } catch (err) {
        problems.add(`${key}.${context === undefined ? "kubeconfig" : "context"}`, context ?? kubeconfig, `a kubeconfig context with a server; the kubeconfig ${(err as Error).message}`);
        return undefined;
    }
}

function readTopology(problems: Problems, value: unknown, clusters: ClusterConfig[] | undefined): Topology | undefined {
    const networks = new Set(clusters?.map((c) => c.network));
    const implied: Topology = networks.size > 1 ? "multi-primary-multi-network" : "multi-primary";
    if (value === undefined) {
        return implied;
    }
    if (typeof value !== "string" || !(TOPOLOGIES as readonly string[]).includes(value)) {
        problems.add("topology", value, `one of ${TOPOLOGIES.join(", ")}`);
        return undefined;
    }
    if (clusters !== undefined && value !== implied) {
        problems.add(
            "topology",
            value,
            `"${implied}", because the clusters are on ${networks.size === 1 ? "one network" : `${networks.size} networks`} (${[...networks].join(", ")})`,
        );
        return undefined;
    }
    return value as Topology;
}

function readIstio(problems: Problems, value: unknown): IstioConfig | undefined {
    const section = readSection(problems, "istio", value, ["version", "chartRepo", "values", "keepCrds"]);
    const version =
        readOptionalString(problems, "istio.version", section.version, 'a chart version like "1.30.4" (MAJOR.MINOR.PATCH)', (s) => SEMVER.test(s)) ??
        DEFAULT_ISTIO_VERSION;
    const chartSource = readChartSource(problems, section.chartRepo);
    const valuesSection = readSection(problems, "istio.values", section.values, ISTIO_CHARTS);
    const values = {} as Record<IstioChart, Record<string, unknown>>;
    for (const chart of ISTIO_CHARTS) {
        const chartValues = valuesSection[chart] ?? {};
        if (!isObject(chartValues)) {
            problems.add(`istio.values.${chart}`, chartValues, `an object of Helm values for the ${chart} chart`);
            continue;
        }
        for (const owned of PROGRAM_OWNED_VALUES[chart]) {
            const ownedValue = lookup(chartValues, owned);
            if (ownedValue !== undefined) {
                problems.add(`istio.values.${chart}.${owned}`, ownedValue, "no value: the program sets it from meshId, trustDomain and clusters[]");
            }
        }
        values[chart] = chartValues;
    }
    const keepCrds = readBoolean(problems, "istio.keepCrds", section.keepCrds, false);
    return chartSource === undefined ? undefined : { version, chartSource, values, keepCrds };
}

function readChartSource(problems: Problems, value: unknown): ChartSource | undefined {
    if (value === undefined) {
        return { type: "repository", url: OFFICIAL_ISTIO_CHART_REPO };
    }
    if (typeof value === "string") {
        if (/^(https?|oci):\/\/[^/\s]+/.test(value)) {
            return { type: "repository", url: value };
        }
        if (fs.existsSync(value) && fs.statSync(value).isDirectory()) {
            return { type: "directory", path: value };
        }
    }
    problems.add("istio.chartRepo", value, "a Helm repository URL (https://, http:// or oci://) or an existing directory holding the base, istiod and gateway charts");
    return undefined;
}

function readCa(problems: Problems, value: unknown, clusters: ClusterConfig[] | undefined): CaConfig | undefined {
    const section = readSection(problems, "ca", value, ["organization", "validityHours", "rootCert", "intermediates"]);
    const provided = section.rootCert !== undefined || section.intermediates !== undefined;
    if (!provided) {
        return {
            type: "generated",
            organization: readOptionalString(problems, "ca.organization", section.organization, "a non-empty string") ?? "Istio multicluster mesh",
            validityHours: readInteger(problems, "ca.validityHours", section.validityHours, 24 * 365, 24, 24 * 365 * 20),
        };
    }
    for (const generatedOnly of ["organization", "validityHours"]) {
        if (section[generatedOnly] !== undefined) {
            problems.add(`ca.${generatedOnly}`, section[generatedOnly], "no value when ca.rootCert/ca.intermediates supply an existing CA");
        }
    }
    const rootCert = readString(problems, "ca.rootCert", section.rootCert, "a PEM certificate (the mesh's root CA)", (s) => PEM_CERT.test(s));
    const intermediatesRaw = section.intermediates;
    const names = clusters?.map((c) => c.name) ?? [];
    if (!isObject(intermediatesRaw)) {
        problems.add("ca.intermediates", intermediatesRaw, `an object with one {cert, key} entry per cluster (${names.join(", ")})`);
        return undefined;
    }
    const intermediates: Record<string, ProvidedIntermediate> = {};
    for (const name of names) {
        if (intermediatesRaw[name] === undefined) {
            problems.add(`ca.intermediates.${name}`, undefined, `the {cert, key} of cluster ${name}'s intermediate CA`);
        }
    }
    for (const [name, entry] of Object.entries(intermediatesRaw)) {
        const key = `ca.intermediates.${name}`;
        if (clusters !== undefined && !names.includes(name)) {
            problems.add(key, "{...}", `an entry only for a configured cluster (${names.join(", ")})`);
            continue;
        }
        const e = readSection(problems, key, entry, ["cert", "key"]);
        const cert = readString(problems, `${key}.cert`, e.cert, "a PEM certificate signed by ca.rootCert", (s) => PEM_CERT.test(s));
        const privateKey = readString(problems, `${key}.key`, e.key, "a PEM private key", (s) => PEM_KEY.test(s));
        if (cert !== undefined && privateKey !== undefined) {
            intermediates[name] = { cert, key: privateKey };
        }
    }
    return rootCert === undefined ? undefined : { type: "provided", rootCert, intermediates };
}

function readImages(problems: Problems, value: unknown): ImagesConfig {
    const section = readSection(problems, "images", value, ["istioHub", "helloworldV1", "helloworldV2", "curl"]);
    const image = (key: keyof ImagesConfig) =>
        readOptionalString(problems, `images.${key}`, section[key], "a container image reference without spaces", (s) => /^[^\s]+$/.test(s));
    return {
        istioHub: image("istioHub"),
        helloworldV1: image("helloworldV1") ?? DEFAULT_IMAGES.helloworldV1,
        helloworldV2: image("helloworldV2") ?? DEFAULT_IMAGES.helloworldV2,
        curl: image("curl") ?? DEFAULT_IMAGES.curl,
    };
}

function lookup(obj: RawObject, dottedPath: string): unknown {
    return dottedPath.split(".").reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), obj);
}
