import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { getJson, mustKubectl } from "./kube";
import { resourceFieldValue } from "./resourceFields";

const ISTIO_NAMESPACE = "istio-system";

/**
 * istiod (`pilot-discovery`, built from the same Istio version as the charts) run as a local process
 * in place of the pod that the `istiod` Deployment would start, configured from that Deployment as
 * the kubelet would configure the pod:
 * - the container's args and env, with `fieldRef`/`resourceFieldRef` resolved as the kubelet does;
 * - each mounted Secret, ConfigMap, projected service-account token and emptyDir written under a
 *   private root directory at its mount path, and istiod started in that directory (istiod reads
 *   these at paths relative to its working directory, `./etc/cacerts` and so on, for exactly this);
 * - the pod's automounted service-account credentials (token, `ca.crt`, namespace), and a kubeconfig
 *   made of the same, so istiod talks to its API server with its own service account and RBAC, as it
 *   does in-cluster.
 * What differs from a pod: the process listens on one loopback address (`listenIp`), which the
 * control plane's pod-network proxy maps its pod IP to, instead of every address of a pod network
 * namespace; so two istiods fit on one host without moving ports.
 */
export class LocalIstiod {
    private process?: ChildProcess;
    /** The Secret volumes of the pod, which the kubelet keeps up to date with their Secrets. */
    private secretVolumes: { secretName: string; mountPath: string }[] = [];

    constructor(
        readonly cluster: string,
        private readonly adminKubeconfig: string,
        /** The pod IP the hollow kubelet reports for istiod's pod. */
        readonly podIp: string,
        /** The loopback address the process listens on, standing for `podIp`. */
        readonly listenIp: string,
        private readonly root: string,
        /** The istiod binary, or which one runs the Deployment's image (a version's own, when several run). */
        private readonly binary: string | ((image: string) => string),
        /** The Deployment the pod stands for: `istiod`, or `istiod-<revision>`. */
        readonly deployment = "istiod",
    ) {}

    /** istiod's HTTP debug endpoint (`/debug/...`, `/ready`). */
    get debugUrl(): string {
        return `http://${this.listenIp}:8080`;
    }

    get logFile(): string {
        return `${this.root}.log`;
    }

    start(): void {
        const deployment = getJson(this.adminKubeconfig, ["deployment", this.deployment, "-n", ISTIO_NAMESPACE]);
        const pod = deployment.spec.template.spec;
        const container = pod.containers.find((c: any) => c.name === "discovery");
        const podName = `${this.deployment}-local-${this.cluster}`;
        fs.rmSync(this.root, { recursive: true, force: true });
        fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
        this.secretVolumes = [];

        const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
        const token = this.createToken(pod.serviceAccountName);
        this.writeFile(path.join(serviceAccountDir, "token"), token);
        const caData = (yaml.load(fs.readFileSync(this.adminKubeconfig, "utf8")) as any).clusters[0].cluster;
        this.writeFile(path.join(serviceAccountDir, "ca.crt"), Buffer.from(caData["certificate-authority-data"], "base64").toString());
        this.writeFile(path.join(serviceAccountDir, "namespace"), ISTIO_NAMESPACE);
        for (const mount of container.volumeMounts ?? []) {
            this.materializeVolume(pod.volumes.find((v: any) => v.name === mount.name), mount.mountPath, pod.serviceAccountName);
        }
        const kubeconfig = path.join(this.root, "in-cluster.kubeconfig");
        fs.writeFileSync(
            kubeconfig,
            yaml.dump({
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: this.cluster, cluster: { server: caData.server, "certificate-authority-data": caData["certificate-authority-data"] } }],
                users: [{ name: pod.serviceAccountName, user: { tokenFile: path.join(this.root, serviceAccountDir, "token") } }],
                contexts: [{ name: this.cluster, context: { cluster: this.cluster, user: pod.serviceAccountName } }],
                "current-context": this.cluster,
            }),
            { mode: 0o600 },
        );

        const env: Record<string, string> = {};
        for (const variable of container.env ?? []) {
            env[variable.name] = this.resolveEnv(variable, { podName, serviceAccount: pod.serviceAccountName, container });
        }
        const listen = (port: number) => `${this.listenIp}:${port}`;
        const args = [
            // The Deployment's own args, except the listen address it moves below.
            ...container.args.filter((a: string) => !a.startsWith("--monitoringAddr")),
            "--kubeconfig", kubeconfig,
            "--httpAddr", listen(8080),
            "--httpsAddr", listen(15017),
            "--grpcAddr", listen(15010),
            "--secureGRPCAddr", listen(15012),
            "--monitoringAddr", listen(15014),
            "--ctrlz_address", this.listenIp,
        ];
        const log = fs.openSync(this.logFile, "w");
        // Only the pod's environment: nothing of the test's (KUBECONFIG, PULUMI_*) leaks in.
        const binary = typeof this.binary === "string" ? this.binary : this.binary(container.image);
        this.process = spawn(binary, args, { cwd: this.root, env: { ...env, PATH: process.env.PATH ?? "" }, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        fs.writeFileSync(`${this.root}.pid`, String(this.process.pid));
    }

    /** Resolves an env entry of the container as the kubelet would for a pod named `podName`. */
    private resolveEnv(variable: any, pod: { podName: string; serviceAccount: string; container: any }): string {
        if (variable.value !== undefined || !variable.valueFrom) {
            return variable.value ?? "";
        }
        const { fieldRef, resourceFieldRef } = variable.valueFrom;
        if (fieldRef) {
            const fields: Record<string, string> = {
                "metadata.name": pod.podName,
                "metadata.namespace": ISTIO_NAMESPACE,
                "spec.serviceAccountName": pod.serviceAccount,
                "status.podIP": this.podIp,
            };
            if (!(fieldRef.fieldPath in fields)) {
                throw new Error(`istiod env ${variable.name}: fieldRef ${fieldRef.fieldPath} is not handled by the harness`);
            }
            return fields[fieldRef.fieldPath];
        }
        const value = resourceFieldRef && resourceFieldValue(resourceFieldRef, pod.container);
        if (value !== undefined) {
            return value;
        }
        throw new Error(`istiod env ${variable.name}: ${JSON.stringify(variable.valueFrom)} is not handled by the harness`);
    }

    /** The process's ID while it runs: the same ID before and after something means it was not restarted. */
    get pid(): number | undefined {
        const child = this.process;
        return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    }

    /**
     * What the kubelet does for a running pod whose Secret changed (within its sync period; here at once):
     * writes the new files of each Secret volume and swaps them in, each by an atomic rename, as the
     * kubelet swaps its `..data` link. `only`: just these Secrets. Returns the Secrets whose files changed.
     */
    syncSecretVolumes(only?: readonly string[]): string[] {
        const changed: string[] = [];
        for (const { secretName, mountPath } of this.secretVolumes.filter((v) => only === undefined || only.includes(v.secretName))) {
            const secret = this.getOptional(["secret", secretName, "-n", ISTIO_NAMESPACE]);
            const files = Object.entries<string>(secret?.data ?? {})
                .map(([key, value]) => ({ file: path.join(this.root, mountPath, key), content: Buffer.from(value, "base64") }))
                .filter(({ file, content }) => !fs.existsSync(file) || !fs.readFileSync(file).equals(content));
            for (const { file, content } of files) {
                fs.writeFileSync(`${file}.new`, content, { mode: 0o600 });
            }
            for (const { file } of files) {
                fs.renameSync(`${file}.new`, file);
            }
            if (files.length > 0) {
                changed.push(secretName);
            }
        }
        return changed;
    }

    private materializeVolume(volume: any, mountPath: string, serviceAccount: string): void {
        if (volume.secret) {
            this.secretVolumes.push({ secretName: volume.secret.secretName, mountPath });
            const secret = this.getOptional(["secret", volume.secret.secretName, "-n", ISTIO_NAMESPACE]);
            for (const [key, value] of Object.entries<string>(secret?.data ?? {})) {
                this.writeFile(path.join(mountPath, key), Buffer.from(value, "base64"));
            }
        } else if (volume.configMap) {
            const configMap = this.getOptional(["configmap", volume.configMap.name, "-n", ISTIO_NAMESPACE]);
            for (const [key, value] of Object.entries<string>(configMap?.data ?? {})) {
                this.writeFile(path.join(mountPath, key), value);
            }
        } else if (volume.projected) {
            for (const source of volume.projected.sources) {
                if (source.serviceAccountToken) {
                    const { audience, path: file } = source.serviceAccountToken;
                    this.writeFile(path.join(mountPath, file), this.createToken(serviceAccount, audience));
                }
            }
        }
        fs.mkdirSync(path.join(this.root, mountPath), { recursive: true, mode: 0o700 });
    }

    private getOptional(args: string[]): any {
        try {
            return getJson(this.adminKubeconfig, args);
        } catch {
            return undefined; // the Deployment marks these volumes optional
        }
    }

    private createToken(serviceAccount: string, audience?: string): string {
        const args = ["create", "token", serviceAccount, "-n", ISTIO_NAMESPACE, "--duration", "2h"];
        return mustKubectl(this.adminKubeconfig, audience ? [...args, "--audience", audience] : args).trim();
    }

    private writeFile(mountRelative: string, content: string | Buffer): void {
        const file = path.join(this.root, mountRelative);
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(file, content, { mode: 0o600 });
    }

    /** GETs a debug endpoint of this istiod and parses its JSON. */
    async debug(endpoint: string): Promise<any> {
        const response = await fetch(`${this.debugUrl}/debug/${endpoint}`);
        if (!response.ok) {
            throw new Error(`${this.cluster} istiod /debug/${endpoint}: HTTP ${response.status}`);
        }
        return response.json();
    }

    /** Stops the process and removes its root (which holds the CA key and tokens). */
    async stop(): Promise<void> {
        const child = this.process;
        if (child && child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(timer);
        }
        this.process = undefined;
        fs.rmSync(this.root, { recursive: true, force: true });
        fs.rmSync(`${this.root}.pid`, { force: true });
    }
}
