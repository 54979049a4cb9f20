import * as os from "node:os";

/**
 * The value of a container's env `resourceFieldRef` (`limits.cpu`, `requests.memory`, ...), as the
 * kubelet gives it: the container's quantity, or without one the node's allocatable amount (here,
 * this host's); CPU rounded up to whole units of the divisor. Undefined for other resources.
 */
export function resourceFieldValue(ref: { resource: string; divisor?: string }, container: any): string | undefined {
    const [kind, resource] = ref.resource.split(".");
    const quantity = container.resources?.[kind === "limits" ? "limits" : "requests"]?.[resource];
    if (resource === "cpu") {
        return String(quantity ? Math.ceil(parseCpu(quantity) / parseCpu(ref.divisor ?? "1")) : os.cpus().length);
    }
    if (resource === "memory") {
        return String(quantity ? parseMemory(quantity) : os.totalmem());
    }
    return undefined;
}

function parseCpu(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

function parseMemory(quantity: string): number {
    const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
    const match = /^(\d+)([KMG]i?)?$/.exec(quantity);
    if (!match) {
        throw new Error(`memory quantity ${quantity} is not handled by the harness`);
    }
    return Number(match[1]) * (match[2] ? units[match[2]] : 1);
}
