/**
 * A primary-remote mesh on two networks (cluster1 the primary, cluster2 its remote) on two istiod
 * revisions of two Istio versions, r1 the older and r2 the newer (test/e2e/upgrade.sh): the remote
 * follows its primary's revisions and `default` tag. The primary's real istiod of each version; its
 * east-west gateway is a stand-in (SniGateway). Steps run in order and share a stack.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as tls from "node:tls";
import { promisify } from "node:util";
import { admin, apiServer, CLUSTERS, inHarness, projectDir, work } from "./e2eStack";
import { HelmRepository, serveHelmRepository } from "./helmRepository";
import { HollowKubelet } from "./hollowKubelet";
import { helmRepositoryDir, istiodOf, NEWER, OLDER, tagOf } from "./istioReleases";
import { allObjects, everyObject, getJson, isGone, ListedObject, mustKubectl, waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";
import { logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";
import { SniGateway } from "./sniGateway";

const [PRIMARY, REMOTE] = CLUSTERS;
const execFileAsync = promisify(execFile);
/** Where the remote's east-west gateway load balancer answers (nothing connects to it). */
const REMOTE_GATEWAY_IP = "198.18.21.2";

const REVISIONS = ["r1", "r2"] as const;
type RevisionName = (typeof REVISIONS)[number];
/** The release each revision runs: r1 the older, r2 the newer. */
const RELEASE: Record<RevisionName, string> = { r1: OLDER.version, r2: NEWER.version };
/** The pod IP of the primary's istiod of each revision; its process listens on the matching 127.18.6.x. */
const REVISION_ISTIOD_IP: Record<RevisionName, string> = { r1: "198.18.6.1", r2: "198.18.6.2" };
/** The primary's east-west gateway load balancer, where the gateway's stand-in (SniGateway) listens. */
const PRIMARY_GATEWAY_IP = "198.18.6.10";
/** What the remote's injection webhooks call: the injector of the primary's istiod, told the remote's cluster and network. */
const REMOTE_INJECTION_PATH = `/inject/cluster/${REMOTE}/net/network2`;

const istioObjects = (cluster: string, resource: string) => getJson(admin(cluster), [resource, "-n", "istio-system"]).items.map((o: any) => o.metadata.name).sort();

/** `primaryDefault`: the primary's own `clusters[].defaultRevision`, which its remote follows. */
function revisionConfig(chartRepo: string, revisions: readonly RevisionName[], defaultRevision: RevisionName, primaryDefault?: RevisionName): Record<string, unknown> {
    return {
        meshId: "mesh1",
        clusters: [
            { name: PRIMARY, network: "network1", kubeconfig: admin(PRIMARY), apiServer: apiServer(PRIMARY), ...(primaryDefault === undefined ? {} : { defaultRevision: primaryDefault }) },
            { name: REMOTE, network: "network2", kubeconfig: admin(REMOTE), apiServer: apiServer(REMOTE), role: "remote", primary: PRIMARY },
        ],
        istio: { upgradeStrategy: "RevisionBased", revisions: revisions.map((name) => ({ name, version: RELEASE[name] })), defaultRevision, chartRepo },
        workloads: { awaitReady: false },
        verify: { enabled: false },
    };
}

/** The changes of an update, without what stayed the same (and the read of the primary's gateway Service, part of every update). */
const changesOf = (summary: Record<string, number> = {}) => Object.fromEntries(Object.entries(summary).filter(([op]) => op !== "same" && op !== "read"));

/** Who injected a pod, and what its proxy was told: its cluster and network (from the injector's path), its istiod, and its release. */
function injectionOf(pod: any): { revision?: string; cluster?: string; network?: string; discoveryAddress?: string; proxy?: string } {
    const proxy = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c: any) => c.name === "istio-proxy");
    const env: Record<string, string> = Object.fromEntries((proxy?.env ?? []).map((e: any) => [e.name, e.value]));
    const status = pod.metadata.annotations?.["sidecar.istio.io/status"];
    return {
        revision: status === undefined ? undefined : JSON.parse(status).revision,
        cluster: env.ISTIO_META_CLUSTER_ID,
        network: env.ISTIO_META_NETWORK,
        discoveryAddress: env.PROXY_CONFIG === undefined ? undefined : JSON.parse(env.PROXY_CONFIG).discoveryAddress,
        proxy: proxy === undefined ? undefined : tagOf(proxy.image),
    };
}

/** What a proxy injected by `revision` in `cluster` must be told, and its revision's release. */
const injectedBy = (revision: RevisionName, cluster: string) => ({
    revision,
    cluster,
    network: cluster === PRIMARY ? "network1" : "network2",
    discoveryAddress: `istiod-${revision}.istio-system.svc:15012`,
    proxy: RELEASE[revision],
});

/**
 * A pod created in `namespace` of `cluster`, as the API server stored it after its admission webhooks,
 * then deleted (no kubelet runs it). Retried until admitted: istiod patches the remote's webhooks with
 * its CA bundle only once it reads the remote.
 */
async function admittedPod(cluster: string, namespace: string): Promise<any> {
    const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { generateName: "probe-", namespace, labels: { app: "probe" } },
        spec: { containers: [{ name: "probe", image: "docker.io/curlimages/curl:8.16.0", command: ["sleep", "infinity"] }] },
    };
    let refused = "";
    const file = path.join(work, `probe-${cluster}-${namespace}.json`);
    fs.writeFileSync(file, JSON.stringify(pod));
    // Not a synchronous kubectl: the gateway's stand-in, which the API server calls the webhook through, runs in this process.
    const created = await waitFor(`a pod admitted in ${cluster}'s ${namespace}`, 60, async () => {
        try {
            return JSON.parse((await execFileAsync("kubectl", ["--kubeconfig", admin(cluster), "create", "-o", "json", "-f", file])).stdout);
        } catch (err) {
            refused = (err as Error).message;
            return undefined;
        }
    }, () => refused);
    mustKubectl(admin(cluster), ["delete", "pod", created.metadata.name, "-n", namespace, "--wait=false"]);
    return created;
}

/** Every object of a cluster by `<resource> <namespace>/<name>`. */
const snapshot = (cluster: string) => new Map<string, ListedObject>(everyObject(admin(cluster)).map((o) => [`${o.resource} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));

/**
 * What istiod itself leaves of a revision, as after `helm uninstall` of its chart: the Leases of its
 * per-revision leader elections (released when it stops), which go with `istio-system`.
 */
const LEFT_BY_ISTIOD_OF = (revision: string) => new RegExp(`^leases\\.coordination\\.k8s\\.io istio-system/istio-gateway-(status-leader|deployment)-${revision}$`);

/** The Service each cluster IP was allocated for (its IPAddress object's parent), by IP. */
const servicesByIp = (cluster: string) =>
    new Map<string, string>(getJson(admin(cluster), ["ipaddresses.networking.k8s.io"]).items.map((ip: any) => [ip.metadata.name, ip.spec.parentRef?.name ?? ""]));

/**
 * An object of `revision`: named for it (`istiod-r1`, `istio-validator-r1-istio-system`, ...),
 * labelled with it (`istio.io/rev`), a pod it injected, or the cluster IP of a Service of it.
 */
function ofRevision({ resource, metadata }: ListedObject, revision: string, servicesOfIps: Map<string, string>): boolean {
    const status = metadata.annotations?.["sidecar.istio.io/status"];
    const named = (name: string) => new RegExp(`(^|[-.])${revision}([-.]|$)`).test(name);
    return (
        named(metadata.name) ||
        metadata.labels?.["istio.io/rev"] === revision ||
        (status !== undefined && JSON.parse(status).revision === revision) ||
        (resource === "ipaddresses.networking.k8s.io" && named(servicesOfIps.get(metadata.name) ?? ""))
    );
}

describe("a primary-remote mesh on two istiod revisions: the remote follows its primary's revisions and tag", { concurrency: 1 }, () => {
    let project: ProjectStack;
    let repository: HelmRepository;
    const beforeUp: Record<string, Set<string>> = {};
    const kubelets = {
        [PRIMARY]: new HollowKubelet(admin(PRIMARY), `hollow-${PRIMARY}`, "198.18.0.1", (ns, name) => {
            const revision = REVISIONS.find((r) => ns === "istio-system" && name.startsWith(`istiod-${r}-`));
            return revision === undefined ? "198.18.12.1" : REVISION_ISTIOD_IP[revision];
        }),
        [REMOTE]: new HollowKubelet(admin(REMOTE), `hollow-${REMOTE}`, "198.18.0.2", () => "198.18.13.1"),
    };
    const istiods = Object.fromEntries(
        REVISIONS.map((r) => {
            const ip = REVISION_ISTIOD_IP[r];
            return [r, new LocalIstiod(PRIMARY, admin(PRIMARY), ip, ip.replace(/^198\./, "127."), path.join(work, `istiod-${r}-${PRIMARY}`), istiodOf, `istiod-${r}`)];
        }),
    ) as Record<RevisionName, LocalIstiod>;
    // The primary's east-west gateway as it passes istiod through to the remote (istiod-gateway, istiod-vs).
    const gateway = new SniGateway(admin(PRIMARY), PRIMARY_GATEWAY_IP);
    const tagWebhook = (cluster: string) => getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]);

    async function up(revisions: readonly RevisionName[], defaultRevision: RevisionName, primaryDefault?: RevisionName) {
        project.writeConfig(revisionConfig(repository.url, revisions, defaultRevision, primaryDefault));
        const addressing = setInterval(() => {
            kubelets[PRIMARY].assignLoadBalancers(PRIMARY_GATEWAY_IP);
            kubelets[REMOTE].assignLoadBalancers(REMOTE_GATEWAY_IP);
        }, 1000);
        try {
            const result = await project.stack.up({ diff: true });
            assert.equal(result.summary.result, "succeeded");
            console.log(`# ${revisions.join(", ")} with the tag on ${primaryDefault ?? defaultRevision}: ${JSON.stringify(changesOf(result.summary.resourceChanges))}`);
            return result;
        } finally {
            clearInterval(addressing);
        }
    }

    /** The `default` tag in both clusters: on `revision`, its webhooks calling `istiod-<revision>` (the remote's on the remote's injection path). */
    function assertTagOn(revision: RevisionName): void {
        for (const cluster of CLUSTERS) {
            const tag = tagWebhook(cluster);
            assert.equal(tag.metadata.labels["istio.io/rev"], revision, `${cluster}: the tag's webhook`);
            for (const webhook of tag.webhooks) {
                assert.equal(webhook.clientConfig.service.name, `istiod-${revision}`, `${cluster}: ${webhook.name}`);
                if (cluster === REMOTE) {
                    assert.equal(webhook.clientConfig.service.path, REMOTE_INJECTION_PATH, `${cluster}: ${webhook.name}`);
                }
            }
            const validator = getJson(admin(cluster), ["validatingwebhookconfiguration", "istiod-default-validator"]);
            assert.ok(validator.webhooks.every((w: any) => w.clientConfig.service.name === `istiod-${revision}`), `${cluster}: base's validator`);
            const tagService = getJson(admin(cluster), ["service", "istiod-revision-tag-default", "-n", "istio-system"]);
            assert.equal(tagService.metadata.labels["istio.io/rev"], revision, `${cluster}: the tag's Service`);
        }
    }

    /**
     * Restarts the test app and the east-west gateway in both clusters, as `kubectl rollout restart`
     * would (their ReplicaSets deleted, the Deployments make new ones), and returns each cluster's new
     * pods once they are admitted; the primary's kubelet runs its pods, the remote's stay pending.
     */
    async function restartWorkloads(): Promise<Record<string, any[]>> {
        const pods: Record<string, any[]> = {};
        for (const cluster of CLUSTERS) {
            mustKubectl(admin(cluster), ["delete", "replicasets", "-n", "sample", "--all"]);
            mustKubectl(admin(cluster), ["delete", "replicasets", "-n", "istio-system", "-l", "app=istio-eastwestgateway"]);
        }
        for (const cluster of CLUSTERS) {
            pods[cluster] = await waitFor(`${cluster}: new pods of the test app and the gateway admitted`, 90, () => {
                if (cluster === PRIMARY) {
                    kubelets[PRIMARY].finishTerminatingPods();
                    kubelets[PRIMARY].startPendingPods((pod) => !pod.metadata.name.startsWith("istiod-"));
                }
                // Only the new pods: the old ones deleted, none still terminating.
                const found = [
                    ...getJson(admin(cluster), ["pods", "-n", "sample"]).items,
                    ...getJson(admin(cluster), ["pods", "-n", "istio-system", "-l", "app=istio-eastwestgateway"]).items,
                ];
                const apps = found.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.labels.app).sort();
                return found.length === 3 && JSON.stringify(apps) === JSON.stringify(["curl", "helloworld", "istio-eastwestgateway"]) ? found : undefined;
            }, () => `${gateway.refused.slice(-5).join("\n")}\n${logTail(istiods.r1)}`);
        }
        return pods;
    }

    before(async () => {
        assert.ok(inHarness() && OLDER.version && NEWER.version && helmRepositoryDir, "run this through test/e2e/upgrade.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        repository = await serveHelmRepository(helmRepositoryDir);
        project = await ProjectStack.create("primary-remote-revisions", projectDir);
    });

    after(async () => {
        await Promise.all(Object.values(istiods).map((istiod) => istiod.stop()));
        await gateway.stop();
        kubelets[PRIMARY].deregisterNode();
        await project.stack.destroy().catch(() => undefined);
        await repository?.close();
    });

    it(`pulumi up installs r1 (${OLDER.version}) and r2 (${NEWER.version}) in both clusters from the Helm repository, the tag on r1; each of the remote's injectors calls its revision's istiod on the remote's injection path, through the primary's gateway`, async () => {
        await up(REVISIONS, "r1");
        for (const release of [OLDER.version, NEWER.version]) {
            assert.ok(repository.requested.includes(`/istiod-${release}.tgz`), `istiod ${release} not fetched: ${repository.requested.join(" ")}`);
        }
        const deployments = (cluster: string) => istioObjects(cluster, "deployments").filter((d: string) => d.startsWith("istiod"));
        assert.deepEqual(deployments(PRIMARY), ["istiod-r1", "istiod-r2"]);
        assert.deepEqual(deployments(REMOTE), [], "the remote runs an istiod of its own");
        for (const revision of REVISIONS) {
            const injector = getJson(admin(REMOTE), ["mutatingwebhookconfiguration", `istio-sidecar-injector-${revision}`]);
            assert.equal(injector.metadata.labels["istio.io/rev"], revision);
            for (const webhook of injector.webhooks) {
                assert.deepEqual(webhook.clientConfig.service, { name: `istiod-${revision}`, namespace: "istio-system", path: REMOTE_INJECTION_PATH, port: 443 }, webhook.name);
            }
            // The remote's Service of that name leads to the primary's gateway, which routes it by name to the revision's istiod.
            const slices = JSON.stringify(getJson(admin(REMOTE), ["endpointslices.discovery.k8s.io", "-n", "istio-system", "-l", `kubernetes.io/service-name=istiod-${revision}`]).items);
            assert.ok(slices.includes(PRIMARY_GATEWAY_IP), `the remote's istiod-${revision} Service does not lead to the primary's gateway: ${slices.slice(0, 500)}`);
        }
        const routes = getJson(admin(PRIMARY), ["virtualservice.networking.istio.io", "istiod-vs", "-n", "istio-system"]).spec.tls;
        for (const revision of REVISIONS) {
            for (const [port, target] of [[15012, 15012], [15017, 443]]) {
                const route = routes.find((r: any) => r.match.some((m: any) => m.port === port && m.sniHosts.includes(`istiod-${revision}.istio-system.svc`)));
                assert.deepEqual(route?.route, [{ destination: { host: `istiod-${revision}.istio-system.svc.cluster.local`, port: { number: target } } }], `${revision} on ${port}`);
            }
        }
        assertTagOn("r1");
    });

    it("each revision's real istiod on the primary reads the remote through its secret, reports it synced and patches the remote's webhooks of its revision", async () => {
        kubelets[PRIMARY].registerNode();
        kubelets[PRIMARY].startPendingPods((pod) => pod.metadata.name.startsWith("istiod-"));
        await gateway.start();
        for (const istiod of Object.values(istiods)) {
            istiod.start();
        }
        for (const istiod of Object.values(istiods)) {
            await waitFor(`${istiod.deployment} ready`, 60, async () => (await fetch(`${istiod.debugUrl}/ready`).catch(() => undefined))?.ok, () => logTail(istiod));
            await waitFor(`${istiod.deployment} sees ${REMOTE} synced`, 60, async () => {
                const clusters: any[] = await istiod.debug("clusterz");
                return clusters.some((c) => c.id === REMOTE && c.syncStatus === "synced");
            }, () => logTail(istiod));
        }
        await waitFor(`the remote's injection webhooks patched with a CA bundle`, 60, () =>
            getJson(admin(REMOTE), ["mutatingwebhookconfigurations", "-l", "app=sidecar-injector"]).items.every((w: any) => w.webhooks.every((h: any) => h.clientConfig.caBundle)),
        );
    });

    it("a pod in the remote is injected by the revision its namespace names, or the tag's; its proxy is told the remote's cluster and network and its revision's istiod, which the gateway reaches", async () => {
        for (const revision of REVISIONS) {
            mustKubectl(admin(REMOTE), ["create", "namespace", `rev-${revision}`]);
            mustKubectl(admin(REMOTE), ["label", "namespace", `rev-${revision}`, `istio.io/rev=${revision}`]);
        }
        for (const revision of REVISIONS) {
            assert.deepEqual(injectionOf(await admittedPod(REMOTE, `rev-${revision}`)), injectedBy(revision, REMOTE), `a pod in rev-${revision}`);
            const passed = gateway.passed.filter((p) => p.port === 15017 && p.sni === `istiod-${revision}.istio-system.svc`);
            assert.ok(passed.length > 0 && passed.every((p) => p.destination === `istiod-${revision}:443` && p.endpoint === `${REVISION_ISTIOD_IP[revision]}:15017`), JSON.stringify(gateway.passed));
        }
        assert.deepEqual(injectionOf(await admittedPod(REMOTE, "sample")), injectedBy("r1", REMOTE), "a pod in sample (istio-injection: enabled), through the tag");
        // What a remote proxy of each revision reaches for xDS and certificates: through the gateway, its
        // revision's istiod, which proves it with the name the proxy asks for, under the root the remote holds.
        const remoteRoot: string = await waitFor(`istio-ca-root-cert in ${REMOTE}'s sample`, 60, () => getJson(admin(REMOTE), ["configmap", "istio-ca-root-cert", "-n", "sample"]).data["root-cert.pem"]);
        for (const revision of REVISIONS) {
            const servername = `istiod-${revision}.istio-system.svc`;
            const certificate = await new Promise<tls.PeerCertificate>((resolve, reject) => {
                const socket = tls.connect({ host: PRIMARY_GATEWAY_IP.replace(/^198\./, "127."), port: 15012, servername, ca: remoteRoot, ALPNProtocols: ["h2"] }, () => {
                    resolve(socket.getPeerCertificate());
                    socket.destroy();
                });
                socket.on("error", reject);
            });
            assert.ok(certificate.subjectaltname?.includes(`DNS:${servername}`), `${revision}: ${certificate.subjectaltname}`);
        }
        // The workloads, restarted once istiod runs: the test app's and the gateways' pods, through the tag.
        for (const [cluster, pods] of Object.entries(await restartWorkloads())) {
            for (const pod of pods) {
                assert.deepEqual(injectionOf(pod), injectedBy("r1", cluster), `${cluster}: ${pod.metadata.name}`);
            }
        }
    });

    it("moves the primary's tag to r2 (its own clusters[].defaultRevision): the remote's tag follows, updated in place; new pods in the remote are injected by r2, those of an r1 namespace still by r1", async () => {
        const uids = CLUSTERS.map((cluster) => tagWebhook(cluster).metadata.uid);
        const moved = await up(REVISIONS, "r1", "r2");
        const changes = changesOf(moved.summary.resourceChanges);
        // In place, and base's validator replaced in each cluster (docs/operations.md, Revision-based).
        assert.deepEqual(Object.keys(changes).sort(), ["replace", "update"], JSON.stringify(changes));
        assert.equal(changes.replace, CLUSTERS.length, JSON.stringify(changes));
        assert.match(moved.stdout, /istio\.io\/rev\s*:\s*"r1" => "r2"/);
        assertTagOn("r2");
        CLUSTERS.forEach((cluster, i) => assert.equal(tagWebhook(cluster).metadata.uid, uids[i], `${cluster}: the tag's webhook was updated in place`));
        assert.deepEqual(injectionOf(await admittedPod(REMOTE, "sample")), injectedBy("r2", REMOTE));
        assert.deepEqual(injectionOf(await admittedPod(REMOTE, "rev-r1")), injectedBy("r1", REMOTE));
        assert.deepEqual(injectionOf(await admittedPod(REMOTE, "rev-r2")), injectedBy("r2", REMOTE));
        // As Istio's guides say, the workloads move to the tag's new revision when they restart, before the old one goes.
        for (const [cluster, pods] of Object.entries(await restartWorkloads())) {
            for (const pod of pods) {
                assert.deepEqual(injectionOf(pod), injectedBy("r2", cluster), `${cluster}: ${pod.metadata.name}`);
            }
        }
    });

    it("drops r1 (istio.defaultRevision now r2, the primary's own dropped): what leaves either API server is r1's, and nothing of r1 is left; r2 keeps the remote synced and injected", async () => {
        for (const revision of REVISIONS) {
            mustKubectl(admin(REMOTE), ["delete", "namespace", `rev-${revision}`]);
        }
        const before = Object.fromEntries(CLUSTERS.map((cluster) => [cluster, snapshot(cluster)]));
        const servicesOfIps = Object.fromEntries(CLUSTERS.map((cluster) => [cluster, servicesByIp(cluster)]));
        const dropped = await up(["r2"], "r2");
        const changes = changesOf(dropped.summary.resourceChanges);
        // r1's objects deleted; the exposure's routes updated (r1's go).
        assert.deepEqual(Object.keys(changes).sort(), ["delete", "update"], JSON.stringify(changes));
        await istiods.r1.stop();
        await waitFor("istiod-r1's pod gone", 60, () => {
            kubelets[PRIMARY].finishTerminatingPods();
            return getJson(admin(PRIMARY), ["pods", "-n", "istio-system"]).items.every((p: any) => !p.metadata.name.startsWith("istiod-r1-"));
        });
        for (const cluster of CLUSTERS) {
            const after = snapshot(cluster);
            const gone = [...before[cluster].keys()].filter((key) => !after.has(key));
            const added = [...after.keys()].filter((key) => !before[cluster].has(key));
            assert.deepEqual(gone.filter((key) => !ofRevision(before[cluster].get(key)!, "r1", servicesOfIps[cluster])), [], `${cluster}: deleted but not r1's`);
            assert.deepEqual(added, [], `${cluster}: made by dropping r1`);
            const left = [...after.entries()].filter(([, o]) => ofRevision(o, "r1", servicesOfIps[cluster])).map(([key]) => key);
            assert.deepEqual(left.filter((key) => !LEFT_BY_ISTIOD_OF("r1").test(key)), [], `${cluster}: r1's, left`);
            const expected = [
                "mutatingwebhookconfigurations.admissionregistration.k8s.io /istio-sidecar-injector-r1",
                "services istio-system/istiod-r1",
                ...(cluster === PRIMARY ? ["deployments.apps istio-system/istiod-r1", "configmaps istio-system/istio-r1"] : ["endpointslices.discovery.k8s.io istio-system/istiod-r1"]),
            ];
            assert.deepEqual(expected.filter((key) => !gone.includes(key)), [], `${cluster}: not deleted`);
            console.log(`# ${cluster}: ${gone.length} objects of r1 deleted, none added; of r1 left only what istiod leaves: ${JSON.stringify(left)}`);
        }
        const clusters: any[] = await istiods.r2.debug("clusterz");
        assert.equal(clusters.find((c) => c.id === REMOTE)?.syncStatus, "synced");
        assert.deepEqual(injectionOf(await admittedPod(REMOTE, "sample")), injectedBy("r2", REMOTE));
    });

    it("pulumi destroy leaves nothing behind", async () => {
        await istiods.r2.stop();
        await gateway.stop();
        kubelets[PRIMARY].deregisterNode();
        await project.stack.destroy();
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o));
            assert.deepEqual(left.filter((o) => !/^configmaps (default|kube-system)\/istio-ca-(root-cert|crl)$/.test(o)), [], `${cluster}: left behind`);
        }
    });
});
