import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as yaml from "js-yaml";

const pem = (file: string) => fs.readFileSync(`test/fixtures/tls/${file}`);

/**
 * Local HTTPS servers standing in for API servers, for what the program reads from the clusters before
 * it registers any resource. Close them all in the suite's `after`.
 */
export class FakeApiServers {
    private readonly servers: net.Server[] = [];

    /** Starts one that answers with `handler`; returns a kubeconfig (YAML) for it, with a token user. */
    async start(handler: http.RequestListener): Promise<string> {
        const server = https.createServer({ key: pem("server.key"), cert: pem("server.crt") }, handler);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        this.servers.push(server);
        const { port } = server.address() as net.AddressInfo;
        return yaml.dump({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": pem("ca.crt").toString("base64") } }],
            contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
            "current-context": "ctx",
            users: [{ name: "u", user: { token: "t" } }],
        });
    }

    closeAll(): Promise<unknown> {
        return Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
}
