import * as fs from "node:fs";
import * as path from "node:path";
import { HollowKubelet, now } from "../hollowKubelet";
import { getJson, kubectl, mustKubectl } from "../kube";
import { LocalIstiod } from "../localIstiod";
import { missingVolumeSources, PodFiles } from "./podFiles";
import { PodNetwork } from "./podNetwork";
import { RunningPod, Runtime } from "./runningPod";

/**
 * A kubelet whose pods run: each pod bound to its node gets a network namespace with its IP (and the
 * load-balancer address of a LoadBalancer Service that selects it, as the load balancer would deliver
 * there), a hosts file for the cluster's Service names, and its containers as processes (RunningPod);
 * its status (phase, container states, readiness from the containers' probes, termination messages)
 * is written back as a kubelet writes it, so the Deployment, ReplicaSet, Job and EndpointSlice
 * controllers act on real states. A pod being deleted is stopped and then removed.
 * istiod's pod runs as LocalIstiod (configured from its Deployment, listening at the pod IP), and is
 * Ready when istiod answers `/ready`. Each pass also gives LoadBalancer Services their address.
 */
export class Kubelet extends HollowKubelet {
    private readonly running = new Map<string, RunningPod>();
    private readonly failures = new Map<string, string>();
    private readonly reported = new Map<string, string>();
    private readonly starting = new Set<string>();
    private next = 0;
    private istiodPod?: string;

    constructor(
        kubeconfig: string,
        nodeName: string,
        nodeIp: string,
        private readonly podIpRange: string,
        private readonly network: PodNetwork,
        private readonly runtime: Runtime,
        private readonly work: string,
        private readonly istiod: LocalIstiod,
        private readonly loadBalancerAddress: string,
    ) {
        super(kubeconfig, nodeName, nodeIp, () => istiod.podIp);
    }

    /** One pass: addresses load balancers, binds and starts new pods, reports states, stops deleted pods. */
    async sync(): Promise<void> {
        this.assignLoadBalancers(this.loadBalancerAddress);
        const pods: any[] = getJson(this.kubeconfig, ["pods", "--all-namespaces"]).items;
        await this.syncIstiod(pods.filter(isIstiod));
        const live = new Set(pods.map((p) => p.metadata.uid));
        for (const [uid, pod] of this.running) {
            if (!live.has(uid)) {
                this.running.delete(uid);
                await pod.stop();
                this.network.removePod(pod.netns);
                this.removeHostsFile(pod.netns);
            }
        }
        for (const pod of pods) {
            if (isIstiod(pod) || (pod.spec.nodeName && pod.spec.nodeName !== this.nodeName)) {
                continue;
            }
            const uid = pod.metadata.uid;
            if (pod.metadata.deletionTimestamp) {
                await this.remove(pod);
            } else if (!pod.spec.nodeName) {
                this.apply({ apiVersion: "v1", kind: "Binding", metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace }, target: { apiVersion: "v1", kind: "Node", name: this.nodeName } });
            } else if (!this.running.has(uid) && !this.starting.has(uid) && !["Succeeded", "Failed"].includes(pod.status?.phase)) {
                if (missingVolumeSources(this.kubeconfig, pod).length === 0) {
                    this.launch(pod);
                }
            } else if (this.running.has(uid)) {
                await this.report(pod, this.running.get(uid)!);
            }
        }
    }

    /** The running pod named `<namespace>/<name prefix>`, once it is running. */
    find(namespace: string, prefix: string): RunningPod | undefined {
        return [...this.running.values()].find((p) => p.pod.metadata.namespace === namespace && p.pod.metadata.name.startsWith(prefix));
    }

    /** How many pods run here (istiod's included). */
    get runningPods(): number {
        return this.running.size + this.starting.size + (this.istiodPod ? 1 : 0);
    }

    /** Why pods failed to start (init containers, hooks), by `<namespace>/<name>`. */
    get startFailures(): ReadonlyMap<string, string> {
        return this.failures;
    }

    /**
     * istiod's pod: started as LocalIstiod once bound, Ready when istiod is, stopped when deleted. In a
     * rollout the Deployment's new pod comes beside the old one (its maxSurge); one istiod per cluster
     * runs here, the newest pod's, which is the one the rollout waits for. The old pod keeps the status
     * it had, as the pod that runs on in a cluster would, until the Deployment deletes it (or, rolled
     * back, runs it again).
     */
    private async syncIstiod(pods: any[]): Promise<void> {
        const pod = pods.filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp))[0];
        for (const gone of pods.filter((p) => p.metadata.deletionTimestamp)) {
            if (gone.metadata.uid === this.istiodPod) {
                await this.istiod.stop();
                this.istiodPod = undefined;
            }
            kubectl(this.kubeconfig, ["delete", "pod", gone.metadata.name, "-n", gone.metadata.namespace, "--grace-period=0", "--force", "--wait=false"]);
        }
        if (!pod) {
            return;
        }
        if (pod.metadata.uid !== this.istiodPod) {
            if (missingVolumeSources(this.kubeconfig, pod).length > 0) {
                return; // Pending until its ConfigMaps (the injector's templates) exist
            }
            if (this.istiodPod) {
                await this.istiod.stop();
            }
            // Not Ready until istiod answers: reported ready at once, a rollout would be complete before it ran.
            this.startPendingPods(isIstiod, false);
            this.istiod.start();
            this.istiodPod = pod.metadata.uid;
        }
        const ready = (await fetch(`${this.istiod.debugUrl}/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok ?? false;
        const containerStatuses: any[] = pod.status?.containerStatuses ?? [];
        if (pod.status?.conditions?.find((c: any) => c.type === "Ready")?.status !== (ready ? "True" : "False") || containerStatuses.some((c) => c.ready !== ready)) {
            const condition = (type: string, status: boolean) => ({ type, status: status ? "True" : "False", lastTransitionTime: now() });
            const conditions = [condition("PodScheduled", true), condition("Initialized", true), condition("ContainersReady", ready), condition("Ready", ready)];
            const containers = containerStatuses.length > 0 ? { containerStatuses: containerStatuses.map((c) => ({ ...c, ready })) } : {};
            this.patchStatus(["pod", pod.metadata.name, "-n", pod.metadata.namespace], { status: { conditions, ...containers } });
        }
    }

    async stopAll(): Promise<void> {
        if (this.istiodPod) {
            await this.istiod.stop();
            this.istiodPod = undefined;
        }
        for (const pod of this.running.values()) {
            await pod.stop();
            this.removeHostsFile(pod.netns);
        }
        this.running.clear();
    }

    private launch(pod: any): void {
        const uid = pod.metadata.uid;
        this.starting.add(uid);
        const podIp = `${this.podIpRange}.${++this.next}`;
        const services: any[] = getJson(this.kubeconfig, ["services", "--all-namespaces"]).items;
        const netns = this.network.addPod([podIp, ...loadBalancerAddresses(services, pod)]);
        this.writeHostsFile(netns, pod, podIp, services);
        const files = new PodFiles(this.kubeconfig, pod, path.join(this.work, "pods", `${this.nodeName}-${pod.metadata.name}`));
        const running = new RunningPod(pod, podIp, this.nodeIp, netns, files, this.runtime);
        this.patchStatus(["pod", pod.metadata.name, "-n", pod.metadata.namespace], {
            status: { phase: "Pending", hostIP: this.nodeIp, hostIPs: [{ ip: this.nodeIp }], podIP: podIp, podIPs: [{ ip: podIp }], startTime: now() },
        });
        running
            .start()
            .then(() => this.running.set(uid, running))
            .catch(async (error) => {
                this.failures.set(running.key, String(error?.message ?? error));
                await running.stop();
            })
            .finally(() => this.starting.delete(uid));
    }

    private async report(pod: any, running: RunningPod): Promise<void> {
        const states = await running.states();
        const finished = running.finished;
        const succeeded = finished && states.every((s) => s.exitCode === 0);
        const phase = finished && pod.spec.restartPolicy !== "Always" ? (succeeded ? "Succeeded" : "Failed") : "Running";
        const ready = states.every((s) => s.ready);
        const condition = (type: string, status: boolean) => ({ type, status: status ? "True" : "False" });
        const status = {
            phase,
            conditions: [condition("PodScheduled", true), condition("Initialized", true), condition("ContainersReady", ready), condition("Ready", ready)],
            containerStatuses: states.map((s) => ({
                name: s.name,
                image: s.image,
                imageID: "",
                ready: s.ready,
                started: s.running,
                restartCount: 0,
                state: s.running ? { running: { startedAt: pod.status?.startTime ?? now() } } : { terminated: { exitCode: s.exitCode, reason: s.exitCode === 0 ? "Completed" : "Error", message: s.message, finishedAt: now() } },
            })),
        };
        const digest = JSON.stringify(status);
        if (this.reported.get(pod.metadata.uid) !== digest) {
            this.reported.set(pod.metadata.uid, digest);
            this.patchStatus(["pod", pod.metadata.name, "-n", pod.metadata.namespace], { status });
        }
    }

    /** Stops a pod being deleted, then removes it, as the kubelet does once its containers are gone. */
    private async remove(pod: any): Promise<void> {
        const running = this.running.get(pod.metadata.uid);
        if (running) {
            this.running.delete(pod.metadata.uid);
            await running.stop();
            this.network.removePod(running.netns);
            this.removeHostsFile(running.netns);
        }
        kubectl(this.kubeconfig, ["delete", "pod", pod.metadata.name, "-n", pod.metadata.namespace, "--grace-period=0", "--force", "--wait=false"]);
    }

    /**
     * The pod's /etc/hosts (`ip netns exec` mounts /etc/netns/<namespace>/hosts over it), standing in
     * for cluster DNS: each Service's names at its cluster IP, which the sidecar's iptables rules send
     * into Envoy. istiod's Service names its endpoint instead: the proxy's own connection to istiod is
     * not captured, and no kube-proxy routes cluster IPs here.
     */
    private writeHostsFile(netns: string, pod: any, podIp: string, services: any[]): void {
        const lines = ["127.0.0.1 localhost", `${podIp} ${pod.metadata.name}`];
        for (const service of services) {
            const { name, namespace } = service.metadata;
            let address = service.spec.clusterIP;
            if (namespace === "istio-system" && name === "istiod") {
                const slices = JSON.parse(mustKubectl(this.kubeconfig, ["get", "endpointslices", "-n", namespace, "-l", `kubernetes.io/service-name=${name}`, "-o", "json"])).items;
                address = slices.flatMap((s: any) => s.endpoints ?? []).flatMap((e: any) => e.addresses)[0];
            }
            if (!address || address === "None") {
                continue;
            }
            const names = [`${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
            lines.push(`${address} ${names.join(" ")}${namespace === pod.metadata.namespace ? ` ${name}` : ""}`);
        }
        const dir = path.join("/etc/netns", netns);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "hosts"), `${lines.join("\n")}\n`);
        fs.writeFileSync(path.join(dir, "resolv.conf"), `search ${pod.metadata.namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\n`);
    }

    private removeHostsFile(netns: string): void {
        fs.rmSync(path.join("/etc/netns", netns), { recursive: true, force: true });
    }
}

function isIstiod(pod: any): boolean {
    return pod.metadata.namespace === "istio-system" && pod.metadata.name.startsWith("istiod-");
}

/** The ingress addresses of the LoadBalancer Services (of `services`) in the pod's namespace that select it. */
function loadBalancerAddresses(services: any[], pod: any): string[] {
    const labels = pod.metadata.labels ?? {};
    return services
        .filter((s) => s.metadata.namespace === pod.metadata.namespace && s.spec.type === "LoadBalancer" && s.spec.selector)
        .filter((s) => Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v))
        .flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip));
}
