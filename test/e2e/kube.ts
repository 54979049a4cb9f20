import { spawnSync } from "node:child_process";

/** What a command printed and how it ended. */
export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function run(command: string, args: string[], input?: string): Run {
    const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, input });
    if (result.error) {
        throw result.error;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Fails with the command's own output when it did not succeed. */
export function mustRun(command: string, args: string[], input?: string): Run {
    const result = run(command, args, input);
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
}

/** kubectl against one of the test control planes, as its admin or with another kubeconfig. */
export function kubectl(kubeconfig: string, args: string[]): Run {
    return run("kubectl", ["--kubeconfig", kubeconfig, ...args]);
}

export function mustKubectl(kubeconfig: string, args: string[]): string {
    return mustRun("kubectl", ["--kubeconfig", kubeconfig, ...args]).stdout;
}

/** An object (or list) from the API server. */
export function getJson(kubeconfig: string, args: string[]): any {
    return JSON.parse(mustKubectl(kubeconfig, ["get", ...args, "-o", "json"]));
}

/** True when `kubectl get <args>` answers NotFound (and not, say, a Terminating namespace). */
export function isGone(kubeconfig: string, args: string[]): boolean {
    const result = kubectl(kubeconfig, ["get", ...args]);
    return result.status !== 0 && /NotFound|not found/.test(result.stderr);
}

/** Kinds whose objects come and go by themselves, whatever the program does. */
const TRANSIENT_KINDS = new Set(["events", "events.events.k8s.io"]);

/** An object as listed: the resource it was listed as, its kind and its metadata. */
export interface ListedObject {
    readonly resource: string;
    readonly kind: string;
    readonly metadata: any;
}

/** Every object the API server holds. */
export function everyObject(kubeconfig: string): ListedObject[] {
    const resources = mustKubectl(kubeconfig, ["api-resources", "--verbs=list", "-o", "name"])
        .split("\n")
        .filter((r) => r && !TRANSIENT_KINDS.has(r));
    return resources.flatMap((resource) => getJson(kubeconfig, [resource, "--all-namespaces"]).items.map((item: any) => ({ resource, kind: item.kind, metadata: item.metadata })));
}

/**
 * Every object the API server holds, as `<resource> <namespace>/<name>` lines: compared before
 * `pulumi up` and after `pulumi destroy`, what is new is what the run left behind.
 */
export function allObjects(kubeconfig: string): Set<string> {
    return new Set(everyObject(kubeconfig).map(({ resource, metadata }) => `${resource} ${metadata.namespace ?? ""}/${metadata.name}`));
}

/** Kinds named by what the API server picked at random: a Service's cluster IP allocation. */
const RANDOMLY_NAMED = new Set(["ipaddresses.networking.k8s.io"]);

/**
 * How many objects the API server holds under each `<resource> <namespace>/<name>`, where an object
 * whose name was generated counts under `<generateName>*` (one named at random, under `*`): two runs that made the same objects give
 * the same inventory, and a duplicate shows as a count of 2.
 */
export function inventory(objects: ListedObject[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { resource, metadata } of objects) {
        const key = `${resource} ${metadata.namespace ?? ""}/${metadata.generateName ? `${metadata.generateName}*` : RANDOMLY_NAMED.has(resource) ? "*" : metadata.name}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
}

/**
 * Polls `probe` once a second until it returns something truthy, and returns that; fails after
 * `seconds` naming `what` (with `context()` if given, for example a log tail).
 */
export async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined | Promise<T | undefined>, context?: () => string): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const value = await Promise.resolve(probe()).catch(() => undefined);
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${seconds} s waiting for ${what}${context ? `\n${context()}` : ""}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}
