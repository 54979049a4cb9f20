/**
 * The root rotation of docs/credentials.md, phase by phase, against a real istiod per cluster: each
 * phase's `cacerts` reaches istiod as the kubelet delivers it, istiod takes it without a restart (its
 * log says so, its process is the same), serves the phase's roots as `istio-ca-root-cert`, and keeps
 * its peer synced throughout. Declared inside mesh.e2e.ts's istiod block, whose stack it continues.
 *
 * Each `pulumi up` here is the CLI's with `--refresh=false`: the rotation's checks read `cacerts`
 * themselves before any resource is registered, and the refresh (about 14 s a run, docs/benchmarks.md)
 * would only read every object back.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { it } from "node:test";
import { admin, CLUSTERS, projectDir, work } from "./e2eStack";
import { HELLOWORLD, sampleClusterz, syncVolumes } from "./istiodWatch";
import { getJson, kubectl, mustKubectl, run, waitFor } from "./kube";
import { LocalMesh, logTail } from "./localMesh";
import { EngineEvent, PulumiCli } from "./pulumiCli";

/** What istiod logs when it has taken new `cacerts` files, and, before that, when their root bundle changed. */
const TOOK_FILES = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly";
const TOOK_ROOTS = "Updating new ROOT-CA";
/** What it logs when it refuses them. */
const REFUSED = /Multi root is disabled|Updating new ROOT-CA not supported|Failed to update new Plug-in CA certs/;
const SINCE = "istio-multicluster.pulumi.com/root-rotation-since";
const HOUR_MS = 3_600_000;

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
const cacertsData = (cluster: string): Record<string, string> =>
    Object.fromEntries(Object.entries<string>(getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
const multiRootEnv = (cluster: string) =>
    getJson(admin(cluster), ["deployment", "istiod", "-n", "istio-system"]).spec.template.spec.containers[0].env.find((e: any) => e.name === "ISTIO_MULTIROOT_MESH")?.value;

/** Whether `cert` verifies against `root` alone, with openssl. */
function verifies(cert: string, root: string): boolean {
    const dir = fs.mkdtempSync(path.join(work, "verify-"));
    fs.writeFileSync(path.join(dir, "root.pem"), root);
    fs.writeFileSync(path.join(dir, "cert.pem"), cert);
    const ok = run("openssl", ["verify", "-CAfile", path.join(dir, "root.pem"), path.join(dir, "cert.pem")]).status === 0;
    fs.rmSync(dir, { recursive: true });
    return ok;
}

/** The resources an update changed, by operation, as the engine's event log names them. */
function changesOf(eventLog: string): Record<string, string[]> {
    const changes: Record<string, string[]> = {};
    for (const line of fs.readFileSync(eventLog, "utf8").split("\n").filter(Boolean)) {
        const metadata = (JSON.parse(line) as EngineEvent).resourcePreEvent?.metadata;
        if (metadata !== undefined && metadata.op !== "same" && metadata.type !== "pulumi:pulumi:Stack") {
            (changes[metadata.op] ??= []).push(metadata.urn.split("::").pop());
        }
    }
    return Object.fromEntries(Object.entries(changes).map(([op, names]) => [op, names.sort()]));
}

/**
 * The steps, for the stack `e2e` whose `ca` config `setCa` writes (keeping the test's other settings).
 * `generation0` is the root the stack was made with.
 */
export function rootRotationSteps(mesh: LocalMesh, setCa: (ca: Record<string, unknown>) => void, generation0: () => string): void {
    const cli = new PulumiCli("e2e", projectDir, work);
    const { istiods } = mesh;
    const ca = (rotation?: Record<string, unknown>, rootGeneration?: number) => ({ validityHours: 72, ...(rootGeneration ? { rootGeneration } : {}), ...(rotation ? { rootRotation: rotation } : {}) });
    let newRoot = "";

    async function up(): Promise<{ seconds: number; changes: Record<string, string[]> }> {
        const result = await cli.mustRun(["up", "--yes", "--skip-preview", "--refresh=false"]);
        return { seconds: result.seconds, changes: changesOf(result.eventLog!) };
    }

    /** As if `hours` had passed since the phase reached each cluster (recorded on its cacerts, where the program reads it). */
    function age(hours: number): void {
        const since = new Date(Date.now() - hours * HOUR_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
        for (const cluster of CLUSTERS) {
            mustKubectl(admin(cluster), ["annotate", "--overwrite", "secret", "cacerts", "-n", "istio-system", `${SINCE}=${since}`]);
        }
    }

    /**
     * One phase that only `cacerts` carries: the update changes both clusters' cacerts and nothing else;
     * each istiod, the same process, logs that it took the files (and a new root bundle when `rootsChange`),
     * refuses nothing, and serves `roots` as istio-ca-root-cert; the signing intermediate chains to
     * `signer` only; every sample of both istiods has the peer synced with its endpoints.
     */
    async function cacertsPhase(phase: string, expected: () => { roots: string; signer: string; other: string; rootsChange: boolean }): Promise<void> {
        setCa(ca({ phase }));
        const pids = istiods.map((istiod) => istiod.pid);
        const logFrom = istiods.map((istiod) => fs.statSync(istiod.logFile).size);
        const newLog = (i: number) => fs.readFileSync(istiods[i].logFile, "utf8").slice(logFrom[i]);
        const sampler = sampleClusterz(istiods);
        const kubelet = syncVolumes(istiods);
        const started = Date.now();
        let result;
        try {
            result = await up();
        } finally {
            // The files reach istiod within a second of their Secret's update.
            await new Promise((resolve) => setTimeout(resolve, 2000));
            kubelet.stop();
        }
        assert.deepEqual(result.changes, { update: ["cluster1-cacerts", "cluster2-cacerts"] }, phase);
        const { roots, signer, other, rootsChange } = expected();
        const tookAt: Record<string, number> = {};
        for (const [i, istiod] of istiods.entries()) {
            const cluster = istiod.cluster;
            await waitFor(`${cluster} istiod takes ${phase}`, 30, () => newLog(i).includes(TOOK_FILES) || undefined, () => logTail(istiod));
            tookAt[cluster] = (kubelet.synced.get(`${cluster}/cacerts`) ?? NaN) - started;
            assert.equal(istiod.pid, pids[i], `${cluster}: istiod was not restarted`);
            assert.equal(newLog(i).includes(TOOK_ROOTS), rootsChange, `${cluster}: ${JSON.stringify(TOOK_ROOTS)} logged`);
            assert.doesNotMatch(newLog(i), REFUSED);
            const files = cacertsData(cluster);
            assert.equal(files["root-cert.pem"], roots, `${cluster}: root-cert.pem`);
            assert.ok(verifies(files["ca-cert.pem"], signer) && !verifies(files["ca-cert.pem"], other), `${cluster}: the intermediate that signs`);
            assert.equal(files["cert-chain.pem"], `${files["ca-cert.pem"].trimEnd()}\n${signer.trimEnd()}\n`);
            await waitFor(`${cluster} serves ${phase}'s roots as istio-ca-root-cert`, 30, () => {
                const configMap = kubectl(admin(cluster), ["get", "configmap", "istio-ca-root-cert", "-n", "sample", "-o", "json"]);
                return configMap.status === 0 && JSON.parse(configMap.stdout).data["root-cert.pem"] === roots ? true : undefined;
            });
        }
        await mesh.waitAllSynced(30);
        const { samples, gaps, syncing } = await sampler.stop();
        assert.ok(samples >= 5, `${samples} samples`);
        assert.deepEqual(gaps, [], `every istiod listed its peer and held its endpoints in every sample of ${phase}`);
        assert.deepEqual(syncing, [], `every istiod reported its peer synced in every sample of ${phase}`);
        console.log(`# root rotation, ${phase}: pulumi up ${result.seconds.toFixed(1)} s; cacerts files swapped at ${JSON.stringify(tookAt)} ms after the start; ${samples} samples, peers synced in each`);
    }

    it("root rotation, prepare: the new root generated, ISTIO_MULTIROOT_MESH on each istiod, which restarts with it; cacerts' files unchanged", async () => {
        const before = CLUSTERS.map(cacertsData);
        setCa(ca({ phase: "prepare" }));
        const { seconds, changes } = await up();
        const generated = ["root-g1-key", "root-g1-cert", ...CLUSTERS.flatMap((c) => [`${c}-ca-g1-key`, `${c}-ca-g1-csr`, `${c}-ca-g1-cert`])];
        assert.deepEqual(changes.create, generated.map((n) => `mesh-trust-${n}`).sort());
        for (const cluster of CLUSTERS) {
            const deployment = changes.update.some((n) => n.startsWith(`${cluster}-istiod:`) && n.endsWith("istio-system/istiod"));
            assert.ok(changes.update.includes(`${cluster}-cacerts`) && deployment, JSON.stringify(changes));
            assert.equal(multiRootEnv(cluster), "true");
        }
        assert.deepEqual(Object.keys(changes).sort(), ["create", "update"]);
        assert.deepEqual(CLUSTERS.map(cacertsData), before, "cacerts' files, byte for byte");
        const restarted = Date.now();
        await mesh.restartIstiods();
        await mesh.waitReady(60);
        await mesh.waitAllSynced(60);
        for (const i of CLUSTERS.keys()) {
            await mesh.endpointsOf(i, HELLOWORLD, "sample", CLUSTERS[1 - i], 30);
        }
        console.log(`# root rotation, prepare: pulumi up ${seconds.toFixed(1)} s (${JSON.stringify(changes.update)} updated); istiods restarted and synced in ${((Date.now() - restarted) / 1000).toFixed(1)} s`);
    });

    it("root rotation, trust-both: each istiod takes both roots without a restart and serves them; the old intermediates still sign; the peers stay synced", async () => {
        await cacertsPhase("trust-both", () => {
            const blocks = pemBlocks(cacertsData("cluster1")["root-cert.pem"]);
            assert.equal(blocks.length, 2);
            assert.equal(blocks[0].trimEnd(), generation0().trimEnd(), "the old root first");
            newRoot = blocks[1];
            return { roots: `${generation0().trimEnd()}\n${newRoot.trimEnd()}\n`, signer: generation0(), other: newRoot, rootsChange: true };
        });
    });

    it("root rotation, sign-new: refused until ca.rootRotation.waitHours have passed; then each istiod signs with the new intermediate without a restart, root-cert.pem unchanged", async () => {
        setCa(ca({ phase: "sign-new" }));
        const refused = await cli.run(["preview", "--refresh=false"]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.output, /ca\.rootRotation\.phase: got "sign-new"; expected "trust-both" until \S+: "trust-both" reached cluster cluster1 at /);
        age(49);
        await cacertsPhase("sign-new", () => ({ roots: `${generation0().trimEnd()}\n${newRoot.trimEnd()}\n`, signer: newRoot, other: generation0(), rootsChange: false }));
    });

    it("root rotation, new-only: each istiod drops the old root without a restart and serves the new one alone; the peers stay synced", async () => {
        age(49);
        await cacertsPhase("new-only", () => ({ roots: newRoot, signer: newRoot, other: generation0(), rootsChange: true }));
    });

    it("root rotation, the end: ca.rootGeneration 1 without ca.rootRotation deletes the old root and its intermediates, turns ISTIO_MULTIROOT_MESH off, and leaves cacerts' files as they are", async () => {
        const before = CLUSTERS.map(cacertsData);
        setCa(ca(undefined, 1));
        const { seconds, changes } = await up();
        const old = ["root-key", "root-cert", ...CLUSTERS.flatMap((c) => [`${c}-ca-key`, `${c}-ca-csr`, `${c}-ca-cert`])];
        assert.deepEqual(changes.delete, old.map((n) => `mesh-trust-${n}`).sort());
        assert.deepEqual(Object.keys(changes).sort(), ["delete", "update"]);
        assert.deepEqual(CLUSTERS.map(cacertsData), before, "cacerts' files, byte for byte");
        for (const cluster of CLUSTERS) {
            assert.equal(multiRootEnv(cluster), undefined);
        }
        console.log(`# root rotation, the end: pulumi up ${seconds.toFixed(1)} s (${JSON.stringify(changes.update)} updated)`);
    });
}
