// The API server's way into the test's "pod network", as Konnectivity is on clusters whose control
// plane cannot route to pods: an HTTP CONNECT proxy on a Unix socket, named in the API server's
// egress-selector config for the `cluster` egress (webhooks, and service and pod proxying).
//
// Pod IPs in this test come from 198.18.0.0/15 (reserved for benchmarking). Where the data-plane e2e
// made a pod IP an address of this host (its pod network, test/e2e/dataplane/podNetwork.ts), the
// proxy connects to it; otherwise the process standing for a pod listens on the same address moved
// into the loopback range (198.18.1.1 -> 127.18.1.1), and the proxy connects there. Either way
// nothing leaves the machine.
//
//   node pod-network-proxy.mjs <socket path>
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";

const socketPath = process.argv[2];
fs.rmSync(socketPath, { force: true });

/** Whether `ip` is an address of one of this host's interfaces. */
function isLocal(ip) {
    return Object.values(os.networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === ip));
}

/** Where to connect for pod IP `ip`, or undefined when `ip` is not a pod IP. */
function targetFor(ip) {
    const octets = ip.split(".").map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
    if (octets[0] !== 198 || (octets[1] !== 18 && octets[1] !== 19)) return undefined;
    return isLocal(ip) ? ip : ["127", ...octets.slice(1)].join(".");
}

const server = net.createServer((client) => {
    client.once("data", (head) => {
        const request = head.toString("latin1");
        const match = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(request);
        const target = match && targetFor(match[1]);
        if (!target || !request.includes("\r\n\r\n")) {
            client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
            return;
        }
        const upstream = net.connect(Number(match[2]), target, () => {
            client.write("HTTP/1.1 200 Connection established\r\n\r\n");
            upstream.pipe(client);
            client.pipe(upstream);
        });
        upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
        client.on("error", () => upstream.destroy());
    });
});
server.listen(socketPath);
for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
