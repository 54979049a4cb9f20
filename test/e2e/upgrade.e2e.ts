/**
 * Upgrades between two Istio versions on two clusters (two networks), with the real program and
 * engine, the official charts of each version stamped with a release version and served from a Helm
 * repository, and the real istiod of each version (test/e2e/upgrade.sh):
 * - revision-based (canary): the newer revision beside the older, the `default` tag moved to it (and
 *   with it the test app's injection and the east-west gateways), moved back (the rollback) and forward
 *   again, the older revision dropped; before it, `istioctl x precheck` and the support policy read
 *   from the real API servers;
 * - in place: the version changed, istiod's Deployment rolled to the newer image.
 * At every step every running istiod lists the other cluster synced and holds its helloworld
 * endpoints, sampled every 200 ms while `pulumi up` runs; at the end nothing of the older version or
 * revision is left. Steps run in order and share a stack.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseStackConfig } from "../../stacks/config";
import { installedRevisions, skippedMinorProblems } from "../../stacks/installedRevisions";
import { admin, CLUSTERS, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { HelmRepository, serveHelmRepository } from "./helmRepository";
import { HollowKubelet } from "./hollowKubelet";
import { helmRepositoryDir, istiodOf, NEWER, OLDER, tagOf } from "./istioReleases";
import { sampleClusterz } from "./istiodWatch";
import { allObjects, getJson, isGone, mustKubectl, run, waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";
import { logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";
import { changesOf, istiodIp, kubeletsFor, LEFT_BY_ISTIOD, leftOf, reinject } from "./upgradeSteps";

/**
 * What moving the `default` tag changes: updates in place, and in each cluster the replacement of
 * `istiod-default-validator` (docs/operations.md, *Revision-based*); nothing created or deleted.
 */
function assertTagMoved(summary: Record<string, number>): void {
    const changes = changesOf(summary);
    assert.deepEqual(Object.keys(changes).sort(), ["replace", "update"], `the tag is moved, not created or deleted: ${JSON.stringify(changes)}`);
    assert.equal(changes.replace, CLUSTERS.length, `only each cluster's validator is replaced: ${JSON.stringify(changes)}`);
}

function withIstio(istio: Record<string, unknown>, repository: HelmRepository): Record<string, unknown> {
    return { ...stackConfig("mesh1"), istio: { chartRepo: repository.url, ...istio } };
}

/** Starts istiod's pod and its process (the binary of the version its Deployment's image names); waits until it is ready and lists the other cluster synced. */
async function startIstiods(kubelets: readonly HollowKubelet[], istiods: readonly LocalIstiod[]): Promise<void> {
    for (const [i, kubelet] of kubelets.entries()) {
        kubelet.startPendingPods((pod) => pod.metadata.namespace === "istio-system" && pod.metadata.name.startsWith(`${istiods[i].deployment}-`));
        istiods[i].start();
    }
    for (const [i, istiod] of istiods.entries()) {
        const other = CLUSTERS[1 - i];
        await waitFor(`${istiod.cluster} ${istiod.deployment} ready`, 60, async () => (await fetch(`${istiod.debugUrl}/ready`).catch(() => undefined))?.ok, () => logTail(istiod));
        await waitFor(`${istiod.cluster} ${istiod.deployment} sees ${other} synced`, 60, async () => {
            const clusters: any[] = await istiod.debug("clusterz");
            return clusters.some((c) => c.id === other && c.syncStatus === "synced");
        }, () => logTail(istiod));
    }
}


/** The injecting revision and the proxy's release of an injected pod. */
function injectedBy(pod: any): { revision: string; proxy: string } {
    const proxy = pod.spec.containers.find((c: any) => c.name === "istio-proxy") ?? pod.spec.initContainers?.find((c: any) => c.name === "istio-proxy");
    return { revision: JSON.parse(pod.metadata.annotations["sidecar.istio.io/status"]).revision, proxy: tagOf(proxy.image) };
}

/** Waits until one sample of every istiod in `istiods` shows the other cluster synced and its endpoints held. */
async function awaitSteady(istiods: readonly LocalIstiod[]): Promise<void> {
    let last: string[] = [];
    await waitFor("every istiod synced with the other cluster and holding its endpoints", 60, async () => {
        const sampler = sampleClusterz(istiods);
        await new Promise((resolve) => setTimeout(resolve, 100));
        last = (await sampler.stop()).gaps;
        return last.length === 0 || undefined;
    }, () => last.join("\n"));
}

/** `pulumi up` while every istiod in `istiods` is sampled: none may lose the other cluster or its endpoints. */
async function upWhileSampled(project: ProjectStack, istiods: readonly LocalIstiod[], diff = false) {
    await awaitSteady(istiods);
    const sampler = sampleClusterz(istiods);
    let up;
    try {
        up = await project.stack.up({ diff });
    } finally {
        const { samples, gaps } = await sampler.stop();
        assert.deepEqual(gaps.slice(0, 10), [], `${gaps.length} of ${samples} samples had a gap`);
        console.log(`# ${samples} samples of ${istiods.length} istiods while pulumi up ran: no gap`);
    }
    return up;
}

/** Waits until nothing of the older version or `revision` is left in either cluster, finishing the pods being deleted as a kubelet would. */
async function awaitNothingLeft(kubelets: readonly HollowKubelet[], revision: string | undefined): Promise<void> {
    for (const [i, cluster] of CLUSTERS.entries()) {
        let left: string[] = [];
        await waitFor(`${cluster}: nothing of ${revision ?? OLDER.version} left`, 60, () => {
            kubelets[i].finishTerminatingPods();
            left = leftOf(cluster, revision);
            return left.length === 0 || undefined;
        }, () => left.join("\n"));
    }
}

function startTestApp(kubelets: readonly HollowKubelet[]): Promise<unknown> {
    return Promise.all(
        CLUSTERS.map(async (cluster, i) => {
            mustKubectl(admin(cluster), ["delete", "replicasets", "--all", "-n", "sample"]);
            await waitFor(`${cluster}: the test app's pods admitted and started`, 90, () => {
                kubelets[i].startPendingPods((pod) => pod.metadata.namespace === "sample");
                const pods = getJson(admin(cluster), ["pods", "-n", "sample"]).items;
                return pods.length >= 2 && pods.every((p: any) => p.status.phase === "Running") ? pods : undefined;
            });
        }),
    );
}

describe("upgrades between two Istio versions, with the real istiod of each", { concurrency: 1 }, () => {
    let repository: HelmRepository;
    const beforeUp: Record<string, Set<string>> = {};

    before(async () => {
        assert.ok(inHarness() && OLDER.version && NEWER.version && helmRepositoryDir, "run this through test/e2e/upgrade.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        repository = await serveHelmRepository(helmRepositoryDir);
    });

    after(() => repository?.close());

    /** pulumi destroy, then nothing of the stack is left in either cluster. */
    async function destroyLeavesNothing(project: ProjectStack, istiods: readonly LocalIstiod[], kubelets: readonly HollowKubelet[]) {
        await Promise.all(istiods.map((istiod) => istiod.stop()));
        kubelets.forEach((kubelet) => kubelet.deregisterNode());
        await project.stack.destroy();
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o) && !LEFT_BY_ISTIOD.test(o));
            assert.deepEqual(left, [], `${cluster}: left behind`);
        }
    }

    describe(`revision-based: r1 (${OLDER.version}) to r2 (${NEWER.version}), with a rollback`, { concurrency: 1 }, () => {
        let project: ProjectStack;
        const revisions = { r1: OLDER, r2: NEWER } as const;
        const slots = { r1: 0, r2: 1 } as const;
        type Name = keyof typeof revisions;
        const canary = (names: readonly Name[], defaultRevision: Name) =>
            withIstio({ upgradeStrategy: "RevisionBased", revisions: names.map((name) => ({ name, version: revisions[name].version })), defaultRevision }, repository);
        const kubelets = kubeletsFor((name) => (name.startsWith("istiod-r1-") ? 0 : name.startsWith("istiod-r2-") ? 1 : undefined));
        const istiods = Object.fromEntries(
            (Object.keys(revisions) as Name[]).map((revision) => [
                revision,
                CLUSTERS.map((cluster, i) => {
                    const ip = istiodIp(slots[revision], i);
                    return new LocalIstiod(cluster, admin(cluster), ip, ip.replace(/^198\./, "127."), path.join(work, `istiod-${revision}-${cluster}`), istiodOf, `istiod-${revision}`);
                }),
            ]),
        ) as Record<Name, LocalIstiod[]>;
        const tagWebhook = (cluster: string) => getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]);
        const both = () => [...istiods.r1, ...istiods.r2];

        /** A new curl pod per cluster, injected through the `default` tag: by `revision`, with `release`'s proxy. */
        async function assertInjection(revision: Name): Promise<void> {
            const pods = await reinject(kubelets, "sample", "curl", (i) => logTail(istiods[revision][i]));
            for (const [i, pod] of pods.entries()) {
                assert.deepEqual(injectedBy(pod), { revision, proxy: revisions[revision].version }, `${CLUSTERS[i]}: ${pod.metadata.name}`);
            }
        }

        before(async () => {
            project = await ProjectStack.create("canary", projectDir);
            project.writeConfig(canary(["r1"], "r1"));
        });

        after(async () => {
            await Promise.all(Object.values(istiods).flat().map((istiod) => istiod.stop()));
            kubelets.forEach((kubelet) => kubelet.deregisterNode());
            await project.stack.destroy().catch(() => undefined);
        });

        it(`installs r1 (${OLDER.version}) from the Helm repository; its istiod runs and syncs; the test app is injected by r1`, async () => {
            await project.stack.up();
            assert.ok(
                repository.requested.some((p) => p === `/istiod-${OLDER.version}.tgz`),
                `the istiod chart came from the repository: ${repository.requested.join(" ")}`,
            );
            for (const [i, kubelet] of kubelets.entries()) {
                kubelet.registerNode();
                kubelet.assignLoadBalancers(`198.18.20.${i + 1}`);
                const image = getJson(admin(CLUSTERS[i]), ["deployment", "istiod-r1", "-n", "istio-system"]).spec.template.spec.containers[0].image;
                assert.equal(image, `docker.io/istio/pilot:${OLDER.version}`);
            }
            await startIstiods(kubelets, istiods.r1);
            await startTestApp(kubelets);
            await assertInjection("r1");
            for (const cluster of CLUSTERS) {
                assert.equal(tagWebhook(cluster).metadata.labels["istio.io/rev"], "r1");
            }
        });

        it(`istioctl x precheck of ${NEWER.version} reports nothing; the support policy reads ${OLDER.version} from the clusters and refuses a skipped minor`, async () => {
            for (const cluster of CLUSTERS) {
                // Its findings at Warning and above; when there is none it says so (on stdout or stderr, by version).
                const precheck = run("istioctl", ["x", "precheck", "--kubeconfig", admin(cluster), "--revision", "r1"]);
                const said = `${precheck.stdout}${precheck.stderr}`;
                assert.equal(precheck.status, 0, said);
                assert.match(said, /^✔ No issues found when checking the cluster\. Istio is safe to install or upgrade!/m, `${cluster}: istioctl x precheck: ${said}`);
            }
            const { config } = parseStackConfig(canary(["r1", "r2"], "r1"));
            const { installed, problems } = await installedRevisions(config.clusters, 10_000);
            assert.deepEqual(problems, []);
            for (const cluster of CLUSTERS) {
                assert.deepEqual(installed[cluster], [{ webhook: "istio-sidecar-injector-r1", revision: "r1", version: OLDER.version }], cluster);
            }
            assert.deepEqual(skippedMinorProblems(config, installed), []);
            // r1 moved two minor versions on from what the clusters run: what `preview` and `up` stop at (requireSupportedUpgrade).
            const skipping = parseStackConfig(withIstio({ upgradeStrategy: "RevisionBased", revisions: [{ name: "r1", version: "1.32.0" }], defaultRevision: "r1" }, repository)).config;
            assert.deepEqual(
                [...new Set(skippedMinorProblems(skipping, installed).map((p) => p.split(": Istio")[0]))],
                CLUSTERS.map((cluster) => `istio.revisions[0].version: got "1.32.0"; expected a version within one minor version of ${OLDER.version}, which ${cluster} runs now (revision r1, webhook istio-sidecar-injector-r1); the change would skip a minor version`),
            );
        });

        it(`adds r2 (${NEWER.version}) beside r1: r2 created, base updated to ${NEWER.version}'s CRDs, nothing deleted; r1 keeps both clusters synced throughout`, async () => {
            project.writeConfig(canary(["r1", "r2"], "r1"));
            const up = await upWhileSampled(project, istiods.r1);
            const changes = changesOf(up.summary.resourceChanges ?? {});
            assert.deepEqual(Object.keys(changes).sort(), ["create", "update"], JSON.stringify(changes));
            console.log(`# r2 added: ${JSON.stringify(changes)}`);
            await startIstiods(kubelets, istiods.r2);
            for (const cluster of CLUSTERS) {
                assert.equal(tagWebhook(cluster).metadata.labels["istio.io/rev"], "r1");
                const crd = getJson(admin(cluster), ["crd", "virtualservices.networking.istio.io"]);
                assert.equal(crd.metadata.labels["helm.sh/chart"], `base-${NEWER.version}`, `${cluster}: base's CRDs are the newest revision's`);
            }
            await assertInjection("r1");
        });

        it("moves the tag to r2 (updates, and the validator replaced): the tag's webhook, base's validator and the gateways follow; new pods are injected by r2 with its proxy", async () => {
            const uids = CLUSTERS.map((cluster) => tagWebhook(cluster).metadata.uid);
            project.writeConfig(canary(["r1", "r2"], "r2"));
            // The diff `pulumi preview --diff` shows, as the update prints it: the tag's objects updated, not created and deleted.
            const up = await upWhileSampled(project, both(), true);
            assertTagMoved(up.summary.resourceChanges ?? {});
            assert.match(up.stdout, /istio\.io\/rev\s*:\s*"r1" => "r2"/);
            console.log(`# the tag moved: ${JSON.stringify(changesOf(up.summary.resourceChanges ?? {}))}`);
            for (const [i, cluster] of CLUSTERS.entries()) {
                const tag = tagWebhook(cluster);
                assert.equal(tag.metadata.uid, uids[i], `${cluster}: the tag's webhook was updated in place`);
                assert.ok(tag.webhooks.every((w: any) => w.clientConfig.service.name === "istiod-r2"), JSON.stringify(tag.webhooks.map((w: any) => w.clientConfig)));
                assert.equal(getJson(admin(cluster), ["validatingwebhookconfiguration", "istiod-default-validator"]).webhooks[0].clientConfig.service.name, "istiod-r2");
                assert.equal(getJson(admin(cluster), ["deployment", "istio-eastwestgateway", "-n", "istio-system"]).spec.template.metadata.labels["istio.io/rev"], "r2");
            }
            await assertInjection("r2");
            const gateways = await reinject(kubelets, "istio-system", "istio-eastwestgateway", (i) => logTail(istiods.r2[i]));
            for (const [i, pod] of gateways.entries()) {
                assert.deepEqual(injectedBy(pod), { revision: "r2", proxy: NEWER.version }, `${CLUSTERS[i]}: ${pod.metadata.name}`);
            }
        });

        it(`rolls back: the tag back on r1, new pods injected by r1 with ${OLDER.version}'s proxy`, async () => {
            project.writeConfig(canary(["r1", "r2"], "r1"));
            const back = await upWhileSampled(project, both(), true);
            assertTagMoved(back.summary.resourceChanges ?? {});
            assert.match(back.stdout, /istio\.io\/rev\s*:\s*"r2" => "r1"/);
            await assertInjection("r1");
        });

        it(`moves the tag to r2 and drops r1 in one up: the tag's objects updated, not taken over; nothing labelled r1 or ${OLDER.version} is left`, async () => {
            project.writeConfig(canary(["r2"], "r2"));
            const up = await upWhileSampled(project, istiods.r2, true);
            const changes = changesOf(up.summary.resourceChanges ?? {});
            assert.deepEqual(Object.keys(changes).sort(), ["delete", "replace", "update"], JSON.stringify(changes));
            assert.equal(changes.replace, CLUSTERS.length, `only each cluster's validator is replaced: ${JSON.stringify(changes)}`);
            // The tag's objects pass from r1's chart (which goes) to r2's, by the alias the cluster's running r1 gives them.
            assert.match(up.stdout, /istio\.io\/rev\s*:\s*"r1" => "r2"/);
            console.log(`# the tag moved and r1 dropped: ${JSON.stringify(changes)}`);
            // As Istio's docs say, the workloads move to the new revision (a restart) once the tag is on it.
            await assertInjection("r2");
            await reinject(kubelets, "sample", "helloworld", (i) => logTail(istiods.r2[i]));
            await reinject(kubelets, "istio-system", "istio-eastwestgateway", (i) => logTail(istiods.r2[i]));
            await Promise.all(istiods.r1.map((istiod) => istiod.stop()));
            await awaitNothingLeft(kubelets, "r1");
            for (const [i, cluster] of CLUSTERS.entries()) {
                assert.ok(isGone(admin(cluster), ["deployment", "istiod-r1", "-n", "istio-system"]));
                const clusters: any[] = await istiods.r2[i].debug("clusterz");
                assert.equal(clusters.find((c) => c.id === CLUSTERS[1 - i])?.syncStatus, "synced");
            }
        });

        it("pulumi destroy leaves nothing behind", () => destroyLeavesNothing(project, istiods.r2, kubelets));
    });

    describe(`in place: ${OLDER.version} to ${NEWER.version}`, { concurrency: 1 }, () => {
        let project: ProjectStack;
        const kubelets = kubeletsFor((name) => (name.startsWith("istiod-") ? 0 : undefined));
        const istiods = CLUSTERS.map((cluster, i) => new LocalIstiod(cluster, admin(cluster), istiodIp(0, i), istiodIp(0, i).replace(/^198\./, "127."), path.join(work, `istiod-${cluster}`), istiodOf));
        const inPlace = (version: string) => withIstio({ version }, repository);

        before(async () => {
            project = await ProjectStack.create("in-place", projectDir);
            project.writeConfig(inPlace(OLDER.version));
        });

        after(async () => {
            await Promise.all(istiods.map((istiod) => istiod.stop()));
            kubelets.forEach((kubelet) => kubelet.deregisterNode());
            await project.stack.destroy().catch(() => undefined);
        });

        it(`installs ${OLDER.version}; its istiod runs and syncs; the test app is injected with its proxy`, async () => {
            await project.stack.up();
            for (const [i, kubelet] of kubelets.entries()) {
                kubelet.registerNode();
                kubelet.assignLoadBalancers(`198.18.20.${i + 1}`);
            }
            await startIstiods(kubelets, istiods);
            await startTestApp(kubelets);
            for (const [i, pod] of (await reinject(kubelets, "sample", "curl", (i) => logTail(istiods[i]))).entries()) {
                assert.deepEqual(injectedBy(pod), { revision: "default", proxy: OLDER.version }, CLUSTERS[i]);
            }
        });

        it(`changes the version to ${NEWER.version}: updates only, shown in the diff; istiod rolls to the newer image and syncs; new pods get the newer proxy; nothing of ${OLDER.version} is left`, async () => {
            const generations = CLUSTERS.map((cluster) => getJson(admin(cluster), ["deployment", "istiod", "-n", "istio-system"]).metadata.generation);
            project.writeConfig(inPlace(NEWER.version));
            // The older istiods keep serving while the charts change, as a rolling update keeps the old pod until the new one is ready.
            const up = await upWhileSampled(project, istiods, true);
            const changes = changesOf(up.summary.resourceChanges ?? {});
            assert.deepEqual(Object.keys(changes), ["update"], JSON.stringify(changes));
            assert.match(up.stdout, new RegExp(`helm\\.sh/chart\\s*:\\s*"istiod-${OLDER.version.replace(/\./g, "\\.")}" => "istiod-${NEWER.version.replace(/\./g, "\\.")}"`));
            console.log(`# in place: ${JSON.stringify(changes)}`);
            for (const [i, cluster] of CLUSTERS.entries()) {
                const istiod = getJson(admin(cluster), ["deployment", "istiod", "-n", "istio-system"]);
                assert.ok(istiod.metadata.generation > generations[i], `${cluster}: istiod's Deployment changed`);
                assert.equal(istiod.spec.template.spec.containers[0].image, `docker.io/istio/pilot:${NEWER.version}`);
            }
            // The rollout, as the kubelets would run it: the newer pod starts, then the older pod's process stops
            // (here before the newer process starts, as the harness runs one istiod per cluster).
            const t0 = performance.now();
            await Promise.all(istiods.map((istiod) => istiod.stop()));
            await startIstiods(kubelets, istiods);
            console.log(`# the newer istiods ready and synced ${((performance.now() - t0) / 1000).toFixed(1)} s after the older ones stopped`);
            const sampler = sampleClusterz(istiods);
            for (const [i, pod] of (await reinject(kubelets, "sample", "curl", (i) => logTail(istiods[i]))).entries()) {
                assert.deepEqual(injectedBy(pod), { revision: "default", proxy: NEWER.version }, CLUSTERS[i]);
            }
            const { samples, gaps } = await sampler.stop();
            assert.deepEqual(gaps.slice(0, 10), [], `${gaps.length} of ${samples} samples had a gap`);
            await reinject(kubelets, "sample", "helloworld", (i) => logTail(istiods[i]));
            await reinject(kubelets, "istio-system", "istio-eastwestgateway", (i) => logTail(istiods[i]));
            await awaitNothingLeft(kubelets, undefined);
        });

        it("pulumi destroy leaves nothing behind", () => destroyLeavesNothing(project, istiods, kubelets));
    });
});
