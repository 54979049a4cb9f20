/**
 * The fault suite: what goes wrong mid-run for an operator — the CLI killed at several points of
 * `pulumi up`, an API server lost during `up` and during `destroy`, objects deleted and edited by hand —
 * against the real engine and two real API servers (started by faults.sh). After each fault, the
 * recovery docs/operations.md gives ("When a run is interrupted") must converge to exactly the objects of an
 * undisturbed run, with a state that matches them, and `pulumi destroy` must then leave nothing.
 * Faults are chosen with FAULTS (comma-separated names; all by default).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as yaml from "js-yaml";
import { admin, apiServer, CLUSTERS, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { everyObject, getJson, inventory, isGone, mustKubectl } from "./kube";
import { CliResult, EngineEvent, Interruption, killCli, killTree, PulumiCli, RUN_PULUMI, stillRunning, urnOf } from "./pulumiCli";
import { ProjectStack } from "./projectStack";

const STACK = "faults";
/** Objects that change with every API server start (its identity lease), whatever the program does. */
const restartNoise = (key: string) => key.startsWith("leases.coordination.k8s.io kube-system/apiserver-");

type Inventory = Record<string, [string, number][]>;

/** What the program made in each cluster: the inventory now, less what was there before the first `up`. */
function madeByTheRun(before: Record<string, Map<string, number>>): Inventory {
    return Object.fromEntries(
        CLUSTERS.map((cluster) => {
            const now = inventory(everyObject(admin(cluster)));
            const added = [...now]
                .map(([key, count]): [string, number] => [key, count - (before[cluster].get(key) ?? 0)])
                .filter(([key, count]) => count !== 0 && !restartNoise(key))
                .sort(([a], [b]) => a.localeCompare(b));
            return [cluster, added];
        }),
    );
}

const objectCount = (made: Inventory) => CLUSTERS.map((c) => made[c].reduce((sum, [, n]) => sum + n, 0)).join(" + ");

/** The state has no pending operation, no URN twice, and every Kubernetes object it holds exists in its cluster. */
function assertStateMatchesClusters(state: any): void {
    const deployment = state.deployment;
    assert.deepEqual(deployment.pending_operations ?? [], [], "pending operations in the state");
    const urns = deployment.resources.map((r: any) => r.urn);
    assert.equal(new Set(urns).size, urns.length, "a URN twice in the state");
    const listed = Object.fromEntries(CLUSTERS.map((c) => [c, new Set(everyObject(admin(c)).map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`))]));
    for (const resource of deployment.resources) {
        const kind = resource.outputs?.kind;
        if (!resource.custom || !resource.type.startsWith("kubernetes:") || !kind || resource.type.endsWith("Patch")) {
            continue;
        }
        const cluster = /::(cluster\d+)-k8s(?:-served-by-[^:]+)?::/.exec(resource.provider ?? "")?.[1];
        assert.ok(cluster, `${resource.urn}: no cluster provider`);
        const { namespace, name } = resource.outputs.metadata;
        assert.ok(listed[cluster].has(`${kind} ${namespace ?? ""}/${name}`), `${resource.urn} is in the state but not in ${cluster}`);
    }
}

/** The mesh ID istiod of a cluster is configured with (its mesh config). */
const meshIdIn = (cluster: string) => (yaml.load(getJson(admin(cluster), ["configmap", "istio", "-n", "istio-system"]).data.mesh) as any).defaultConfig.meshId;

const controlPlane = (command: "stop-apiserver" | "start-apiserver", cluster: string) =>
    execFileSync("bash", ["test/e2e/controlplane/controlplane.sh", command, path.join(work, cluster)], { stdio: "inherit" });

/** The first event about a resource whose URN matches. */
const onResource = (pattern: RegExp) => (event: EngineEvent | undefined) => pattern.test(urnOf(event) ?? "");

interface Row {
    fault: string;
    recovery: string;
    convergeSeconds: number;
    objectsAfterFault: string;
    objectsAfterRecovery: string;
    survivors: number;
}

describe("recovery from faults", { concurrency: 1 }, () => {
    const selected = process.env.FAULTS ? new Set(process.env.FAULTS.split(",")) : undefined;
    const fault = (name: string, body: () => Promise<void>) => it(name, { skip: selected && !selected.has(name) }, body);
    const rows: Row[] = [];
    const beforeUp: Record<string, Map<string, number>> = {};
    let project: ProjectStack;
    let cli: PulumiCli;
    const writeMeshId = (meshId: string) => project.writeConfig(stackConfig(meshId));
    let reference: Inventory;
    let undisturbedUpSeconds: number;

    /**
     * docs/operations.md, "When a run is interrupted": a killed CLI leaves the stack locked (`pulumi cancel` removes
     * the lock once no pulumi process runs), then clear what it left pending and run `pulumi up`.
     */
    const recover = async (): Promise<{ seconds: number; commands: string }> => {
        const started = Date.now();
        const commands: string[] = [];
        const refresh = ["refresh", "--clear-pending-creates", "--yes", "--skip-preview"];
        let refreshed = await cli.run(refresh);
        if (refreshed.code !== 0 && /currently locked/.test(refreshed.output)) {
            await cli.mustRun(["cancel", "--yes"]);
            commands.push("pulumi cancel");
            refreshed = await cli.run(refresh);
        }
        assert.equal(refreshed.code, 0, refreshed.output.slice(-3000));
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        commands.push("pulumi refresh --clear-pending-creates", "pulumi up");
        return { seconds: (Date.now() - started) / 1000, commands: commands.join("; ") };
    };

    const assertConverged = () => {
        assert.deepEqual(madeByTheRun(beforeUp), reference, "objects after recovery differ from an undisturbed run's");
        assertStateMatchesClusters(JSON.parse(project.exportState()));
    };

    const assertNothingLeft = () => {
        for (const [cluster, left] of Object.entries(madeByTheRun(beforeUp))) {
            assert.deepEqual(left, [], `${cluster}: left after destroy`);
        }
    };

    /** A `pulumi up` struck by `interruption`, the recovery, the comparison, and a destroy that must leave nothing. */
    const interruptedUp = async (name: string, interruption: Interruption) => {
        const struck = await cli.run(["up", "--yes", "--skip-preview"], interruption);
        assert.ok(struck.struckAt !== undefined, `the fault never struck; pulumi up exited ${struck.code}\n${struck.output.slice(-2000)}`);
        // What the CLI had started and still runs once it is gone: plugins finishing what they were doing.
        const survivors = struck.descendantsAtStrike.filter(stillRunning);
        const afterFault = objectCount(madeByTheRun(beforeUp));
        const { seconds, commands } = await recover();
        assertConverged();
        rows.push({ fault: name, recovery: commands, convergeSeconds: seconds, objectsAfterFault: afterFault, objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)), survivors: survivors.length });
        await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    };

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/faults.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = inventory(everyObject(admin(cluster)));
        }
        project = await ProjectStack.create(STACK, projectDir);
        project.writeConfig(stackConfig("mesh1"));
        cli = new PulumiCli(STACK, projectDir, work);
        undisturbedUpSeconds = (await cli.mustRun(["up", "--yes", "--skip-preview"])).seconds;
        reference = madeByTheRun(beforeUp);
        assertStateMatchesClusters(JSON.parse(project.exportState()));
        await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    });

    after(() => {
        console.log(`undisturbed pulumi up: ${undisturbedUpSeconds?.toFixed(1)} s; objects made: ${reference ? objectCount(reference) : "?"}`);
        console.log("| fault | recovery | converged in | objects after fault | after recovery | plugins outliving the CLI |");
        for (const r of rows) {
            console.log(`| ${r.fault} | ${r.recovery} | ${r.convergeSeconds.toFixed(1)} s | ${r.objectsAfterFault} | ${r.objectsAfterRecovery} | ${r.survivors} |`);
        }
    });

    fault("cli-killed-before-first-resource", () => interruptedUp("CLI killed before the first resource", { at: (e) => Boolean(e?.preludeEvent), strike: killCli }));
    fault("cli-killed-during-base", () => interruptedUp("CLI killed during base", { at: onResource(/istio-base/), strike: killCli }));
    fault("cli-killed-during-istiod", () => interruptedUp("CLI killed during istiod", { at: onResource(/::cluster\d-istiod($|:)/), strike: killCli }));
    fault("group-killed-during-istiod", () => interruptedUp("CLI and plugins killed during istiod", { at: onResource(/::cluster\d-istiod($|:)/), strike: killTree }));
    fault("cli-killed-during-remote-secrets", () => interruptedUp("CLI killed during the remote secrets", { at: onResource(/core\/v1:Secret::cluster\d-to-cluster\d-/), strike: killCli }));
    fault("group-killed-at-random", () => {
        const at = 2 + Math.random() * (undisturbedUpSeconds - 2);
        return interruptedUp(`CLI and plugins killed at ${at.toFixed(1)} s (random)`, { at: (_, t) => t >= at, strike: killTree });
    });

    // The npm scripts' way (scripts/run-pulumi.sh): the state written once, at the end, so a killed `up` recorded
    // nothing; the script then refuses a destroy and an `up` of another config, and lets an `up` of the same
    // config take over what the killed run created.
    fault("group-killed-under-the-npm-scripts", async () => {
        const scripts = new PulumiCli(STACK, projectDir, work, { command: RUN_PULUMI });
        const resources = () => JSON.parse(project.exportState()).deployment.resources ?? [];
        const recordedBefore = resources().length;
        const struck = await scripts.run(["up", "--yes", "--skip-preview"], { at: onResource(/::cluster\d-istiod($|:)/), strike: killTree });
        assert.ok(struck.struckAt !== undefined, `the fault never struck; the up exited ${struck.code}\n${struck.output.slice(-2000)}`);
        const afterFault = objectCount(madeByTheRun(beforeUp));
        assert.equal(resources().length, recordedBefore, "the killed up recorded resources: the state was written before the end");
        await scripts.mustRun(["cancel", "--yes"]);
        const destroy = await scripts.run(["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 1, destroy.output.slice(-2000));
        writeMeshId("mesh2");
        const changed = await scripts.run(["up", "--yes", "--skip-preview"]);
        writeMeshId("mesh1");
        assert.equal(changed.code, 1, changed.output.slice(-2000));
        assert.equal(objectCount(madeByTheRun(beforeUp)), afterFault, "a refused command changed the clusters");

        const started = Date.now();
        await scripts.mustRun(["up", "--yes", "--skip-preview"]);
        const seconds = (Date.now() - started) / 1000;
        assertConverged();
        rows.push({
            fault: "CLI and plugins killed during istiod, under the npm scripts",
            recovery: "pulumi cancel; destroy and an up of another config refused; up",
            convergeSeconds: seconds,
            objectsAfterFault: afterFault,
            objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)),
            survivors: 0,
        });
        await scripts.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    });

    fault("apiserver-lost-during-up", async () => {
        const struck = await cli.run(["up", "--yes", "--skip-preview"], { at: onResource(/::cluster2-istiod($|:)/), strike: () => controlPlane("stop-apiserver", "cluster2") });
        assert.ok(struck.struckAt !== undefined, `the fault never struck\n${struck.output.slice(-2000)}`);
        controlPlane("start-apiserver", "cluster2");
        assert.notEqual(struck.code, 0, "pulumi up succeeded without cluster2's API server");
        const afterFault = objectCount(madeByTheRun(beforeUp));
        const { seconds, commands } = await recover();
        assertConverged();
        rows.push({ fault: "cluster2's API server lost during up", recovery: `API server back; ${commands}`, convergeSeconds: seconds, objectsAfterFault: afterFault, objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)), survivors: 0 });
        await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    });

    fault("apiserver-lost-during-destroy", async () => {
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        const deletingInCluster2 = (e: EngineEvent | undefined) => e?.resourcePreEvent?.metadata?.op === "delete" && /::cluster2-/.test(urnOf(e) ?? "");
        const struck = await cli.run(["destroy", "--yes", "--skip-preview"], { at: deletingInCluster2, strike: () => controlPlane("stop-apiserver", "cluster2") });
        assert.ok(struck.struckAt !== undefined, `the fault never struck\n${struck.output.slice(-2000)}`);
        controlPlane("start-apiserver", "cluster2");
        assert.notEqual(struck.code, 0, "pulumi destroy succeeded without cluster2's API server");
        const afterFault = objectCount(madeByTheRun(beforeUp));
        const again = await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
        rows.push({ fault: "cluster2's API server lost during destroy", recovery: "API server back; pulumi destroy", convergeSeconds: again.seconds, objectsAfterFault: afterFault, objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)), survivors: 0 });
    });

    fault("drift", async () => {
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        const cacerts = () => getJson(admin("cluster2"), ["secret", "cacerts", "-n", "istio-system"]);
        const cacertsBefore = cacerts();
        mustKubectl(admin("cluster1"), ["delete", "secret", "istio-remote-secret-cluster2", "-n", "istio-system"]);
        const edited = { data: { "ca-cert.pem": Buffer.from("edited by hand").toString("base64") } };
        mustKubectl(admin("cluster2"), ["patch", "secret", "cacerts", "-n", "istio-system", "--type=merge", "-p", JSON.stringify(edited)]);
        mustKubectl(admin("cluster1"), ["delete", "gateways.networking.istio.io", "cross-network-gateway", "-n", "istio-system"]);
        mustKubectl(admin("cluster2"), ["delete", "crd", "wasmplugins.extensions.istio.io", "--wait=true"]);
        const afterFault = objectCount(madeByTheRun(beforeUp));

        // What a pull-request review runs: a plain preview must show the drift.
        const preview = await cli.run(["preview", "--json"]);
        assert.equal(preview.code, 0, preview.output.slice(-2000));
        const steps = JSON.parse(preview.stdout).steps.filter((s: any) => s.op !== "same" && s.op !== "refresh");
        const changed = (pattern: RegExp) => steps.filter((s: any) => pattern.test(s.urn)).map((s: any) => s.op);
        const all = JSON.stringify(steps.map((s: any) => [s.op, s.urn]));
        // istio-remote-secret-cluster2 in cluster1 is the pair cluster2 → cluster1.
        assert.deepEqual(changed(/::cluster2-to-cluster1-remote-secret$/), ["create"], `the deleted remote secret: ${all}`);
        assert.deepEqual(changed(/::cluster2-cacerts$/), ["update"], `the edited cacerts: ${all}`);
        assert.deepEqual(changed(/::cluster1-cross-network-gateway$/), ["create"], `the deleted Gateway: ${all}`);
        assert.deepEqual(changed(/::cluster2-istio-crds$/), ["update"], `the deleted CRD: ${all}`);

        const started = Date.now();
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        const seconds = (Date.now() - started) / 1000;
        assertConverged();
        assert.deepEqual(cacerts().data, cacertsBefore.data, "cacerts is not what the program wrote");
        assert.equal(cacerts().metadata.uid, cacertsBefore.metadata.uid, "cacerts was replaced, not updated in place");
        assert.ok(!isGone(admin("cluster2"), ["crd", "wasmplugins.extensions.istio.io"]), "the deleted CRD is back");
        rows.push({ fault: "remote secret, Gateway and a CRD deleted, cacerts edited", recovery: "pulumi up", convergeSeconds: seconds, objectsAfterFault: afterFault, objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)), survivors: 0 });
        await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    });

    fault("unreachable-cluster", async () => {
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        controlPlane("stop-apiserver", "cluster2");
        let preview: CliResult | undefined;
        let up: CliResult | undefined;
        try {
            preview = await cli.run(["preview"]);
            // A mesh-wide change with one cluster down must not leave the mesh split.
            writeMeshId("mesh2");
            up = await cli.run(["up", "--yes", "--skip-preview"]);
        } finally {
            controlPlane("start-apiserver", "cluster2");
        }
        for (const result of [preview!, up!]) {
            // Named either by the program's own probe (with the address) or, on a stack with state, by the
            // refresh that precedes it (on one of cluster2's resources).
            assert.match(result.output, /cluster2/);
            const probe = result.output.includes(apiServer("cluster2")) && /connection refused/.test(result.output);
            assert.ok(probe || /unreachable cluster/.test(result.output), `the unreachable cluster and why are not named:\n${result.output.slice(-2000)}`);
        }
        assert.notEqual(up!.code, 0);
        assert.equal(meshIdIn("cluster1"), "mesh1", "cluster1 changed while cluster2 was down: the mesh is split");
        const started = Date.now();
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        const seconds = (Date.now() - started) / 1000;
        assert.deepEqual(CLUSTERS.map(meshIdIn), ["mesh2", "mesh2"]);
        rows.push({ fault: "meshId change with cluster2's API server down", recovery: "API server back; pulumi up", convergeSeconds: seconds, objectsAfterFault: "-", objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)), survivors: 0 });
        writeMeshId("mesh1");
        await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
    });

    // Last: cluster3 is left as a deleted cluster leaves nothing to clean, its objects in it and its API server down.
    fault("cluster-removed", async () => {
        const withCluster3 = [...CLUSTERS, "cluster3"];
        project.writeConfig(stackConfig("mesh1", undefined, withCluster3));
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        controlPlane("stop-apiserver", "cluster3");

        // README "A cluster is unreachable", for good: name it gone and drop its objects, then remove its entry.
        const started = Date.now();
        const gone = stackConfig("mesh1", undefined, withCluster3) as { clusters: Record<string, unknown>[] };
        project.writeConfig({ ...gone, clusters: gone.clusters.map((c) => (c.name === "cluster3" ? { ...c, gone: true } : c)) });
        await cli.mustRun(["up", "--yes", "--skip-preview", "--refresh=false"]);
        project.writeConfig(stackConfig("mesh1"));
        await cli.mustRun(["up", "--yes", "--skip-preview"]);
        const seconds = (Date.now() - started) / 1000;
        const preview = await cli.run(["preview", "--expect-no-changes"]);
        assert.equal(preview.code, 0, `the preview after the removal is not empty:\n${preview.output.slice(-3000)}`);
        const providers = JSON.parse(project.exportState()).deployment.resources.filter((r: any) => r.type === "pulumi:providers:kubernetes");
        assert.deepEqual(
            providers.map((p: any) => [p.urn.split("::").pop(), p.inputs.deleteUnreachable]).sort(),
            [
                ["cluster1-k8s", "false"],
                ["cluster2-k8s", "false"],
            ],
        );
        assertConverged();

        // A transient outage afterwards: a plain destroy must stop, and forget nothing of that cluster.
        const cluster2State = (state: any) => state.deployment.resources.filter((r: any) => /::cluster2-k8s::/.test(r.provider ?? "")).map((r: any) => r.urn);
        const inState = cluster2State(JSON.parse(project.exportState()));
        const cacerts = () => getJson(admin("cluster2"), ["secret", "cacerts", "-n", "istio-system"]).metadata.uid;
        const cacertsUid = cacerts();
        controlPlane("stop-apiserver", "cluster2");
        let destroy: CliResult;
        try {
            destroy = await cli.run(["destroy", "--yes", "--skip-preview"]);
        } finally {
            controlPlane("start-apiserver", "cluster2");
        }
        assert.notEqual(destroy.code, 0, `pulumi destroy succeeded without cluster2's API server:\n${destroy.output.slice(-2000)}`);
        assert.match(destroy.output, /unreachable cluster|cluster is unreachable/, "the failure does not say why");
        assert.deepEqual(cluster2State(JSON.parse(project.exportState())), inState, "cluster2's objects left the state");
        assert.deepEqual(madeByTheRun(beforeUp).cluster2, reference.cluster2, "cluster2's objects are not all there");
        assert.equal(cacerts(), cacertsUid);
        assertStateMatchesClusters(JSON.parse(project.exportState()));
        const afterFault = objectCount(madeByTheRun(beforeUp));

        const again = await cli.mustRun(["destroy", "--yes", "--skip-preview"]);
        assertNothingLeft();
        rows.push({
            fault: "cluster3 deleted; later destroy with cluster2's API server down",
            recovery: "gone: true, pulumi up --refresh=false; entry removed, pulumi up | destroy failed; API server back; pulumi destroy",
            convergeSeconds: seconds + again.seconds,
            objectsAfterFault: afterFault,
            objectsAfterRecovery: objectCount(madeByTheRun(beforeUp)),
            survivors: 0,
        });
    });
});
