import { execFile } from "node:child_process";
import * as net from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One connection the gateway passed on: the port it came in on, the name the client asked for (SNI) and where it went. */
export interface Passed {
    readonly port: number;
    readonly sni: string;
    /** `<service>:<port>` of the route's destination, then the endpoint it reached. */
    readonly destination: string;
    readonly endpoint: string;
}

/**
 * What the primary's east-west gateway does for istiod's exposure (`istiod-gateway` and `istiod-vs`,
 * TLS passthrough), standing in for its Envoy: it listens on the gateway's load-balancer address (moved
 * into loopback as every pod address of the harness, 198.18.x.y -> 127.18.x.y), reads the server name
 * of each TLS ClientHello without terminating TLS, picks the route of the primary's `istiod-vs` whose
 * port and `sniHosts` match (as the program wrote it, read from the API server at each connection),
 * and passes the bytes to a ready endpoint of the route's destination Service on its target port
 * (the Service and EndpointSlices the primary's API server holds). A connection no route matches is
 * closed, as Envoy's passthrough listener closes it.
 */
export class SniGateway {
    readonly passed: Passed[] = [];
    readonly refused: string[] = [];
    private readonly servers: net.Server[] = [];
    private readonly sockets = new Set<net.Socket>();

    constructor(
        /** The primary's admin kubeconfig. */
        private readonly kubeconfig: string,
        /** The load-balancer address (198.18.x.y). */
        readonly address: string,
        private readonly ports: readonly number[] = [15012, 15017],
    ) {}

    async start(): Promise<void> {
        const listenIp = loopbackOf(this.address);
        for (const port of this.ports) {
            const server = net.createServer((client) => this.accept(client, port));
            await new Promise<void>((resolve, reject) => {
                server.once("error", reject);
                server.listen(port, listenIp, () => resolve());
            });
            this.servers.push(server);
        }
    }

    /** Stops listening and cuts the connections still open, as a gateway that goes away does. */
    async stop(): Promise<void> {
        const closed = this.servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve)));
        for (const socket of this.sockets) {
            socket.destroy();
        }
        await Promise.all(closed);
    }

    private accept(client: net.Socket, port: number): void {
        let head = Buffer.alloc(0);
        this.sockets.add(client);
        client.on("close", () => this.sockets.delete(client));
        client.on("error", () => client.destroy());
        const onData = async (chunk: Buffer) => {
            head = Buffer.concat([head, chunk]);
            const sni = serverName(head);
            if (sni === undefined) {
                return; // the ClientHello is not complete yet
            }
            client.off("data", onData);
            client.pause();
            try {
                const { destination, endpoint } = await this.route(port, sni);
                const upstream = net.connect(endpoint.port, loopbackOf(endpoint.ip), () => {
                    this.passed.push({ port, sni, destination, endpoint: `${endpoint.ip}:${endpoint.port}` });
                    upstream.write(head);
                    upstream.pipe(client);
                    client.pipe(upstream);
                    client.resume();
                });
                // The upstream closed closes the client once what it sent is written (paused, the client would never read its peer's end).
                upstream.on("error", () => client.destroy());
                upstream.on("close", () => client.end(() => client.destroy()));
                client.on("close", () => upstream.destroy());
            } catch (err) {
                this.refused.push(`${port} ${sni || "(no SNI)"}: ${(err as Error).message}`);
                client.destroy();
            }
        };
        client.on("data", onData);
    }

    /** The route of `istiod-vs` for a connection on `port` asking for `sni`, and a ready endpoint of its destination. */
    private async route(port: number, sni: string): Promise<{ destination: string; endpoint: { ip: string; port: number } }> {
        const vs = await this.get(["virtualservice.networking.istio.io", "istiod-vs", "-n", "istio-system"]);
        const route = (vs.spec.tls ?? []).find((r: any) =>
            (r.match ?? []).some((m: any) => (m.port === undefined || m.port === port) && (m.sniHosts ?? []).some((h: string) => h === "*" || h === sni)),
        );
        if (route === undefined) {
            throw new Error("no route of istiod-vs matches");
        }
        const { host, port: destinationPort } = route.route[0].destination;
        const [service, namespace] = host.split(".");
        const svc = await this.get(["service", service, "-n", namespace]);
        const servicePort = svc.spec.ports.find((p: any) => p.port === destinationPort.number);
        if (servicePort === undefined) {
            throw new Error(`${service} has no port ${destinationPort.number}`);
        }
        const slices = (await this.get(["endpointslices.discovery.k8s.io", "-n", namespace, "-l", `kubernetes.io/service-name=${service}`])).items;
        for (const slice of slices) {
            const slicePort = (slice.ports ?? []).find((p: any) => p.name === servicePort.name);
            const ready = (slice.endpoints ?? []).find((e: any) => e.conditions?.ready !== false);
            if (slicePort && ready) {
                return { destination: `${service}:${destinationPort.number}`, endpoint: { ip: ready.addresses[0], port: slicePort.port } };
            }
        }
        throw new Error(`${service} has no ready endpoint`);
    }

    private async get(args: string[]): Promise<any> {
        const { stdout } = await run("kubectl", ["--kubeconfig", this.kubeconfig, "get", ...args, "-o", "json"], { maxBuffer: 16 * 1024 * 1024 });
        return JSON.parse(stdout);
    }
}

/** Where the harness's process for a pod or load-balancer address listens (see pod-network-proxy.mjs). */
function loopbackOf(ip: string): string {
    return ip.replace(/^198\./, "127.");
}

/**
 * The server name (SNI) of the TLS ClientHello at the start of `data`: undefined while the record is
 * incomplete, "" when it is complete and names none (or is no ClientHello).
 */
export function serverName(data: Buffer): string | undefined {
    if (data.length < 5) {
        return undefined;
    }
    if (data[0] !== 0x16) {
        return ""; // not a TLS handshake
    }
    const recordEnd = 5 + data.readUInt16BE(3);
    if (data.length < recordEnd) {
        return undefined;
    }
    const hello = data.subarray(5, recordEnd);
    if (hello[0] !== 0x01) {
        return "";
    }
    // type (1), length (3), client version (2), random (32)
    let at = 38;
    at += 1 + hello[at]; // session id
    at += 2 + hello.readUInt16BE(at); // cipher suites
    at += 1 + hello[at]; // compression methods
    if (at + 2 > hello.length) {
        return "";
    }
    const extensionsEnd = at + 2 + hello.readUInt16BE(at);
    at += 2;
    while (at + 4 <= extensionsEnd) {
        const type = hello.readUInt16BE(at);
        const length = hello.readUInt16BE(at + 2);
        if (type === 0x0000) {
            // server_name: list length (2), then entries of type (1), length (2), name
            let entry = at + 6;
            const listEnd = entry + hello.readUInt16BE(at + 4);
            while (entry + 3 <= listEnd) {
                const nameLength = hello.readUInt16BE(entry + 1);
                if (hello[entry] === 0) {
                    return hello.subarray(entry + 3, entry + 3 + nameLength).toString("ascii");
                }
                entry += 3 + nameLength;
            }
            return "";
        }
        at += 4 + length;
    }
    return "";
}
