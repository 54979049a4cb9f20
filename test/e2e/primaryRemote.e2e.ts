/**
 * A primary-remote mesh on two networks — cluster1 the primary, cluster2 its remote — with the real
 * program and engine against the two API servers run.sh started, and a real istiod for the primary
 * only (a remote has none). Steps run in order and share the stack.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { admin, apiServer, CLUSTERS, chartVersion, chartsDir, inHarness, projectDir, work } from "./e2eStack";
import { allObjects, getJson, isGone, waitFor } from "./kube";
import { HollowKubelet } from "./hollowKubelet";
import { LocalIstiod } from "./localIstiod";
import { logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";

const [PRIMARY, REMOTE] = CLUSTERS;
/** The primary's istiod pod IP; its process listens on the matching 127.18.2.1 (see LocalMesh). */
const PRIMARY_ISTIOD_IP = "198.18.2.1";
/** Where the remote's east-west gateway load balancer answers (nothing connects to it). */
const REMOTE_GATEWAY_IP = "198.18.21.2";

function primaryRemoteConfig(): Record<string, unknown> {
    return {
        meshId: "mesh1",
        clusters: [
            { name: PRIMARY, network: "network1", kubeconfig: admin(PRIMARY), apiServer: apiServer(PRIMARY) },
            { name: REMOTE, network: "network2", kubeconfig: admin(REMOTE), apiServer: apiServer(REMOTE), role: "remote", primary: PRIMARY },
        ],
        istio: { version: chartVersion, chartRepo: chartsDir },
        workloads: { awaitReady: false },
        verify: { enabled: false },
    };
}

const istioObjects = (cluster: string, resource: string) => getJson(admin(cluster), [resource, "-n", "istio-system"]).items.map((o: any) => o.metadata.name).sort();

describe("a primary-remote mesh on two networks", { concurrency: 1 }, () => {
    let project: ProjectStack;
    const beforeUp: Record<string, Set<string>> = {};
    const kubelets = {
        // The primary's gateway load balancer passes 15012 and 15017 through to istiod (expose-istiod):
        // here it is istiod's own pod address.
        [PRIMARY]: new HollowKubelet(admin(PRIMARY), `hollow-${PRIMARY}`, "198.18.0.1", (ns, name) => (ns === "istio-system" && name.startsWith("istiod-") ? PRIMARY_ISTIOD_IP : "198.18.12.1")),
        [REMOTE]: new HollowKubelet(admin(REMOTE), `hollow-${REMOTE}`, "198.18.0.2", () => "198.18.13.1"),
    };
    const istiod = new LocalIstiod(PRIMARY, admin(PRIMARY), PRIMARY_ISTIOD_IP, "127.18.2.1", path.join(work, `istiod-primary-${PRIMARY}`), "pilot-discovery");

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/run.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        project = await ProjectStack.create("primary-remote", projectDir);
        project.writeConfig(primaryRemoteConfig());
    });

    after(async () => {
        await istiod.stop();
        await project.stack.destroy().catch(() => undefined);
    });

    it("pulumi up succeeds while a load-balancer controller addresses the gateways, as a cloud's would", async () => {
        // The remote's istiod install needs the primary's gateway address, so the load balancers must
        // get theirs during the update.
        const addressing = setInterval(() => {
            kubelets[PRIMARY].assignLoadBalancers(PRIMARY_ISTIOD_IP);
            kubelets[REMOTE].assignLoadBalancers(REMOTE_GATEWAY_IP);
        }, 1000);
        try {
            const up = await project.stack.up();
            assert.equal(up.summary.result, "succeeded");
            assert.equal(up.outputs.topology.value, "primary-remote-multi-network");
        } finally {
            clearInterval(addressing);
        }
    });

    it("installs istiod in the primary only and points the remote at the primary's gateway", () => {
        assert.ok(istioObjects(PRIMARY, "deployments").includes("istiod"));
        assert.ok(!istioObjects(REMOTE, "deployments").includes("istiod"), "the remote runs an istiod of its own");
        assert.deepEqual(istioObjects(PRIMARY, "gateways.networking.istio.io"), ["cross-network-gateway", "istiod-gateway"]);
        assert.deepEqual(istioObjects(PRIMARY, "virtualservices.networking.istio.io"), ["istiod-vs"]);

        const remoteNamespace = getJson(admin(REMOTE), ["namespace", "istio-system"]).metadata;
        assert.equal(remoteNamespace.annotations["topology.istio.io/controlPlaneClusters"], PRIMARY);
        assert.equal(remoteNamespace.labels["topology.istio.io/network"], "network2");
        // The remote's injector calls its `istiod` Service, whose endpoint is the primary's gateway address,
        // on a path that names the remote's cluster and network for the primary's injector.
        const injectors = getJson(admin(REMOTE), ["mutatingwebhookconfigurations"]).items.flatMap((w: any) => w.webhooks);
        assert.ok(injectors.length > 0, "the remote has no injection webhook");
        for (const webhook of injectors) {
            assert.deepEqual(webhook.clientConfig.service, { name: "istiod", namespace: "istio-system", path: `/inject/cluster/${REMOTE}/net/network2`, port: 443 });
        }
        const istiodEndpoints = JSON.stringify(getJson(admin(REMOTE), ["endpointslices.discovery.k8s.io", "-n", "istio-system", "-l", "kubernetes.io/service-name=istiod"]).items);
        assert.ok(istiodEndpoints.includes(PRIMARY_ISTIOD_IP), `the remote's istiod Service does not lead to the primary's gateway: ${istiodEndpoints.slice(0, 500)}`);
    });

    it("stores exactly one remote secret: the primary's, for the remote", () => {
        const remoteSecrets = (cluster: string) => getJson(admin(cluster), ["secrets", "-n", "istio-system", "-l", "istio/multiCluster=true"]).items.map((s: any) => s.metadata.name);
        assert.deepEqual(remoteSecrets(PRIMARY), [`istio-remote-secret-${REMOTE}`]);
        assert.deepEqual(remoteSecrets(REMOTE), []);
    });

    it("the primary's istiod reads the remote through its secret, reports it synced and holds its services", async () => {
        kubelets[PRIMARY].registerNode();
        kubelets[PRIMARY].startPendingPods();
        istiod.start();
        await waitFor(`${PRIMARY} istiod ready`, 60, async () => (await fetch(`${istiod.debugUrl}/ready`))?.ok, () => logTail(istiod));
        await waitFor(`${PRIMARY} sees ${REMOTE} synced`, 60, async () => {
            const clusters: any[] = await istiod.debug("clusterz");
            return clusters.some((c) => c.id === REMOTE && c.syncStatus === "synced");
        }, () => logTail(istiod));
        const remoteHelloworld = getJson(admin(REMOTE), ["service", "helloworld", "-n", "sample"]).spec.clusterIP;
        await waitFor(`${PRIMARY} holds ${REMOTE}'s helloworld service`, 60, async () => {
            const services: any[] = await istiod.debug("registryz");
            const helloworld = services.find((s) => s.hostname === "helloworld.sample.svc.cluster.local");
            return JSON.stringify(helloworld?.clusterVIPs ?? helloworld ?? {}).includes(remoteHelloworld);
        }, () => logTail(istiod));
    });

    it("previews no changes while the primary's istiod runs", async () => {
        const preview = await project.stack.preview({ expectNoChanges: true, diff: true });
        // Reading the primary's gateway Service (for its address) is part of every preview, not a change.
        assert.equal(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read").length, 0, JSON.stringify(preview.changeSummary));
    });

    it("pulumi destroy deletes the remote's istiod objects before its primary's exposure, and leaves nothing behind", async () => {
        await istiod.stop();
        kubelets[PRIMARY].deregisterNode();
        // In the engine's order: when each delete of the remote's istiod objects ended, and each of the exposure's began.
        const deletes: { readonly urn: string; readonly phase: "start" | "end" }[] = [];
        await project.stack.destroy({
            onEvent: (event) => {
                if (event.resourcePreEvent?.metadata.op === "delete") {
                    deletes.push({ urn: event.resourcePreEvent.metadata.urn, phase: "start" });
                } else if (event.resOutputsEvent?.metadata.op === "delete") {
                    deletes.push({ urn: event.resOutputsEvent.metadata.urn, phase: "end" });
                }
            },
        });
        const remoteIstiod = deletes.flatMap((d, i) => (d.phase === "end" && d.urn.includes(`::${REMOTE}-istiod:`) ? [i] : []));
        const exposure = deletes.flatMap((d, i) => (d.phase === "start" && new RegExp(`::${PRIMARY}-istiod-(gateway|vs)$`).test(d.urn) ? [i] : []));
        assert.ok(remoteIstiod.length > 0 && exposure.length === 2, JSON.stringify(deletes));
        assert.ok(Math.max(...remoteIstiod) < Math.min(...exposure), `the exposure was deleted before the remote's istiod objects: ${JSON.stringify(deletes)}`);
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o));
            // What istiod writes into the namespaces it manages, in every cluster it reads (docs/operations.md: Destroy).
            assert.deepEqual(left.filter((o) => !/^configmaps (default|kube-system)\/istio-ca-(root-cert|crl)$/.test(o)), [], `${cluster}: left behind`);
        }
    });
});
