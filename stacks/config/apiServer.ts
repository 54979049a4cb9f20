/** Where an existing cluster's API server is: its kubeconfig, and the address the other clusters use. */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";

/** The kubeconfig's YAML: `kubeconfig` itself when it is content, else the file it names (undefined if there is none). */
export function kubeconfigContent(kubeconfig: string): string | undefined {
    if (kubeconfig.includes("\n")) {
        return kubeconfig;
    }
    const file = kubeconfig.replace(/^~(?=\/)/, os.homedir());
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

export function isHttpsUrl(s: string): boolean {
    try {
        const url = new URL(s);
        return url.protocol === "https:" && url.hostname.length > 0;
    } catch {
        return false;
    }
}

export const API_SERVER_ALLOWED = 'an https URL that the other clusters can reach, e.g. "https://10.0.0.5:6443"';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Whether `url` names the host it is used on: 127.0.0.0/8, ::1 (also IPv4-mapped), `localhost` or a name under it. */
export function isLoopback(url: string): boolean {
    if (!URL.canParse(url)) {
        return false;
    }
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
    const family = net.isIP(host);
    return family === 0 ? host === "localhost" || host.endsWith(".localhost") : LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}
