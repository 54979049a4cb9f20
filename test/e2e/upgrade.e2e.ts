/**
 * A revision-based (canary) upgrade on two clusters with the real program and engine, and the real
 * istiod of each revision: a second revision of the same charts beside the first, its istiod syncing,
 * the `default` tag moved to it (and with it the test app's injection and the east-west gateways), the
 * first revision dropped, then nothing left. Before it, `istioctl x precheck`, and the revisions the
 * support policy reads from the real API servers. Steps run in order and share the stack.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseStackConfig } from "../../stacks/config";
import { installedRevisions, skippedMinorProblems } from "../../stacks/installedRevisions";
import { admin, CLUSTERS, chartVersion, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { HollowKubelet } from "./hollowKubelet";
import { allObjects, getJson, isGone, mustKubectl, run, waitFor } from "./kube";
import { LocalIstiod } from "./localIstiod";
import { logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";

const REVISIONS = ["r1", "r2"] as const;
/** Each revision's istiod pod IP in cluster i; its process listens on the same address in 127.18.0.0/15. */
const istiodIp = (revision: string, i: number) => `198.18.${revision === "r1" ? 3 : 4}.${i + 1}`;
const LEFT_BY_ISTIOD = /^configmaps (default|kube-system)\/istio-ca-(root-cert|crl)$/;

function canaryConfig(revisions: readonly string[], defaultRevision: string): Record<string, unknown> {
    const base = stackConfig("mesh1");
    return {
        ...base,
        istio: {
            chartRepo: (base.istio as { chartRepo: string }).chartRepo,
            upgradeStrategy: "RevisionBased",
            revisions: revisions.map((name) => ({ name, version: chartVersion })),
            defaultRevision,
        },
    };
}

/** The changes of a preview or an update, without what stays the same. */
const changesOf = (summary: Record<string, number>) => Object.fromEntries(Object.entries(summary).filter(([op]) => op !== "same"));

describe("a revision-based canary upgrade, with the real istiod of each revision", { concurrency: 1 }, () => {
    let project: ProjectStack;
    const beforeUp: Record<string, Set<string>> = {};
    const kubelets = CLUSTERS.map(
        (cluster, i) =>
            new HollowKubelet(admin(cluster), `hollow-${cluster}`, `198.18.0.${i + 1}`, (ns, name, n) => {
                const revision = REVISIONS.find((r) => ns === "istio-system" && name.startsWith(`istiod-${r}-`));
                return revision === undefined ? `198.18.${10 + i}.${n + 1}` : istiodIp(revision, i);
            }),
    );
    const istiods = Object.fromEntries(
        REVISIONS.map((revision) => [
            revision,
            CLUSTERS.map(
                (cluster, i) =>
                    new LocalIstiod(cluster, admin(cluster), istiodIp(revision, i), istiodIp(revision, i).replace(/^198\./, "127."), path.join(work, `istiod-${revision}-${cluster}`), "pilot-discovery", `istiod-${revision}`),
            ),
        ]),
    );

    /** Starts the pods of `revision`'s istiod and its processes; waits until each is ready and reports the other cluster synced. */
    async function startRevision(revision: string): Promise<void> {
        for (const [i, kubelet] of kubelets.entries()) {
            kubelet.startPendingPods((pod) => pod.metadata.name.startsWith(`istiod-${revision}-`));
            istiods[revision][i].start();
        }
        for (const [i, istiod] of istiods[revision].entries()) {
            const other = CLUSTERS[1 - i];
            await waitFor(`${istiod.cluster} istiod-${revision} ready`, 60, async () => (await fetch(`${istiod.debugUrl}/ready`))?.ok, () => logTail(istiod));
            await waitFor(`${istiod.cluster} istiod-${revision} sees ${other} synced`, 60, async () => {
                const clusters: any[] = await istiod.debug("clusterz");
                return clusters.some((c) => c.id === other && c.syncStatus === "synced");
            }, () => logTail(istiod));
        }
    }

    const tagWebhook = (cluster: string) => getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-revision-tag-default"]);

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/run.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        project = await ProjectStack.create("canary", projectDir);
        project.writeConfig(canaryConfig(["r1"], "r1"));
    });

    after(async () => {
        await Promise.all(Object.values(istiods).flat().map((istiod) => istiod.stop()));
        kubelets.forEach((kubelet) => kubelet.deregisterNode());
        await project.stack.destroy().catch(() => undefined);
    });

    it("installs revision r1 with the default tag on it; its istiod runs and syncs; istioctl x precheck reports nothing", async () => {
        await project.stack.up();
        for (const [i, kubelet] of kubelets.entries()) {
            kubelet.registerNode();
            kubelet.assignLoadBalancers(`198.18.20.${i + 1}`);
        }
        await startRevision("r1");
        for (const cluster of CLUSTERS) {
            assert.equal(tagWebhook(cluster).metadata.labels["istio.io/rev"], "r1");
            // Its findings at Warning and above; when there is none it says so (on stdout or stderr, by version).
            const precheck = run("istioctl", ["x", "precheck", "--kubeconfig", admin(cluster), "--revision", "r1"]);
            const said = `${precheck.stdout}${precheck.stderr}`;
            assert.equal(precheck.status, 0, said);
            assert.match(said, /^✔ No issues found when checking the cluster\. Istio is safe to install or upgrade!/m, `${cluster}: istioctl x precheck: ${said}`);
        }
    });

    it("reads what each cluster runs from its injection webhooks, and refuses a version that would skip a minor version", async () => {
        const { config } = parseStackConfig(canaryConfig(["r1"], "r1"));
        const { installed, problems } = await installedRevisions(config.clusters, 10_000);
        assert.deepEqual(problems, []);
        for (const cluster of CLUSTERS) {
            assert.deepEqual(installed[cluster], [{ webhook: "istio-sidecar-injector-r1", revision: "r1", version: chartVersion }], cluster);
        }
        assert.deepEqual(skippedMinorProblems(config, installed), []);
        // As if cluster2 ran r1 from charts two minor versions on: what `preview` and `up` stop at (requireSupportedUpgrade).
        const [major, minor] = chartVersion.split(".").map(Number);
        const later = `${major}.${minor + 2}.0`;
        const problem = skippedMinorProblems(config, { ...installed, cluster2: installed.cluster2.map((r) => ({ ...r, version: later })) });
        assert.deepEqual(
            problem.map((p) => p.split(": Istio")[0]),
            [`istio.revisions[0].version: got "${chartVersion}"; expected a version within one minor version of ${later}, which cluster2 runs now (revision r1, webhook istio-sidecar-injector-r1); the change would skip a minor version`],
        );
    });

    it("adds revision r2 beside r1 (creates only); its istiod runs and syncs; the tag stays on r1", async () => {
        project.writeConfig(canaryConfig(["r1", "r2"], "r1"));
        const up = await project.stack.up();
        assert.deepEqual(Object.keys(changesOf(up.summary.resourceChanges ?? {})).sort(), ["create"], JSON.stringify(up.summary.resourceChanges));
        await startRevision("r2");
        for (const cluster of CLUSTERS) {
            assert.equal(tagWebhook(cluster).metadata.labels["istio.io/rev"], "r1");
            getJson(admin(cluster), ["mutatingwebhookconfiguration", "istio-sidecar-injector-r2"]);
        }
    });

    it("moves the tag to r2 in place: the tag's webhook, base's validator and the gateways follow; the test app's pods are injected by r2", async () => {
        const uids = CLUSTERS.map((cluster) => tagWebhook(cluster).metadata.uid);
        project.writeConfig(canaryConfig(["r1", "r2"], "r2"));
        // The diff `pulumi preview --diff` shows, as the update prints it: the tag's objects updated, not created and deleted.
        const up = await project.stack.up({ diff: true });
        const changes = changesOf(up.summary.resourceChanges ?? {});
        assert.equal(changes.create, undefined, `the tag is moved, not created again: ${JSON.stringify(changes)}`);
        assert.equal(changes.delete, undefined, `the tag is moved, not deleted: ${JSON.stringify(changes)}`);
        assert.match(up.stdout, /istio\.io\/rev\s*:\s*"r1" => "r2"/);
        console.log(`# the tag moved: ${JSON.stringify(changes)}`);
        for (const [i, cluster] of CLUSTERS.entries()) {
            const tag = tagWebhook(cluster);
            assert.equal(tag.metadata.uid, uids[i], `${cluster}: the tag's webhook was updated in place`);
            assert.equal(tag.metadata.labels["istio.io/rev"], "r2");
            assert.ok(tag.webhooks.every((w: any) => w.clientConfig.service.name === "istiod-r2"), JSON.stringify(tag.webhooks.map((w: any) => w.clientConfig)));
            const validator = getJson(admin(cluster), ["validatingwebhookconfiguration", "istiod-default-validator"]);
            assert.equal(validator.webhooks[0].clientConfig.service.name, "istiod-r2");
            const gateway = getJson(admin(cluster), ["deployment", "istio-eastwestgateway", "-n", "istio-system"]);
            assert.equal(gateway.spec.template.metadata.labels["istio.io/rev"], "r2");
            assert.equal(getJson(admin(cluster), ["namespace", "sample"]).metadata.labels["istio-injection"], "enabled");

            // A new pod of the test app (its namespace labelled istio-injection=enabled) goes through the tag to r2's istiod.
            mustKubectl(admin(cluster), ["delete", "replicasets", "-n", "sample", "-l", "app=curl"]);
            const pod = await waitFor(`${cluster}: a curl pod injected`, 60, () => {
                const pods = getJson(admin(cluster), ["pods", "-n", "sample", "-l", "app=curl"]).items;
                return pods.find((p: any) => p.metadata.annotations?.["sidecar.istio.io/status"]);
            }, () => logTail(istiods.r2[i]));
            assert.equal(JSON.parse(pod.metadata.annotations["sidecar.istio.io/status"]).revision, "r2");
        }
    });

    it("drops r1 (deletes only): its istiod's objects go; r2 keeps the other cluster synced", async () => {
        project.writeConfig(canaryConfig(["r2"], "r2"));
        const up = await project.stack.up();
        assert.deepEqual(Object.keys(changesOf(up.summary.resourceChanges ?? {})).sort(), ["delete"], JSON.stringify(up.summary.resourceChanges));
        await Promise.all(istiods.r1.map((istiod) => istiod.stop()));
        for (const [i, cluster] of CLUSTERS.entries()) {
            await waitFor(`${cluster}: istiod-r1 and its pod gone`, 30, () => {
                kubelets[i].finishTerminatingPods();
                return isGone(admin(cluster), ["deployment", "istiod-r1", "-n", "istio-system"]) || undefined;
            });
            assert.ok(isGone(admin(cluster), ["mutatingwebhookconfiguration", "istio-sidecar-injector-r1"]));
            const r1Objects = ["deployments", "services", "configmaps", "mutatingwebhookconfigurations", "validatingwebhookconfigurations"].flatMap((kind) =>
                getJson(admin(cluster), [kind, "--all-namespaces", "-l", "istio.io/rev=r1"]).items.map((o: any) => `${kind} ${o.metadata.name}`),
            );
            assert.deepEqual(r1Objects, [], `${cluster}: objects of r1 left`);
            const clusters: any[] = await istiods.r2[i].debug("clusterz");
            assert.equal(clusters.find((c) => c.id === CLUSTERS[1 - i])?.syncStatus, "synced");
        }
    });

    it("pulumi destroy leaves nothing behind", async () => {
        await Promise.all(istiods.r2.map((istiod) => istiod.stop()));
        kubelets.forEach((kubelet) => kubelet.deregisterNode());
        await project.stack.destroy();
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o) && !LEFT_BY_ISTIOD.test(o));
            assert.deepEqual(left, [], `${cluster}: left behind`);
        }
    });
});
