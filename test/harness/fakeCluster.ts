import * as pulumi from "@pulumi/pulumi";

/**
 * What the providers would return for our resources, made up but shaped like the real thing: the
 * token controller's data in service-account-token Secrets, kind's kubeconfig and node address, PEM
 * blocks from the TLS provider, an installed gateway's Service as a read finds it,
 * and a finished Job's status.
 */

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** The cluster a provider reference (`urn:...::<cluster>-k8s[-served-by-<primary>]::<id>`) belongs to. */
export function clusterOfProvider(provider: string | undefined): string | undefined {
    return provider?.match(/::([^:]+?)-k8s(-served-by-[^:]+)?::/)?.[1];
}

/** When the fake tls provider's root and intermediates expire (years away, as the real ones are when new). */
export const FAKE_ROOT_NOT_AFTER = "2036-12-01T00:00:00Z";
export const FAKE_INTERMEDIATE_NOT_AFTER = "2027-12-01T00:00:00Z";
export const fakeToken = (cluster: string, secretName: string) => `token-of-${cluster}-${secretName}`;
export const fakeClusterCa = (cluster: string) => `-----BEGIN CERTIFICATE-----\nCA of ${cluster}\n-----END CERTIFICATE-----\n`;
export const fakeNodeAddress = (cluster: string) => `172.18.0.${cluster.length + cluster.charCodeAt(cluster.length - 1) % 50}`;
/** The address a cloud load balancer gives a cluster's LoadBalancer Services. */
export const fakeLoadBalancerAddress = (cluster: string) => `203.0.113.${cluster.length + cluster.charCodeAt(cluster.length - 1) % 50}`;

/** The `service` values of the gateway releases installed so far, by `<cluster>/<namespace>/<name>`. */
const gatewayServices = new Map<string, { type: string; externalIPs?: string[] }>();
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

export function fakeKubeconfig(cluster: string, server = "https://127.0.0.1:6443"): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: kind-${cluster}`,
        "  cluster:",
        `    server: ${server}`,
        "contexts:",
        `- name: kind-${cluster}`,
        "  context:",
        `    cluster: kind-${cluster}`,
        `    user: kind-${cluster}`,
        `current-context: kind-${cluster}`,
        "users:",
        `- name: kind-${cluster}`,
        "  user:",
        "    token: admin",
        "",
    ].join("\n");
}

/** The status of a Job whose pod succeeded, as the Job controller leaves it. */
export const FAKE_JOB_STATUS = {
    startTime: "2026-01-01T00:00:00Z",
    completionTime: "2026-01-01T00:00:20Z",
    succeeded: 1,
    conditions: [{ type: "Complete", status: "True" }],
};

export function fakeState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    const { type, name, inputs } = args;
    if (args.id && type === "kubernetes:core/v1:Service") {
        return readService(clusterOfProvider(args.provider)!, args.id);
    }
    switch (type) {
        case "kubernetes:core/v1:Secret": {
            if (inputs.type !== "kubernetes.io/service-account-token") {
                return {};
            }
            const cluster = clusterOfProvider(args.provider)!;
            return { data: { token: b64(fakeToken(cluster, inputs.metadata.name)), "ca.crt": b64(fakeClusterCa(cluster)) } };
        }
        case "command:local:Command": {
            // kind's: the cluster's kubeconfig, or its node's address.
            const cluster = inputs.environment.KIND_CLUSTER_NAME;
            return { stdout: name.endsWith("-kind") ? fakeKubeconfig(cluster) : fakeNodeAddress(cluster) };
        }
        case "kubernetes:batch/v1:Job":
            return { status: FAKE_JOB_STATUS };
        case "tls:index/privateKey:PrivateKey":
            return { privateKeyPem: pem("RSA PRIVATE KEY", name) };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: pem("CERTIFICATE REQUEST", name) };
        case "tls:index/selfSignedCert:SelfSignedCert":
            return { certPem: pem("CERTIFICATE", `${name} self-signed with ${inputs.privateKeyPem.split("\n")[1]}`), validityEndTime: FAKE_ROOT_NOT_AFTER };
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: pem("CERTIFICATE", `${name} issued by ${inputs.caCertPem.split("\n")[1]}`), validityEndTime: FAKE_INTERMEDIATE_NOT_AFTER };
        case "kubernetes:helm.sh/v4:Chart":
            if (inputs.values?.service) {
                gatewayServices.set(`${clusterOfProvider(args.provider)}/${inputs.namespace}/${inputs.name}`, inputs.values.service);
            }
            return {};
        default:
            return type.startsWith("kubernetes:") && inputs.metadata ? { metadata: { ...inputs.metadata, uid: `${name}-uid`, generation: 1 } } : {};
    }
}

/** A gateway Service as the cluster holds it once its chart is installed: its external IPs, or a load balancer's address. */
function readService(cluster: string, id: string): Record<string, unknown> {
    const service = gatewayServices.get(`${cluster}/${id}`);
    if (service === undefined) {
        throw new Error(`services "${id}" not found in ${cluster}`);
    }
    const [namespace, name] = id.split("/");
    return service.type === "LoadBalancer"
        ? { metadata: { name, namespace }, spec: { type: "LoadBalancer" }, status: { loadBalancer: { ingress: [{ ip: fakeLoadBalancerAddress(cluster) }] } } }
        : { metadata: { name, namespace }, spec: service, status: { loadBalancer: {} } };
}
