import * as fs from "node:fs";
import * as path from "node:path";
import { getJson, mustKubectl } from "../kube";

/**
 * A pod's volumes as files under one root directory, at their mount paths, as the kubelet would mount
 * them: Secrets, ConfigMaps, projected service-account tokens (with their audience), the downward API
 * (labels, annotations), emptyDirs. Istio's binaries read every one of these at paths relative to
 * their working directory (`./var/run/secrets/tokens/istio-token`, `./etc/istio/pod/labels`, ...),
 * so a process started in the root finds them where a container would.
 */
export class PodFiles {
    constructor(
        private readonly kubeconfig: string,
        private readonly pod: any,
        readonly root: string,
    ) {}

    /** Writes every volume that any container of the pod mounts. */
    materialize(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
        fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
        const containers = [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers];
        for (const container of containers) {
            for (const mount of container.volumeMounts ?? []) {
                const volume = (this.pod.spec.volumes ?? []).find((v: any) => v.name === mount.name);
                this.materializeVolume(volume, mount.mountPath);
            }
        }
    }

    /** Makes every file readable by `uid` (the proxy's user), as a pod's fsGroup would. */
    chown(uid: number): void {
        const walk = (dir: string) => {
            fs.chownSync(dir, uid, uid);
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const file = path.join(dir, entry.name);
                entry.isDirectory() ? walk(file) : fs.chownSync(file, uid, uid);
            }
        };
        walk(this.root);
    }

    private materializeVolume(volume: any, mountPath: string): void {
        fs.mkdirSync(path.join(this.root, mountPath), { recursive: true, mode: 0o700 });
        if (!volume || volume.emptyDir) {
            return;
        }
        if (volume.secret) {
            this.writeData(mountPath, this.getOptional(["secret", volume.secret.secretName])?.data ?? {}, true);
        } else if (volume.configMap) {
            this.writeData(mountPath, this.getOptional(["configmap", volume.configMap.name])?.data ?? {}, false);
        } else if (volume.downwardAPI) {
            this.writeDownward(mountPath, volume.downwardAPI.items);
        } else if (volume.projected) {
            for (const source of volume.projected.sources) {
                if (source.serviceAccountToken) {
                    const { audience, path: file, expirationSeconds } = source.serviceAccountToken;
                    this.write(path.join(mountPath, file), this.createToken(audience, expirationSeconds));
                } else if (source.configMap) {
                    this.writeData(mountPath, this.getOptional(["configmap", source.configMap.name])?.data ?? {}, false, source.configMap.items);
                } else if (source.secret) {
                    this.writeData(mountPath, this.getOptional(["secret", source.secret.name])?.data ?? {}, true, source.secret.items);
                } else if (source.downwardAPI) {
                    this.writeDownward(mountPath, source.downwardAPI.items);
                }
            }
        } else {
            throw new Error(`pod ${this.pod.metadata.name}: volume ${volume.name} (${Object.keys(volume).join(",")}) is not handled by the harness`);
        }
    }

    private writeData(mountPath: string, data: Record<string, string>, base64: boolean, items?: { key: string; path: string }[]): void {
        for (const [key, value] of Object.entries(data)) {
            const target = items ? items.find((i) => i.key === key)?.path : key;
            if (target) {
                this.write(path.join(mountPath, target), base64 ? Buffer.from(value, "base64") : value);
            }
        }
    }

    private writeDownward(mountPath: string, items: any[]): void {
        for (const item of items ?? []) {
            const field = item.fieldRef?.fieldPath;
            const values: Record<string, Record<string, string> | string | undefined> = {
                "metadata.labels": this.pod.metadata.labels,
                "metadata.annotations": this.pod.metadata.annotations,
                "metadata.name": this.pod.metadata.name,
                "metadata.namespace": this.pod.metadata.namespace,
            };
            if (!(field in values)) {
                throw new Error(`pod ${this.pod.metadata.name}: downward API field ${field} is not handled by the harness`);
            }
            const value = values[field];
            // The kubelet's format for a map: one key="value" per line, values quoted as Go's %q.
            const text = typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") : (value ?? "");
            this.write(path.join(mountPath, item.path), text);
        }
    }

    private getOptional(args: string[]): any {
        try {
            return getJson(this.kubeconfig, [...args, "-n", this.pod.metadata.namespace]);
        } catch {
            return undefined; // optional volumes; a required one fails where it is read
        }
    }

    private createToken(audience?: string, expirationSeconds?: number): string {
        const args = ["create", "token", this.pod.spec.serviceAccountName ?? "default", "-n", this.pod.metadata.namespace];
        args.push("--bound-object-kind", "Pod", "--bound-object-name", this.pod.metadata.name, "--bound-object-uid", this.pod.metadata.uid);
        args.push("--duration", `${Math.max(expirationSeconds ?? 3600, 3600)}s`);
        return mustKubectl(this.kubeconfig, audience ? [...args, "--audience", audience] : args).trim();
    }

    private write(mountRelative: string, content: string | Buffer): void {
        const file = path.join(this.root, mountRelative);
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(file, content, { mode: 0o600 });
    }
}

/**
 * The Secrets and ConfigMaps that `pod`'s volumes need and the API server does not have yet: the
 * kubelet keeps a pod Pending until each volume that is not `optional` can be mounted.
 */
export function missingVolumeSources(kubeconfig: string, pod: any): string[] {
    const sources: { kind: string; name: string; optional?: boolean }[] = [];
    for (const volume of pod.spec.volumes ?? []) {
        if (volume.secret) {
            sources.push({ kind: "secret", name: volume.secret.secretName, optional: volume.secret.optional });
        } else if (volume.configMap) {
            sources.push({ kind: "configmap", name: volume.configMap.name, optional: volume.configMap.optional });
        }
        for (const source of volume.projected?.sources ?? []) {
            if (source.secret) {
                sources.push({ kind: "secret", name: source.secret.name, optional: source.secret.optional });
            } else if (source.configMap) {
                sources.push({ kind: "configmap", name: source.configMap.name, optional: source.configMap.optional });
            }
        }
    }
    const required = sources.filter((s) => !s.optional);
    if (required.length === 0) {
        return [];
    }
    const names = (kind: string) => new Set<string>(getJson(kubeconfig, [kind, "-n", pod.metadata.namespace]).items.map((o: any) => o.metadata.name));
    const present = { secret: names("secrets"), configmap: names("configmaps") } as Record<string, Set<string>>;
    return required.filter((s) => !present[s.kind].has(s.name)).map((s) => `${s.kind}/${s.name}`);
}
