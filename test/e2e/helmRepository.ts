/**
 * A Helm repository over HTTP on loopback: the directory `helm repo index` made, served file by file
 * as any static chart repository (Istio's own is a storage bucket) serves it. Requests are counted, so
 * a test can tell that the charts really came from it.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";

export interface HelmRepository {
    readonly url: string;
    /** The paths requested so far, in order. */
    readonly requested: readonly string[];
    close(): Promise<void>;
}

export async function serveHelmRepository(dir: string): Promise<HelmRepository> {
    const requested: string[] = [];
    const server = http.createServer((request, response) => {
        const name = decodeURIComponent(new URL(request.url ?? "/", "http://repository").pathname).replace(/^\/+/, "");
        requested.push(`/${name}`);
        const file = path.join(dir, name);
        if (request.method !== "GET" || name.includes("/") || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
            response.writeHead(404).end();
            return;
        }
        response.writeHead(200, { "content-type": name.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
        fs.createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        requested,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}
