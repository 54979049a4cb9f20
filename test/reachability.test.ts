import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { kubeconfigConnection } from "../components/kubeconfig";
import { probeApiServer } from "../stacks/apiServerProbe";
import { parseStackConfig, StackConfigInput } from "../stacks/config";
import { requireReachableClusters } from "../stacks/reachability";

const TLS = "test/fixtures/tls";
const pem = (file: string) => fs.readFileSync(`${TLS}/${file}`);
const b64 = (data: Buffer | string) => Buffer.from(data).toString("base64");
const TOKEN = "admin-token";
const VERSION = JSON.stringify({ major: "1", minor: "34", gitVersion: "v1.34.4" });
const TIMEOUT_MS = 300;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An API server's answer to GET /version: to the admin's token or client certificate, else 401. */
const kubeApiServer: Handler = (req, res) => {
    const tlsSocket = req.socket as import("node:tls").TLSSocket;
    const authenticated = req.headers.authorization === `Bearer ${TOKEN}` || tlsSocket.authorized;
    res.writeHead(authenticated ? 200 : 401, { "Content-Type": "application/json" }).end(authenticated ? VERSION : "{}");
};

const servers: net.Server[] = [];
after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

/** Starts `server` on a free loopback port and returns that port; it is closed after the tests. */
async function listen(server: net.Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
}

/** An HTTPS server with the fixture CA's server certificate, asking (not requiring) a client certificate. */
const httpsServer = (handler: Handler) =>
    listen(https.createServer({ key: pem("server.key"), cert: pem("server.crt"), ca: pem("ca.crt"), requestCert: true, rejectUnauthorized: false }, handler));

/** A port nothing listens on (any more). */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

interface KubeconfigOptions {
    readonly server: string;
    readonly cluster?: Record<string, unknown>;
    readonly user?: Record<string, unknown>;
}

/** A kubeconfig of one context; the cluster trusts the fixture CA unless `cluster` says otherwise. */
function kubeconfig({ server, cluster = { "certificate-authority-data": b64(pem("ca.crt")) }, user = { token: TOKEN } }: KubeconfigOptions): string {
    return yaml.dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server, ...cluster } }],
        contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
        "current-context": "ctx",
        users: [{ name: "u", user }],
    });
}

const probe = (options: KubeconfigOptions) => probeApiServer(kubeconfigConnection(kubeconfig(options)), TIMEOUT_MS);

describe("probing an API server with a kubeconfig's CA and credentials", () => {
    let port: number;
    before(async () => {
        port = await httpsServer(kubeApiServer);
    });

    it("succeeds with its bearer token", async () => {
        assert.equal(await probe({ server: `https://127.0.0.1:${port}` }), undefined);
    });

    it("succeeds with its client certificate, given as data or as files", async () => {
        const asData = { "client-certificate-data": b64(pem("client.crt")), "client-key-data": b64(pem("client.key")) };
        assert.equal(await probe({ server: `https://127.0.0.1:${port}`, user: asData }), undefined);
        const asFiles = { "client-certificate": `${TLS}/client.crt`, "client-key": `${TLS}/client.key` };
        assert.equal(await probe({ server: `https://localhost:${port}`, cluster: { "certificate-authority": `${TLS}/ca.crt` }, user: asFiles }), undefined);
    });

    it("reports credentials the API server refuses (401)", async () => {
        assert.equal(
            await probe({ server: `https://127.0.0.1:${port}`, user: { token: "revoked" } }),
            "401 Unauthorized: the API server does not accept the kubeconfig's credentials",
        );
    });

    it("takes a 401 as an answer when the credentials come from an exec plugin, which only the provider runs", async () => {
        const exec = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "gke-gcloud-auth-plugin" } };
        assert.equal(await probe({ server: `https://127.0.0.1:${port}`, user: exec }), undefined);
    });

    it("reports a server certificate that the kubeconfig's CA did not sign, unless told to skip verification", async () => {
        const otherCa = { "certificate-authority-data": b64(pem("other-ca.crt")) };
        assert.equal(
            await probe({ server: `https://127.0.0.1:${port}`, cluster: otherCa }),
            "TLS: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)",
        );
        assert.equal(
            await probe({ server: `https://127.0.0.1:${port}`, cluster: {} }),
            "TLS: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)",
            "without a CA of its own, the kubeconfig trusts the system's, which did not sign it either",
        );
        assert.equal(await probe({ server: `https://127.0.0.1:${port}`, cluster: { "insecure-skip-tls-verify": true } }), undefined);
    });

    it("asks below the server URL's path, as client-go does", async () => {
        const proxied = await httpsServer((req, res) => (req.url === "/k8s/clusters/c-1/version" ? kubeApiServer(req, res) : res.writeHead(404).end()));
        assert.equal(await probe({ server: `https://127.0.0.1:${proxied}/k8s/clusters/c-1` }), undefined);
        assert.equal(await probe({ server: `https://127.0.0.1:${proxied}` }), "HTTP 404 Not Found to GET /version");
    });
});

describe("probing an address where no API server answers", () => {
    it("reports a refused connection", async () => {
        assert.equal(await probe({ server: `https://127.0.0.1:${await closedPort()}` }), "connection refused (ECONNREFUSED)");
    });

    it("reports a server that accepts the connection and never answers, after the timeout", async () => {
        const silent = await listen(net.createServer(() => undefined));
        const started = Date.now();
        assert.equal(await probe({ server: `https://127.0.0.1:${silent}` }), `no answer within ${TIMEOUT_MS / 1000} s`);
        assert.ok(Date.now() - started < TIMEOUT_MS + 1000);
    });

    it("reports plain HTTP where the kubeconfig says https as a TLS failure", async () => {
        const plain = await listen(http.createServer(kubeApiServer));
        assert.equal(await probe({ server: `https://127.0.0.1:${plain}` }), "TLS: wrong version number (EPROTO)");
    });

    it("reports an HTTPS server that is not a Kubernetes API server", async () => {
        const web = await httpsServer((_, res) => res.writeHead(200, { "Content-Type": "text/html" }).end("<html></html>"));
        assert.equal(await probe({ server: `https://127.0.0.1:${web}` }), "the answer to GET /version has no Kubernetes version: not a Kubernetes API server");
        const failing = await httpsServer((_, res) => res.writeHead(500).end());
        assert.equal(await probe({ server: `https://127.0.0.1:${failing}` }), "HTTP 500 Internal Server Error to GET /version");
    });
});

describe("the clusters' reachability, checked before any resource is registered", () => {
    let reachable: string;
    before(async () => {
        reachable = `https://127.0.0.1:${await httpsServer(kubeApiServer)}`;
    });

    /** A mesh of clusters given by kubeconfig for `servers`, and a kind cluster; `apiServer` is what the other clusters use. */
    const meshOf = (servers: Record<string, string>, user?: Record<string, unknown>) => {
        const existing = Object.entries(servers).map(([name, server], i) => ({
            name,
            network: `net-${name}`,
            kubeconfig: kubeconfig({ server, user }),
            apiServer: `https://10.0.${i}.1:6443`,
        }));
        const raw: StackConfigInput = { meshId: "mesh1", clusters: [...existing, { name: "local", network: "net-local", kind: {} }] };
        return parseStackConfig(raw).config;
    };

    const stopsWith = async (promise: Promise<void>, message: string) => {
        await assert.rejects(promise, (err: Error) => {
            assert.ok(err instanceof pulumi.RunError, `expected a RunError, got ${err}`);
            assert.equal(err.stack, undefined);
            assert.equal(err.message, message);
            return true;
        });
    };

    it("passes when every cluster given by kubeconfig answers at the kubeconfig's server (not apiServer), skipping kind clusters", async () => {
        await requireReachableClusters(meshOf({ east: reachable, west: reachable }), TIMEOUT_MS);
    });

    it("names each cluster that does not answer, its address and why, in one message", async () => {
        const refused = `https://127.0.0.1:${await closedPort()}`;
        const silent = `https://127.0.0.1:${await listen(net.createServer(() => undefined))}`;
        const started = Date.now();
        await stopsWith(
            requireReachableClusters(meshOf({ east: silent, west: reachable, north: refused }), TIMEOUT_MS),
            "Cannot reach the API server of 2 clusters; stopped before changing anything:\n" +
                `  - east at ${silent}: no answer within ${TIMEOUT_MS / 1000} s\n` +
                `  - north at ${refused}: connection refused (ECONNREFUSED)`,
        );
        assert.ok(Date.now() - started < 2 * TIMEOUT_MS, "the clusters are probed in parallel");
    });

    it("names a cluster whose credentials are refused", async () => {
        await stopsWith(
            requireReachableClusters(meshOf({ east: reachable }, { token: "revoked" }), TIMEOUT_MS),
            "Cannot reach the API server of 1 cluster; stopped before changing anything:\n" +
                `  - east at ${reachable}: 401 Unauthorized: the API server does not accept the kubeconfig's credentials`,
        );
    });

    it("names a cluster whose kubeconfig names a file that cannot be read", async () => {
        const config = meshOf({ east: reachable }, { "client-certificate": "/no/such/client.crt", "client-key": "/no/such/client.key" });
        await stopsWith(
            requireReachableClusters(config, TIMEOUT_MS),
            "Cannot reach the API server of 1 cluster; stopped before changing anything:\n" +
                '  - east: cannot read the client certificate file "/no/such/client.crt" the kubeconfig names (ENOENT)',
        );
    });

    it("leaves a cluster reached through a proxy to the provider", async () => {
        const refused = `https://127.0.0.1:${await closedPort()}`;
        const saved = process.env.HTTPS_PROXY;
        process.env.HTTPS_PROXY = "http://proxy.example:3128";
        try {
            await requireReachableClusters(meshOf({ east: refused }), TIMEOUT_MS);
        } finally {
            if (saved === undefined) {
                delete process.env.HTTPS_PROXY;
            } else {
                process.env.HTTPS_PROXY = saved;
            }
        }
    });
});
