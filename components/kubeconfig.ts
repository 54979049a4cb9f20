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

interface KubeconfigDocument {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
}

/**
 * The API-server URL that a kubeconfig's context (or its current context) points at.
 * Throws an Error whose message says what is wrong, for the config validation to report.
 */
export function kubeconfigServer(content: string, context?: string): string {
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
    const server = doc.clusters?.find((c) => c.name === ctx.context?.cluster)?.cluster?.server;
    if (server === undefined) {
        throw new Error(`context ${JSON.stringify(wanted)} names cluster ${JSON.stringify(ctx.context?.cluster)}, which has no server`);
    }
    return server;
}
