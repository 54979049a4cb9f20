/**
 * A stack installed in place migrated to revisions without a destroy (docs/operations.md, *From InPlace
 * to RevisionBased*), on two clusters with the real program and engine, the charts of two Istio
 * versions from a Helm repository and the real istiod of each (test/e2e/upgrade.sh):
 * 1. installed `InPlace` with the older version: the unnamed `istiod` injects the test app;
 * 2. a revision `r2` of the newer version beside it (`istio.inPlaceVersion`): created, nothing deleted,
 *    the unnamed istiod still the only injector; an up that would move the tag before r2 runs, or drop
 *    the unnamed istiod while it injects, stops before registering anything;
 * 3. the tag `default` on `r2`: the tag created, the unnamed istiod's injector deleted, r2 injects;
 * 4. rolled back (the tag removed, the unnamed injector back) and forward again;
 * 5. the unnamed istiod dropped: nothing of it, nor of the older version, is left.
 * At each step a new pod of the test app's namespace (`istio-injection: enabled`) is injected exactly
 * once (one `istio-proxy`, one `istio-init`) by the expected istiod with its proxy, exactly one
 * injection webhook selects the namespace, and every running istiod lists the other cluster synced,
 * sampled every 200 ms while `pulumi up` runs. Steps run in order and share a stack.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseStackConfig } from "../../stacks/config";
import { installedRevisions, unnamedDroppedProblems } from "../../stacks/installedRevisions";
import { admin, CLUSTERS, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { HelmRepository, serveHelmRepository } from "./helmRepository";
import { helmRepositoryDir, istiodOf, NEWER, OLDER, tagOf } from "./istioReleases";
import { sampleClusterz } from "./istiodWatch";
import { allObjects, getJson, isGone, mustKubectl, waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";
import { logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";
import { changesOf, istiodIp, kubeletsFor, LEFT_BY_ISTIOD, leftOf, reinject } from "./upgradeSteps";

/** Where a step's `pulumi up --diff` output is kept, for a look after the run. */
const diffLog = (step: string) => path.join(work, `migration-${step}.diff.txt`);

describe(`from InPlace (${OLDER.version}) to RevisionBased (r2, ${NEWER.version}) without a destroy`, { concurrency: 1 }, () => {
    let repository: HelmRepository;
    let project: ProjectStack;
    const beforeUp: Record<string, Set<string>> = {};
    // Slot 0 for the unnamed istiod, 1 for r2.
    const kubelets = kubeletsFor((name) => (name.startsWith("istiod-r2-") ? 1 : name.startsWith("istiod-") ? 0 : undefined));
    const local = (deployment: string, slot: number) =>
        CLUSTERS.map((cluster, i) => new LocalIstiod(cluster, admin(cluster), istiodIp(slot, i), istiodIp(slot, i).replace(/^198\./, "127."), path.join(work, `${deployment}-${cluster}`), istiodOf, deployment));
    const istiods = { unnamed: local("istiod", 0), r2: local("istiod-r2", 1) };
    const both = () => [...istiods.unnamed, ...istiods.r2];

    const config = (istio: Record<string, unknown>) => ({ ...stackConfig("mesh1"), istio: { chartRepo: repository.url, ...istio } });
    const IN_PLACE = () => config({ version: OLDER.version });
    const migrating = (defaultRevision?: string) =>
        config({ upgradeStrategy: "RevisionBased", inPlaceVersion: OLDER.version, revisions: [{ name: "r2", version: NEWER.version }], ...(defaultRevision ? { defaultRevision } : {}) });
    const DROPPED = () => config({ upgradeStrategy: "RevisionBased", revisions: [{ name: "r2", version: NEWER.version }], defaultRevision: "r2" });

    /** Starts istiod's pod and its process; waits until it is ready and lists the other cluster synced. */
    async function startIstiods(which: readonly LocalIstiod[]): Promise<void> {
        for (const [i, kubelet] of kubelets.entries()) {
            kubelet.startPendingPods((pod) => pod.metadata.namespace === "istio-system" && pod.metadata.name.startsWith(`${which[i].deployment}-`) && !(which[i].deployment === "istiod" && pod.metadata.name.startsWith("istiod-r2-")));
            which[i].start();
        }
        await awaitSynced(which);
    }

    async function awaitSynced(which: readonly LocalIstiod[]): Promise<void> {
        for (const istiod of which) {
            const other = CLUSTERS.find((c) => c !== istiod.cluster)!;
            await waitFor(`${istiod.cluster} ${istiod.deployment} ready`, 60, async () => (await fetch(`${istiod.debugUrl}/ready`).catch(() => undefined))?.ok, () => logTail(istiod));
            await waitFor(`${istiod.cluster} ${istiod.deployment} sees ${other} synced`, 60, async () => {
                const clusters: any[] = await istiod.debug("clusterz");
                return clusters.some((c) => c.id === other && c.syncStatus === "synced");
            }, () => logTail(istiod));
        }
    }

    /** `pulumi up --diff` while every istiod in `which` is sampled: none may lose the other cluster or its endpoints. */
    async function upWhileSampled(step: string, which: readonly LocalIstiod[]) {
        await awaitSynced(which);
        const sampler = sampleClusterz(which);
        let up;
        try {
            up = await project.stack.up({ diff: true });
        } finally {
            const { samples, gaps } = await sampler.stop();
            assert.deepEqual(gaps.slice(0, 10), [], `${gaps.length} of ${samples} samples had a gap`);
            console.log(`# ${step}: ${samples} samples of ${which.length} istiods while pulumi up ran: no gap`);
        }
        fs.writeFileSync(diffLog(step), up.stdout);
        const changes = changesOf(up.summary.resourceChanges ?? {});
        console.log(`# ${step}: ${JSON.stringify(changes)}`);
        return { up, changes };
    }

    /**
     * A new curl pod per cluster in `sample` (labelled `istio-injection: enabled`): injected exactly once,
     * by `revision` ("default" for the unnamed istiod) with `version`'s proxy; and the one injection
     * webhook that selects the namespace is `webhook`.
     */
    async function assertInjection(revision: string, version: string, webhook: string, context: LocalIstiod[]): Promise<void> {
        for (const cluster of CLUSTERS) {
            const selecting = getJson(admin(cluster), ["mutatingwebhookconfigurations", "-l", "app=sidecar-injector"])
                .items.filter((w: any) =>
                    w.webhooks.some((h: any) => (h.namespaceSelector?.matchExpressions ?? []).some((e: any) => e.key === "istio-injection" && e.operator === "In" && e.values.includes("enabled"))),
                )
                .map((w: any) => w.metadata.name);
            assert.deepEqual(selecting, [webhook], `${cluster}: the webhooks that inject istio-injection: enabled`);
        }
        const pods = await reinject(kubelets, "sample", "curl", (i) => logTail(context[i]));
        for (const [i, pod] of pods.entries()) {
            const proxies = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter((c: any) => c.name === "istio-proxy");
            const inits = (pod.spec.initContainers ?? []).filter((c: any) => c.name === "istio-init");
            const status = JSON.parse(pod.metadata.annotations["sidecar.istio.io/status"]);
            assert.equal(proxies.length, 1, `${CLUSTERS[i]}: one istio-proxy in ${pod.metadata.name}`);
            assert.ok(inits.length <= 1, `${CLUSTERS[i]}: at most one istio-init in ${pod.metadata.name}`);
            assert.deepEqual({ revision: status.revision, proxy: tagOf(proxies[0].image) }, { revision, proxy: version }, `${CLUSTERS[i]}: ${pod.metadata.name}`);
        }
    }

    before(async () => {
        assert.ok(inHarness() && OLDER.version && NEWER.version && helmRepositoryDir, "run this through test/e2e/upgrade.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        repository = await serveHelmRepository(helmRepositoryDir);
        project = await ProjectStack.create("in-place-migration", projectDir);
        project.writeConfig(IN_PLACE());
    });

    after(async () => {
        await Promise.all(both().map((istiod) => istiod.stop()));
        kubelets.forEach((kubelet) => kubelet.deregisterNode());
        await project?.stack.destroy().catch(() => undefined);
        repository?.close();
    });

    it(`installs ${OLDER.version} in place; the unnamed istiod runs, syncs and injects the test app`, async () => {
        await project.stack.up();
        for (const [i, kubelet] of kubelets.entries()) {
            kubelet.registerNode();
            kubelet.assignLoadBalancers(`198.18.20.${i + 1}`);
        }
        await startIstiods(istiods.unnamed);
        await Promise.all(
            CLUSTERS.map(async (cluster, i) => {
                mustKubectl(admin(cluster), ["delete", "replicasets", "--all", "-n", "sample"]);
                await waitFor(`${cluster}: the test app's pods admitted and started`, 90, () => {
                    kubelets[i].startPendingPods((pod) => pod.metadata.namespace === "sample");
                    const pods = getJson(admin(cluster), ["pods", "-n", "sample"]).items;
                    return pods.length >= 2 && pods.every((p: any) => p.status.phase === "Running") ? pods : undefined;
                });
            }),
        );
        await assertInjection("default", OLDER.version, "istio-sidecar-injector", istiods.unnamed);
    });

    it("the tag on r2 before r2 runs (steps 1 and 2 in one up) stops before registering anything, naming istio.defaultRevision", async () => {
        project.writeConfig(migrating("r2"));
        try {
            await assert.rejects(project.stack.preview(), (err: Error) => {
                assert.match(err.message, /istio\.defaultRevision: got "r2"; expected no value until revision r2 runs in cluster1 beside its unnamed istiod \(webhook istio-sidecar-injector\)/);
                return true;
            });
        } finally {
            project.writeConfig(IN_PLACE());
        }
    });

    it(`step 1: r2 (${NEWER.version}) beside the unnamed istiod: created and updated, nothing deleted or replaced; the unnamed istiod still the only injector`, async () => {
        const uids = CLUSTERS.map((cluster) => getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-sidecar-injector"]).metadata.uid);
        project.writeConfig(migrating());
        const { changes } = await upWhileSampled("beside", istiods.unnamed);
        assert.deepEqual(Object.keys(changes).sort(), ["create", "update"], JSON.stringify(changes));
        await startIstiods(istiods.r2);
        for (const [i, cluster] of CLUSTERS.entries()) {
            assert.equal(getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-sidecar-injector"]).metadata.uid, uids[i], `${cluster}: the unnamed injector untouched`);
            assert.ok(isGone(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]), `${cluster}: no tag yet`);
            assert.equal(getJson(admin(cluster), ["deployment", "istiod-r2", "-n", "istio-system"]).spec.template.spec.containers[0].image, `docker.io/istio/pilot:${NEWER.version}`);
        }
        await assertInjection("default", OLDER.version, "istio-sidecar-injector", istiods.unnamed);
    });

    it("while the unnamed istiod injects, an up that drops it stops before registering anything, naming istio.inPlaceVersion", async () => {
        const { config: dropped } = parseStackConfig(DROPPED());
        const { installed, problems } = await installedRevisions(dropped.clusters, 10_000);
        assert.deepEqual(problems, []);
        for (const cluster of CLUSTERS) {
            assert.deepEqual(
                installed[cluster].map((r) => r.revision).sort(),
                ["", "r2"],
                `${cluster}: the unnamed istiod and r2 read from the cluster`,
            );
        }
        assert.equal(unnamedDroppedProblems(dropped, installed).length, CLUSTERS.length);
        project.writeConfig(DROPPED());
        try {
            await assert.rejects(project.stack.preview(), (err: Error) => {
                assert.match(err.message, /istio\.inPlaceVersion: missing; expected "[^"]+", the version of the unnamed istiod cluster1 runs now \(webhook istio-sidecar-injector still injects/);
                return true;
            });
        } finally {
            project.writeConfig(migrating());
        }
    });

    it("step 2: the tag default on r2: the tag created, the unnamed injector deleted, base's validator replaced; new pods injected by r2 only", async () => {
        project.writeConfig(migrating("r2"));
        const { up, changes } = await upWhileSampled("tag-moved", both());
        assert.deepEqual(Object.keys(changes).sort(), ["create", "delete", "replace", "update"], JSON.stringify(changes));
        assert.equal(changes.delete, CLUSTERS.length, `only each cluster's unnamed injector is deleted: ${JSON.stringify(changes)}`);
        assert.equal(changes.replace, CLUSTERS.length, `only each cluster's default validator is replaced: ${JSON.stringify(changes)}`);
        assert.match(up.stdout, /operatorManageWebhooks/);
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["mutatingwebhookconfiguration", "istio-sidecar-injector"]), `${cluster}: the unnamed injector is gone`);
            const tag = getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]);
            assert.equal(tag.metadata.labels["istio.io/rev"], "r2");
            assert.ok(tag.webhooks.every((w: any) => w.clientConfig.service.name === "istiod-r2"), JSON.stringify(tag.webhooks.map((w: any) => w.clientConfig)));
            assert.equal(getJson(admin(cluster), ["validatingwebhookconfiguration", "istiod-default-validator"]).webhooks[0].clientConfig.service.name, "istiod-r2");
            assert.equal(getJson(admin(cluster), ["deployment", "istio-eastwestgateway", "-n", "istio-system"]).spec.template.metadata.labels["istio.io/rev"], "r2");
            assert.ok(!isGone(admin(cluster), ["deployment", "istiod", "-n", "istio-system"]), `${cluster}: the unnamed istiod still runs (rollback possible)`);
        }
        await assertInjection("r2", NEWER.version, "istio-revision-tag-default", istiods.r2);
        await awaitSynced(both());
    });

    it("rolls back: the tag removed, the unnamed injector back; new pods injected by the unnamed istiod only; then forward again", async () => {
        project.writeConfig(migrating());
        const back = await upWhileSampled("rolled-back", both());
        assert.deepEqual(Object.keys(back.changes).sort(), ["create", "delete", "replace", "update"], JSON.stringify(back.changes));
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]), `${cluster}: the tag is gone`);
        }
        await assertInjection("default", OLDER.version, "istio-sidecar-injector", istiods.unnamed);
        project.writeConfig(migrating("r2"));
        await upWhileSampled("tag-moved-again", both());
        await assertInjection("r2", NEWER.version, "istio-revision-tag-default", istiods.r2);
    });

    it(`step 3: the unnamed istiod dropped: only deletes; nothing of it, nor of ${OLDER.version}, is left; r2 synced`, async () => {
        // As Istio's guides say, the workloads move to the new revision (a restart) before the old control plane goes.
        await reinject(kubelets, "sample", "helloworld", (i) => logTail(istiods.r2[i]));
        await reinject(kubelets, "istio-system", "istio-eastwestgateway", (i) => logTail(istiods.r2[i]));
        project.writeConfig(DROPPED());
        const { changes } = await upWhileSampled("unnamed-dropped", istiods.r2);
        assert.deepEqual(Object.keys(changes), ["delete"], JSON.stringify(changes));
        await Promise.all(istiods.unnamed.map((istiod) => istiod.stop()));
        const unnamedObjects = [
            ["deployment", "istiod", "-n", "istio-system"],
            ["service", "istiod", "-n", "istio-system"],
            ["configmap", "istio", "-n", "istio-system"],
            ["configmap", "istio-sidecar-injector", "-n", "istio-system"],
            ["mutatingwebhookconfiguration", "istio-sidecar-injector"],
            ["validatingwebhookconfiguration", "istio-validator-istio-system"],
        ];
        for (const [i, cluster] of CLUSTERS.entries()) {
            // The Deployment goes once the garbage collector has deleted its pods, which the kubelet finishes.
            let left: string[] = [];
            await waitFor(`${cluster}: nothing of the unnamed istiod or ${OLDER.version} left`, 60, () => {
                kubelets[i].finishTerminatingPods();
                left = [...unnamedObjects.filter((o) => !isGone(admin(cluster), o)).map((o) => `${o.join(" ")} is still there`), ...leftOf(cluster, "default")];
                return left.length === 0 || undefined;
            }, () => left.join("\n"));
            const clusters: any[] = await istiods.r2[i].debug("clusterz");
            assert.equal(clusters.find((c) => c.id === CLUSTERS[1 - i])?.syncStatus, "synced");
        }
        await assertInjection("r2", NEWER.version, "istio-revision-tag-default", istiods.r2);
    });

    it("pulumi destroy leaves nothing behind", async () => {
        await Promise.all(both().map((istiod) => istiod.stop()));
        kubelets.forEach((kubelet) => kubelet.deregisterNode());
        await project.stack.destroy();
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o) && !LEFT_BY_ISTIOD.test(o));
            assert.deepEqual(left, [], `${cluster}: left behind`);
        }
    });
});
