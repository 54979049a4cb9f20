import * as fs from "fs";
import * as yaml from "js-yaml";

/** Everything a remote cluster's istiod needs to watch this cluster's API server as the Istio reader. */
export interface TokenKubeconfigArgs {
    /** Cluster, context and user name inside the kubeconfig: the cluster's mesh name. */
    readonly clusterName: string;
    readonly server: string;
    /** The API server's CA bundle, base64-encoded PEM (as in a token Secret's `ca.crt` data). */
    readonly certificateAuthorityData: string;
    readonly token: string;
}

/** The kubeconfig `istioctl create-remote-secret` would write, built without istioctl. */
export function buildTokenKubeconfig(args: TokenKubeconfigArgs): string {
    const name = args.clusterName;
    return yaml.dump(
        {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name, cluster: { server: args.server, "certificate-authority-data": args.certificateAuthorityData } }],
            contexts: [{ name, context: { cluster: name, user: name } }],
            "current-context": name,
            users: [{ name, user: { token: args.token } }],
        },
        { lineWidth: -1, noRefs: true },
    );
}

interface KubeconfigCluster {
    server?: string;
    "certificate-authority"?: string;
    "certificate-authority-data"?: string;
    "insecure-skip-tls-verify"?: boolean;
    "tls-server-name"?: string;
    "proxy-url"?: string;
}

interface KubeconfigUser {
    "client-certificate"?: string;
    "client-certificate-data"?: string;
    "client-key"?: string;
    "client-key-data"?: string;
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
    exec?: unknown;
    "auth-provider"?: unknown;
}

interface KubeconfigDocument {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
    clusters?: { name: string; cluster?: KubeconfigCluster }[];
    users?: { name: string; user?: KubeconfigUser }[];
}

/** The cluster (with its server) and user of a kubeconfig's context, or of its current context. */
function contextOf(content: string, context?: string): { cluster: KubeconfigCluster & { server: string }; user: KubeconfigUser } {
    let doc: KubeconfigDocument;
    try {
        doc = yaml.load(content) as KubeconfigDocument;
    } catch (err) {
        throw new Error(`not valid YAML (${(err as Error).message.split("\n")[0]})`);
    }
    const contexts = doc?.contexts ?? [];
    const wanted = context ?? doc?.["current-context"];
    const ctx = contexts.find((c) => c.name === wanted);
    if (ctx === undefined) {
        throw new Error(
            `has no context ${JSON.stringify(wanted ?? "")} (contexts: ${contexts.map((c) => c.name).join(", ") || "none"})`,
        );
    }
    const cluster = doc.clusters?.find((c) => c.name === ctx.context?.cluster)?.cluster;
    if (cluster?.server === undefined) {
        throw new Error(`context ${JSON.stringify(wanted)} names cluster ${JSON.stringify(ctx.context?.cluster)}, which has no server`);
    }
    // client-go connects without credentials when the context's user is missing.
    const user = doc.users?.find((u) => u.name === ctx.context?.user)?.user ?? {};
    return { cluster: { ...cluster, server: cluster.server }, user };
}

/**
 * The API-server URL that a kubeconfig's context (or its current context) points at.
 * Throws an Error whose message says what is wrong, for the config validation to report.
 */
export function kubeconfigServer(content: string, context?: string): string {
    return contextOf(content, context).cluster.server;
}

/** What a client needs to reach and authenticate to the API server of a kubeconfig's context. */
export interface ApiServerConnection {
    readonly server: string;
    /** PEM certificate authorities; absent, the system's (as client-go does). */
    readonly ca?: Buffer;
    readonly insecureSkipTlsVerify: boolean;
    readonly tlsServerName?: string;
    readonly proxyUrl?: string;
    readonly clientCertificate?: Buffer;
    readonly clientKey?: Buffer;
    /** The Authorization header of a bearer token or a user name and password. */
    readonly authorization?: string;
    /**
     * Whether the connection carries the kubeconfig's credentials: false when they come from an exec
     * plugin or an auth provider (cloud CLIs), which only the kubernetes provider runs.
     */
    readonly hasCredentials: boolean;
}

/**
 * How client-go would connect for a kubeconfig's context, from the data fields or the files the kubeconfig
 * names (a relative path is read from the working directory, as the kubernetes provider, which is
 * given the kubeconfig's content, reads it). Throws an Error naming a file that cannot be read.
 */
export function kubeconfigConnection(content: string, context?: string): ApiServerConnection {
    const { cluster, user } = contextOf(content, context);
    const bytes = (data: string | undefined, file: string | undefined, what: string): Buffer | undefined => {
        if (data !== undefined) {
            return Buffer.from(data, "base64");
        }
        if (file === undefined) {
            return undefined;
        }
        try {
            return fs.readFileSync(file);
        } catch (err) {
            throw new Error(`cannot read the ${what} file ${JSON.stringify(file)} the kubeconfig names (${(err as NodeJS.ErrnoException).code})`);
        }
    };
    const token = user.token ?? bytes(undefined, user.tokenFile, "token")?.toString("utf8").trim();
    const basic = user.username !== undefined ? Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64") : undefined;
    const clientCertificate = bytes(user["client-certificate-data"], user["client-certificate"], "client certificate");
    return {
        server: cluster.server,
        ca: bytes(cluster["certificate-authority-data"], cluster["certificate-authority"], "certificate authority"),
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
        tlsServerName: cluster["tls-server-name"],
        proxyUrl: cluster["proxy-url"],
        clientCertificate,
        clientKey: bytes(user["client-key-data"], user["client-key"], "client key"),
        authorization: token !== undefined ? `Bearer ${token}` : basic !== undefined ? `Basic ${basic}` : undefined,
        hasCredentials: token !== undefined || basic !== undefined || clientCertificate !== undefined,
    };
}
