import { mustKubectl, mustRun } from "./kube";

/**
 * What a kubelet and a load-balancer controller would write into an API server, without running any
 * container — the way kubemark's hollow nodes stand in for real ones: a Ready Node, each Pending pod
 * bound to it and reported Running and Ready with an IP, and an ingress address on each LoadBalancer
 * Service. Everything else stays real: the Deployments and ReplicaSets make the pods (through
 * istiod's real injection webhook), the controller manager derives EndpointSlices from the pod
 * status, and istiod reads those as it reads any cluster's.
 */
export class HollowKubelet {
    private readonly assigned = new Map<string, string>();

    constructor(
        protected readonly kubeconfig: string,
        readonly nodeName: string,
        protected readonly nodeIp: string,
        /** The IP of a pod, by `<namespace>/<name>`; the harness picks them from a range it owns. */
        private readonly podIp: (namespace: string, name: string, index: number) => string,
    ) {}

    registerNode(): void {
        this.apply({ apiVersion: "v1", kind: "Node", metadata: { name: this.nodeName, labels: { "kubernetes.io/hostname": this.nodeName } } });
        this.patchStatus(["node", this.nodeName], {
            status: {
                conditions: [{ type: "Ready", status: "True", reason: "HollowKubeletReady", lastHeartbeatTime: now(), lastTransitionTime: now() }],
                addresses: [{ type: "InternalIP", address: this.nodeIp }, { type: "Hostname", address: this.nodeName }],
                capacity: { cpu: "8", memory: "32Gi", pods: "110" },
                allocatable: { cpu: "8", memory: "32Gi", pods: "110" },
            },
        });
    }

    /** Removes the node, as a kubelet that leaves the cluster would be removed. */
    deregisterNode(): void {
        mustKubectl(this.kubeconfig, ["delete", "node", this.nodeName, "--ignore-not-found"]);
    }

    /**
     * Binds every unscheduled pod (that `which` selects) to the node and reports it running, and ready
     * unless `ready` is false (then whoever runs it reports when it is); returns the pods it started.
     */
    startPendingPods(which: (pod: any) => boolean = () => true, ready = true): string[] {
        const pods = JSON.parse(mustKubectl(this.kubeconfig, ["get", "pods", "--all-namespaces", "-o", "json"])).items;
        const started: string[] = [];
        for (const pod of pods.filter((p: any) => !p.spec.nodeName && which(p))) {
            const { namespace, name } = pod.metadata;
            const key = `${namespace}/${name}`;
            const ip = this.assigned.get(key) ?? this.podIp(namespace, name, this.assigned.size);
            this.assigned.set(key, ip);
            this.apply({ apiVersion: "v1", kind: "Binding", metadata: { name, namespace }, target: { apiVersion: "v1", kind: "Node", name: this.nodeName } });
            const containers = runningContainers(pod, ready);
            const condition = (type: string) => ({ type, status: type === "PodScheduled" || type === "Initialized" || ready ? "True" : "False", lastTransitionTime: now() });
            this.patchStatus(["pod", name, "-n", namespace], {
                status: {
                    phase: "Running",
                    hostIP: this.nodeIp,
                    hostIPs: [{ ip: this.nodeIp }],
                    podIP: ip,
                    podIPs: [{ ip }],
                    startTime: now(),
                    conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(condition),
                    containerStatuses: containers,
                },
            });
            started.push(key);
        }
        return started;
    }

    /**
     * What a kubelet does once a deleted pod's containers have stopped: removes the pods of this node
     * that are being deleted (here at once, no container runs). Without it they stay Terminating, and
     * a deleted Deployment with them.
     */
    finishTerminatingPods(): void {
        const pods = JSON.parse(mustKubectl(this.kubeconfig, ["get", "pods", "--all-namespaces", "-o", "json"])).items;
        for (const pod of pods.filter((p: any) => p.spec.nodeName === this.nodeName && p.metadata.deletionTimestamp)) {
            mustKubectl(this.kubeconfig, ["delete", "pod", pod.metadata.name, "-n", pod.metadata.namespace, "--grace-period=0", "--force", "--ignore-not-found"]);
        }
    }

    /**
     * Gives each LoadBalancer Service without one the ingress address a cloud load balancer would
     * (`address`: one per cluster is enough here, where only the east-west gateway asks for one).
     */
    assignLoadBalancers(address: string): void {
        const services = JSON.parse(mustKubectl(this.kubeconfig, ["get", "services", "--all-namespaces", "-o", "json"])).items;
        for (const service of services.filter((s: any) => s.spec.type === "LoadBalancer" && !s.status?.loadBalancer?.ingress)) {
            const { namespace, name } = service.metadata;
            this.patchStatus(["service", name, "-n", namespace], { status: { loadBalancer: { ingress: [{ ip: address }] } } });
        }
    }

    protected apply(object: unknown): void {
        mustRun("kubectl", ["--kubeconfig", this.kubeconfig, "create", "-f", "-"], JSON.stringify(object));
    }

    protected patchStatus(target: string[], patch: unknown): void {
        mustKubectl(this.kubeconfig, ["patch", ...target, "--subresource=status", "--type=merge", "-p", JSON.stringify(patch)]);
    }
}

/** The status of each container of `pod`, running since now, ready or not. */
function runningContainers(pod: any, ready: boolean): unknown[] {
    return pod.spec.containers.map((c: any) => ({ name: c.name, image: c.image, imageID: "", ready, started: true, restartCount: 0, state: { running: { startedAt: now() } } }));
}

export function now(): string {
    return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
