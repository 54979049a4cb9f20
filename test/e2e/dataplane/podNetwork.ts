import { mustRun } from "../kube";

/**
 * The pod network of the data-plane e2e, made of network namespaces this test owns (nothing of it
 * reaches beyond this machine):
 *
 *   host ── <prefix>h ══ uplink ── router netns ── <prefix>p<N> ══ eth0 ── pod netns (one per pod)
 *
 * - Each pod gets a network namespace with its pod IP (and, for a load-balanced gateway pod, the
 *   Service's load-balancer address) on `eth0`, a veth whose other end sits in the router namespace,
 *   and a default route through it, as a CNI plugin of the routed kind (Calico) gives a pod.
 * - The router namespace forwards between pods (IP forwarding is on there only) and to the host for
 *   the addresses the host owns (the istiods' pod IPs, where the local istiods listen). It has no
 *   default route: a packet to any other address is dropped there.
 * - The host routes 198.19.0.0/16 (pod IPs and load-balancer addresses; the upper half of the range
 *   reserved for benchmarking, apart from the 198.18.0.0/16 of the e2e runs without a data plane)
 *   into the router namespace; it forwards nothing itself.
 * Cluster IPs are never routed: the sidecars' iptables rules (istio-iptables, run by each pod's
 * istio-init) redirect a connection to one into Envoy before it leaves the pod's namespace.
 */
export class PodNetwork {
    private readonly router: string;
    private readonly hostLink: string;
    private next = 0;

    /** `prefix`: short and unique per run (interface names are at most 15 characters). */
    constructor(private readonly prefix: string) {
        this.router = `${prefix}-router`;
        this.hostLink = `${prefix}h`;
    }

    /** Creates the router namespace and its link to the host, which owns `hostAddresses`. */
    create(hostAddresses: readonly string[]): void {
        this.destroy();
        ip("netns", "add", this.router);
        inNs(this.router, "ip", "link", "set", "lo", "up");
        inNs(this.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        ip("link", "add", this.hostLink, "type", "veth", "peer", "name", "uplink", "netns", this.router);
        for (const address of hostAddresses) {
            ip("addr", "add", `${address}/32`, "dev", this.hostLink);
        }
        ip("link", "set", this.hostLink, "up");
        ip("route", "add", "198.19.0.0/16", "dev", this.hostLink);
        inNs(this.router, "sysctl", "-q", "-w", "net.ipv4.conf.uplink.proxy_arp=1");
        inNs(this.router, "ip", "link", "set", "uplink", "up");
        for (const address of hostAddresses) {
            inNs(this.router, "ip", "route", "add", `${address}/32`, "dev", "uplink");
        }
    }

    /**
     * Makes two pod ranges separate networks: the router drops what one sends straight to the other, so
     * only the load-balancer addresses (the east-west gateways) connect them, as between two VPCs.
     */
    separate(rangeA: string, rangeB: string): void {
        for (const [from, to] of [[rangeA, rangeB], [rangeB, rangeA]]) {
            inNs(this.router, "iptables", "-A", "FORWARD", "-s", from, "-d", to, "-j", "DROP");
        }
    }

    /** A new namespace for one pod with `addresses` (the pod IP first); returns its name. */
    addPod(addresses: readonly string[]): string {
        const n = this.next++;
        const namespace = `${this.prefix}-pod${n}`;
        const routerEnd = `${this.prefix}p${n}`;
        ip("netns", "add", namespace);
        inNs(namespace, "ip", "link", "set", "lo", "up");
        ip("link", "add", routerEnd, "netns", this.router, "type", "veth", "peer", "name", "eth0", "netns", namespace);
        for (const address of addresses) {
            inNs(namespace, "ip", "addr", "add", `${address}/32`, "dev", "eth0");
        }
        inNs(namespace, "ip", "link", "set", "eth0", "up");
        inNs(namespace, "ip", "route", "add", "default", "dev", "eth0");
        inNs(this.router, "sysctl", "-q", "-w", `net.ipv4.conf.${routerEnd}.proxy_arp=1`);
        inNs(this.router, "ip", "link", "set", routerEnd, "up");
        for (const address of addresses) {
            inNs(this.router, "ip", "route", "add", `${address}/32`, "dev", routerEnd);
        }
        return namespace;
    }

    /** Removes a pod's namespace (its veth goes with it). */
    removePod(namespace: string): void {
        ipMaybe("netns", "del", namespace);
    }

    /** Removes every namespace and link of this prefix, whatever a failed run left. */
    destroy(): void {
        const namespaces = mustRun("ip", ["netns", "list"]).stdout.split("\n").map((line) => line.split(" ")[0]);
        for (const namespace of namespaces.filter((n) => n.startsWith(`${this.prefix}-`))) {
            ipMaybe("netns", "del", namespace);
        }
        ipMaybe("link", "del", this.hostLink);
    }
}

function ip(...args: string[]): void {
    mustRun("ip", args);
}

function ipMaybe(...args: string[]): void {
    try {
        mustRun("ip", args);
    } catch {
        // already gone
    }
}

function inNs(namespace: string, command: string, ...args: string[]): void {
    mustRun("ip", ["netns", "exec", namespace, command, ...args]);
}
