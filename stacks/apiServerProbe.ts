import * as http from "http";
import * as https from "https";
import * as tls from "tls";
import { ApiServerConnection } from "../components/kubeconfig";

/** Why a connection failed, by Node's error code; TLS failures are told apart by their own codes. */
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ENOTFOUND: "host name not found",
    EAI_AGAIN: "host name lookup failed",
    ETIMEDOUT: "connection timed out",
};
const TLS_FAILURE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|^EPROTO$/;

/** An API server's answer, or why there was none. */
export type ApiServerAnswer =
    | { readonly status: number; readonly statusMessage: string; readonly body: string }
    | { readonly failure: string };

/**
 * `GET <path>` (with its `?query`, if any) on the connection's API server with its certificate authorities and credentials, as
 * client-go would send it; gives up after `timeoutMs`.
 */
export function getFromApiServer(connection: ApiServerConnection, path: string, accept: string, timeoutMs: number): Promise<ApiServerAnswer> {
    const url = new URL(connection.server);
    // Below the server's own path, as client-go does (an API server behind a proxy path).
    const [pathname, query] = path.split("?");
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${pathname}`;
    url.search = query ?? "";
    return new Promise((resolve) => {
        const options: https.RequestOptions = {
            method: "GET",
            headers: { Accept: accept, ...(connection.authorization ? { Authorization: connection.authorization } : {}) },
            ca: connection.ca ?? systemCertificateAuthorities(),
            cert: connection.clientCertificate,
            key: connection.clientKey,
            rejectUnauthorized: !connection.insecureSkipTlsVerify,
            servername: connection.tlsServerName,
            agent: false,
        };
        const request = (url.protocol === "http:" ? http : https).request(url, options, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () => finish({ status: response.statusCode ?? 0, statusMessage: response.statusMessage ?? "", body }));
            response.on("error", (err) => finish({ failure: describeError(err) }));
        });
        const timer = setTimeout(() => {
            finish({ failure: `no answer within ${timeoutMs / 1000} s` });
            request.destroy();
        }, timeoutMs);
        let done = false;
        const finish = (answer: ApiServerAnswer) => {
            if (!done) {
                done = true;
                clearTimeout(timer);
                resolve(answer);
            }
        };
        request.on("error", (err) => finish({ failure: describeError(err) }));
        request.end();
    });
}

/**
 * Asks the API server for its version (`GET /version`, which any authenticated client, and on most
 * clusters an anonymous one, may read). Resolves undefined when a Kubernetes API server answers within
 * `timeoutMs`, else with why not: connection refused, no answer in time, a TLS failure, credentials
 * refused (401), another status. Without credentials of its own (an exec plugin's), a 401 still shows
 * the server answering.
 */
export async function probeApiServer(connection: ApiServerConnection, timeoutMs: number): Promise<string | undefined> {
    const answer = await getFromApiServer(connection, "/version", "application/json", timeoutMs);
    return "failure" in answer ? answer.failure : judge(answer.status, answer.statusMessage, answer.body, connection.hasCredentials);
}

/**
 * Without certificate authorities in the kubeconfig, client-go trusts the system's store (a company CA
 * installed there, say), where Node would trust only the CAs it bundles. `getCACertificates` came with
 * Node 22.15; before it, and with an empty store, Node's own stay.
 */
function systemCertificateAuthorities(): string[] | undefined {
    const system = tls.getCACertificates?.("system") ?? [];
    return system.length > 0 ? system : undefined;
}

/** What an answer says about the server: undefined when it is a Kubernetes API server that took the credentials. */
function judge(status: number, statusMessage: string, body: string, sentCredentials: boolean): string | undefined {
    if (status === 401) {
        return sentCredentials ? "401 Unauthorized: the API server does not accept the kubeconfig's credentials" : undefined;
    }
    if (status === 403) {
        return undefined; // authenticated (or anonymous) and answered; what the credentials may do shows per resource
    }
    if (status !== 200) {
        return `HTTP ${status} ${statusMessage} to GET /version`.trimEnd();
    }
    try {
        if (typeof JSON.parse(body)?.gitVersion === "string") {
            return undefined;
        }
    } catch {
        // not JSON: not an API server
    }
    return "the answer to GET /version has no Kubernetes version: not a Kubernetes API server";
}

function describeError(err: NodeJS.ErrnoException): string {
    const code = err.code ?? "";
    if (code in NETWORK_FAILURES) {
        return `${NETWORK_FAILURES[code]} (${code})`;
    }
    if (TLS_FAILURE.test(code)) {
        // OpenSSL's own errors (EPROTO) come as "write EPROTO <id>:error:<code>:SSL routines:<function>:<reason>:<source>".
        const reason = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.trim();
        return `TLS: ${reason} (${code})`;
    }
    return code ? `${err.message} (${code})` : err.message;
}
