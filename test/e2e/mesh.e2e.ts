/**
 * The real program on the real Pulumi engine against two real API servers (started by run.sh; no
 * kubelet, so workloads never run and the traffic verification is off). Steps run in order and share
 * the stack.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as yaml from "js-yaml";
import { withProviderPerSet } from "./crdSetProviders";
import { admin, apiServer, CLUSTERS, inHarness, projectDir, stackConfig, work } from "./e2eStack";
import { allObjects, getJson, isGone, kubectl, mustKubectl, mustRun, run, waitFor } from "./kube";
import { HELLOWORLD, sampleClusterz, syncVolumes } from "./istiodWatch";
import { LocalMesh, logTail } from "./localMesh";
import { ProjectStack } from "./projectStack";
import { rootRotationSteps } from "./rootRotation";

const READER = "system:serviceaccount:istio-system:istio-reader-service-account";
/**
 * What istiod writes into every namespace it manages (all but kube-public and kube-node-lease) and
 * nothing removes where the namespace outlives the mesh (docs/operations.md: Destroy).
 */
const LEFT_BY_ISTIOD = ["default", "kube-system"].flatMap((ns) => [`configmaps ${ns}/istio-ca-crl`, `configmaps ${ns}/istio-ca-root-cert`]);

interface SuppliedCa {
    rootCert: string;
    intermediates: Record<string, { cert: string; key: string }>;
}

/** A root CA and one intermediate per cluster, made with openssl, as a site's own PKI would supply them. */
function makeCa(): SuppliedCa {
    return JSON.parse(mustRun("bash", ["test/e2e/make-ca.sh", ...CLUSTERS]).stdout);
}

/**
 * Checks each cluster's `cacerts` with openssl: the intermediate chains to `rootCert`, is a CA that
 * signs certificates, matches its key, and cert-chain.pem is the intermediate then the root.
 */
function assertCacertsChainTo(rootCert: string): void {
    for (const cluster of CLUSTERS) {
        const data = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data;
        const dir = fs.mkdtempSync(path.join(work, `cacerts-${cluster}-`));
        const file = (name: string) => path.join(dir, name);
        for (const [name, value] of Object.entries(data)) {
            fs.writeFileSync(file(name), Buffer.from(value as string, "base64"), { mode: 0o600 });
        }
        assert.equal(fs.readFileSync(file("root-cert.pem"), "utf8").trimEnd(), rootCert.trimEnd(), `${cluster}: root-cert.pem`);
        assert.match(mustRun("openssl", ["verify", "-CAfile", file("root-cert.pem"), file("ca-cert.pem")]).stdout, /: OK/);
        const extensions = mustRun("openssl", ["x509", "-in", file("ca-cert.pem"), "-noout", "-ext", "basicConstraints,keyUsage"]).stdout;
        assert.match(extensions, /CA:TRUE/);
        assert.match(extensions, /Certificate Sign/);
        const certKey = mustRun("openssl", ["x509", "-in", file("ca-cert.pem"), "-noout", "-pubkey"]).stdout;
        assert.equal(mustRun("openssl", ["pkey", "-in", file("ca-key.pem"), "-pubout"]).stdout, certKey, "ca-key.pem is ca-cert.pem's key");
        const chain = fs.readFileSync(file("cert-chain.pem"), "utf8");
        assert.equal(chain, `${fs.readFileSync(file("ca-cert.pem"), "utf8").trimEnd()}\n${rootCert.trimEnd()}\n`);
        fs.rmSync(dir, { recursive: true });
    }
}

/**
 * The test stack's own settings on top of the shared config: intermediates of 72 hours, so that their
 * renewal window (the 48-hour minimum) is reached by moving their recorded end 42 hours closer; the
 * reader-token rotation adds its generation here, and the root rotation its `ca`, which every later
 * config keeps.
 */
const settings: Record<string, unknown> = { ca: { validityHours: 72 } };
const meshConfig = (meshId: string) => ({ ...stackConfig(meshId), ...settings });

/** The changes of an update, whatever else the engine counts beside them (same, create-replacement, ...): none other. */
function assertChanges(changes: Record<string, number> | undefined, expected: Record<string, number>): void {
    for (const [op, count] of Object.entries(changes ?? {})) {
        if (["create", "delete", "update", "replace"].includes(op)) {
            assert.equal(count, expected[op] ?? 0, `${op}: ${JSON.stringify(changes)}`);
        }
    }
    for (const [op, count] of Object.entries(expected)) {
        assert.equal(changes?.[op], count, `${op}: ${JSON.stringify(changes)}`);
    }
}

/** RFC 3339 without fractions, as the tls provider writes `validityEndTime`. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** 40 characters of the base64 encoding of `secret` at each of the three byte alignments it can have inside a larger value. */
function base64Forms(secret: string): string[] {
    return [0, 1, 2].map((offset) => Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]).toString("base64").slice(4, 44));
}

describe("the program against two API servers", { concurrency: 1 }, () => {
    let project: ProjectStack;
    let rootCert: string;
    let destroyed = false;
    const beforeUp: Record<string, Set<string>> = {};

    /** Every object of both API servers against the snapshot taken before the first `up`. */
    const assertNothingLeftBehind = () => {
        for (const cluster of CLUSTERS) {
            const left = [...allObjects(admin(cluster))].filter((o) => !beforeUp[cluster].has(o)).sort();
            assert.deepEqual(left, LEFT_BY_ISTIOD, `${cluster}: objects the run left behind`);
        }
    };

    before(async () => {
        assert.ok(inHarness(), "run this through test/e2e/run.sh");
        for (const cluster of CLUSTERS) {
            beforeUp[cluster] = allObjects(admin(cluster));
        }
        project = await ProjectStack.create("e2e", projectDir);
        project.writeConfig(meshConfig("mesh1"));
    });

    after(async () => {
        if (!destroyed) {
            await project.stack.destroy().catch(() => undefined);
        }
    });

    it("pulumi up of two clusters on two networks succeeds", async () => {
        const up = await project.stack.up();
        assert.equal(up.summary.result, "succeeded");
        assert.ok((up.summary.resourceChanges?.create ?? 0) >= 30, JSON.stringify(up.summary.resourceChanges));
        assert.deepEqual(up.outputs.meshId.value, "mesh1");
        rootCert = up.outputs.rootCert.value;
    });

    it("puts every object the program owns into the right API server", () => {
        for (const [i, cluster] of CLUSTERS.entries()) {
            const network = `network${i + 1}`;
            const other = CLUSTERS[1 - i];
            const istioSystem = getJson(admin(cluster), ["namespace", "istio-system"]);
            assert.equal(istioSystem.metadata.labels["topology.istio.io/network"], network);
            const cacerts = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]);
            assert.deepEqual(Object.keys(cacerts.data).sort(), ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);

            // istiod and the gateway are one Pulumi resource per object: no Helm release that an interrupted run could orphan.
            const releases = getJson(admin(cluster), ["secrets", "-n", "istio-system", "-l", "owner=helm"]).items.map((s: any) => s.metadata.name);
            assert.deepEqual(releases, []);
            const istioCrds = getJson(admin(cluster), ["crd"]).items.filter((c: any) => c.spec.group.endsWith("istio.io"));
            assert.ok(istioCrds.length >= 14, `${cluster}: ${istioCrds.length} Istio CRDs from the base chart`);
            assert.equal(getJson(admin(cluster), ["serviceaccount", "istio-reader-service-account", "-n", "istio-system"]).metadata.name, "istio-reader-service-account");
            const meshConfig = yaml.load(getJson(admin(cluster), ["configmap", "istio", "-n", "istio-system"]).data.mesh) as any;
            assert.equal(meshConfig.defaultConfig.meshId, "mesh1");
            assert.equal(meshConfig.trustDomain, "cluster.local");
            const discovery = getJson(admin(cluster), ["deployment", "istiod", "-n", "istio-system"]).spec.template.spec.containers[0];
            const env = Object.fromEntries(discovery.env.map((e: any) => [e.name, e.value]));
            assert.equal(env.CLUSTER_ID, cluster);

            const gatewayService = getJson(admin(cluster), ["service", "istio-eastwestgateway", "-n", "istio-system"]);
            assert.equal(gatewayService.metadata.labels["topology.istio.io/network"], network);
            assert.equal(gatewayService.spec.type, "LoadBalancer");
            assert.deepEqual(gatewayService.spec.ports.map((p: any) => p.port), [15021, 15443, 15012, 15017]);
            const gateway = getJson(admin(cluster), ["gateways.networking.istio.io", "cross-network-gateway", "-n", "istio-system"]);
            assert.equal(gateway.spec.servers[0].tls.mode, "AUTO_PASSTHROUGH");

            const token = getJson(admin(cluster), ["secret", `istio-reader-token-for-${other}`, "-n", "istio-system"]);
            assert.equal(token.type, "kubernetes.io/service-account-token");
            assert.ok(token.data.token, "the token controller filled in the token");
            const remote = getJson(admin(cluster), ["secret", `istio-remote-secret-${other}`, "-n", "istio-system"]);
            assert.equal(remote.metadata.labels["istio/multiCluster"], "true");
            assert.equal(remote.metadata.annotations["networking.istio.io/cluster"], other);
            assert.deepEqual(Object.keys(remote.data), [other]);

            assert.equal(getJson(admin(cluster), ["namespace", "sample"]).metadata.labels["istio-injection"], "enabled");
            const deployments = getJson(admin(cluster), ["deployments", "-n", "sample"]).items.map((d: any) => d.metadata.name);
            assert.deepEqual(deployments.sort(), ["curl", i === 0 ? "helloworld-v1" : "helloworld-v2"]);
            getJson(admin(cluster), ["service", "helloworld", "-n", "sample"]);
        }
    });

    it("gives each cluster a remote secret that reads the other cluster as the Istio reader, and nothing more", () => {
        for (const [i, target] of CLUSTERS.entries()) {
            const source = CLUSTERS[1 - i];
            const remote = getJson(admin(target), ["secret", `istio-remote-secret-${source}`, "-n", "istio-system"]);
            const kubeconfigFile = path.join(work, `remote-${source}-in-${target}.kubeconfig`);
            fs.writeFileSync(kubeconfigFile, Buffer.from(remote.data[source], "base64"), { mode: 0o600 });
            const sourceServer = (yaml.load(fs.readFileSync(admin(source), "utf8")) as any).clusters[0].cluster.server;
            assert.equal((yaml.load(fs.readFileSync(kubeconfigFile, "utf8")) as any).clusters[0].cluster.server, sourceServer);

            const whoami = JSON.parse(mustKubectl(kubeconfigFile, ["auth", "whoami", "-o", "json"]));
            assert.equal(whoami.status.userInfo.username, READER);
            for (const resource of ["services", "endpointslices.discovery.k8s.io", "pods"]) {
                mustKubectl(kubeconfigFile, ["get", resource, "--all-namespaces"]);
            }
            mustKubectl(kubeconfigFile, ["get", "namespaces"]);

            const refused = [
                ["create", "secret", "generic", "e2e-intruder", "-n", "default", "--from-literal=a=b"],
                ["delete", "service", "kubernetes", "-n", "default"],
                ["label", "namespace", "default", "e2e=intruder"],
            ];
            for (const args of refused) {
                const result = kubectl(kubeconfigFile, args);
                assert.notEqual(result.status, 0, `${args.join(" ")} was allowed`);
                assert.match(result.stderr, /forbidden/i, args.join(" "));
            }
            fs.rmSync(kubeconfigFile);
        }
    });

    it("delivers cacerts that chain to the one generated root in both clusters (openssl verify)", () => {
        assert.match(rootCert, /^-----BEGIN CERTIFICATE-----/);
        const subject = mustRun("openssl", ["x509", "-noout", "-subject", "-ext", "basicConstraints"], rootCert).stdout;
        assert.match(subject, /CN ?= ?Root CA/);
        assert.match(subject, /CA:TRUE/);
        assertCacertsChainTo(rootCert);
    });

    it("keeps private keys, tokens and kubeconfigs out of the exported state in plain text", async () => {
        const state = project.exportState();
        const secrets: Record<string, string> = {};
        for (const cluster of CLUSTERS) {
            const other = CLUSTERS.find((c) => c !== cluster)!;
            const caKey = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data["ca-key.pem"];
            secrets[`${cluster} intermediate CA key`] = Buffer.from(caKey, "base64").toString().split("\n")[1];
            const token = getJson(admin(cluster), ["secret", `istio-reader-token-for-${other}`, "-n", "istio-system"]).data.token;
            secrets[`${cluster} reader token`] = Buffer.from(token, "base64").toString();
            const adminKey = (yaml.load(fs.readFileSync(admin(cluster), "utf8")) as any).users[0].user["client-key-data"];
            secrets[`${cluster} admin kubeconfig client-key-data`] = adminKey;
            secrets[`${cluster} admin client key`] = Buffer.from(adminKey, "base64").toString().split("\n")[1];
        }
        for (const [what, secret] of Object.entries(secrets)) {
            assert.ok(secret.length > 60, `${what} is long enough to search for`);
            assert.ok(!state.includes(secret.slice(0, 40)), `${what} appears in plain text`);
            for (const encoded of base64Forms(secret)) {
                assert.ok(!state.includes(encoded), `${what} appears base64-encoded`);
            }
        }
        assert.doesNotMatch(state, /PRIVATE KEY-----/);
        assert.match(state, /"ciphertext"/, "the secrets are in the state, encrypted");
    });

    it("previews no changes right after up", async () => {
        await project.stack.preview({ expectNoChanges: true });
    });

    it("moves CRD sets from a provider each (the set's first release) to the one they share, without replacing them or touching the CRDs", async () => {
        const crdUids = () =>
            CLUSTERS.map((cluster) =>
                getJson(admin(cluster), ["crd"])
                    .items.filter((crd: any) => crd.metadata.name.endsWith("istio.io"))
                    .map((crd: any) => `${crd.metadata.name}=${crd.metadata.uid}`)
                    .sort(),
            );
        const before = crdUids();
        const { state, providers } = withProviderPerSet(project.exportState());
        assert.deepEqual([...providers].sort(), ["cluster1-istio-crds-provider", "cluster2-istio-crds-provider"]);
        project.importState(state);
        const preview = await project.stack.preview({ diff: true });
        assertChanges(preview.changeSummary, { delete: 2 }); // the providers; the sets keep their id and inputs
        const up = await project.stack.up();
        assertChanges(up.summary.resourceChanges, { delete: 2 });
        assert.deepEqual(crdUids(), before);
        await project.stack.preview({ expectNoChanges: true });
    });

    it("istioctl create-remote-secret makes the same Secret as the program, token and CA aside", () => {
        for (const [i, source] of CLUSTERS.entries()) {
            const target = CLUSTERS[1 - i];
            const output = mustRun("istioctl", ["create-remote-secret", "--kubeconfig", admin(source), "--name", source, "--server", apiServer(source)]).stdout;
            const made = yaml.loadAll(output).find((doc: any) => doc?.kind === "Secret") as any;
            const ours = getJson(admin(target), ["secret", `istio-remote-secret-${source}`, "-n", "istio-system"]);
            assert.equal(ours.metadata.name, made.metadata.name);
            assert.deepEqual(ours.metadata.labels, made.metadata.labels);
            // The program's one addition tells its provider to undo edits by hand (components/ownership.ts).
            const { "pulumi.com/patchForce": force, ...annotations } = ours.metadata.annotations;
            assert.equal(force, "true");
            assert.deepEqual(annotations, made.metadata.annotations);
            assert.deepEqual(Object.keys(ours.data), Object.keys(made.stringData));
            const shape = (kubeconfig: any) => {
                const user = kubeconfig.users[0];
                return {
                    ...kubeconfig,
                    clusters: kubeconfig.clusters.map((c: any) => ({ ...c, cluster: { ...c.cluster, "certificate-authority-data": "<ca>" } })),
                    users: [{ ...user, user: { ...user.user, token: "<token>" } }],
                };
            };
            assert.deepEqual(
                shape(yaml.load(Buffer.from(ours.data[source], "base64").toString())),
                shape(yaml.load(made.stringData[source])),
            );
        }
    });

    describe("a real istiod per cluster, configured from its Deployment", { concurrency: 1 }, () => {
        const mesh = new LocalMesh(CLUSTERS, admin, work);
        const { istiods } = mesh;

        before(() => mesh.start());
        after(() => mesh.stop());

        it("each istiod becomes ready and serves the mesh root from cacerts, not a self-signed one", async () => {
            await mesh.waitReady(60);
            for (const cluster of CLUSTERS) {
                const served = await waitFor(`${cluster}: istio-ca-root-cert in sample`, 30, () => {
                    const configMap = kubectl(admin(cluster), ["get", "configmap", "istio-ca-root-cert", "-n", "sample", "-o", "json"]);
                    return configMap.status === 0 ? JSON.parse(configMap.stdout).data["root-cert.pem"] : undefined;
                });
                assert.equal(served.trimEnd(), rootCert.trimEnd(), `${cluster}: istiod's root is the mesh root`);
            }
        });

        it("each istiod reads the other cluster through its remote secret and reports it synced", async () => {
            await mesh.waitAllSynced(60);
            for (const [i, istiod] of istiods.entries()) {
                const other = CLUSTERS[1 - i];
                const clusters: any[] = await istiod.debug("clusterz");
                assert.equal(clusters.find((c) => c.id === other).secretName, `istio-system/istio-remote-secret-${other}`);
            }
        });

        it("istiod's injection webhook admits the test app's and the gateway's pods, with a sidecar", async () => {
            await mesh.admitWorkloads(["sample/helloworld-", "sample/curl-", "istio-system/istio-eastwestgateway-"], 90);
            for (const cluster of CLUSTERS) {
                const helloworld = getJson(admin(cluster), ["pods", "-n", "sample", "-l", "app=helloworld"]).items[0];
                assert.ok(helloworld.spec.containers.some((c: any) => c.name === "istio-proxy"), `${cluster}: helloworld has no sidecar`);
            }
        });

        it("each istiod holds the other cluster's helloworld endpoints on that cluster's network, behind its east-west gateway on 15443", async () => {
            for (const [i, istiod] of istiods.entries()) {
                const other = CLUSTERS[1 - i];
                const otherNetwork = `network${2 - i}`;
                const otherPodIp = getJson(admin(other), ["pods", "-n", "sample", "-l", "app=helloworld"]).items[0].status.podIP;
                const endpoints = await mesh.endpointsOf(i, HELLOWORLD, "sample", other, 60);
                for (const endpoint of endpoints) {
                    assert.deepEqual(endpoint.Addresses, [otherPodIp]);
                    assert.equal(endpoint.Network, otherNetwork);
                }
                const gateways: any[] = await waitFor(`${istiod.cluster} knows ${otherNetwork}'s gateway`, 60, async () => {
                    const all: any[] = await istiod.debug("networkz");
                    return all.some((g) => g.Network === otherNetwork) ? all : undefined;
                });
                const gateway = gateways.find((g) => g.Network === otherNetwork);
                assert.equal(gateway.Addr, LocalMesh.gatewayAddress(1 - i));
                assert.equal(gateway.Port, 15443);
            }
        });

        it("istioctl analyze finds no error in either cluster, with the workloads istiod admitted", () => {
            for (const cluster of CLUSTERS) {
                const analysis = run("istioctl", ["analyze", "--kubeconfig", admin(cluster), "--all-namespaces", "--output", "json"]);
                const messages = JSON.parse(analysis.stdout || "[]");
                const errors = messages.filter((m: any) => m.level === "Error");
                assert.deepEqual(errors, [], `${cluster}: ${analysis.stderr}`);
            }
        });

        it("previews no changes while istiod runs and owns what it patches (webhook failure policy and CA bundle)", async () => {
            for (const cluster of CLUSTERS) {
                const validator = getJson(admin(cluster), ["validatingwebhookconfiguration", "istiod-default-validator"]);
                assert.equal(validator.webhooks[0].failurePolicy, "Fail", `${cluster}: istiod has not taken over its webhook`);
            }
            await project.stack.preview({ expectNoChanges: true });
        });

        it("drops a cluster whose remote secret is deleted out of band, and takes it back at the next pulumi up, which refreshes first", async () => {
            const [istiod1] = istiods;
            mustKubectl(admin("cluster1"), ["delete", "secret", "istio-remote-secret-cluster2", "-n", "istio-system"]);
            await waitFor("cluster1 drops cluster2", 60, async () => {
                const clusters: any[] = await istiod1.debug("clusterz");
                return !clusters.some((c) => c.id === "cluster2");
            });
            // No --refresh: Pulumi.yaml has every preview and up refresh first.
            const up = await project.stack.up();
            assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
            await waitFor("cluster1 takes cluster2 back", 60, async () => {
                const clusters: any[] = await istiod1.debug("clusterz");
                return clusters.some((c) => c.id === "cluster2" && c.syncStatus === "synced");
            });
        });

        it("renews intermediates in their window with a plain pulumi up: in place, one cluster at a time, each istiod takes its new one without a restart, the root and the peers stay", async () => {
            // As if 42 of the intermediates' 72 hours had passed: their recorded end moves to 30 hours from
            // now, inside the 48-hour window, where the tls provider decides by (the state) and where the
            // preview warns by (the annotation on cacerts). Nothing else is touched.
            const soon = rfc3339(Date.now() + 30 * 3_600_000);
            const exported = JSON.parse(project.exportState());
            const certs = exported.deployment.resources.filter((r: any) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
            assert.equal(certs.length, 2);
            for (const cert of certs) {
                assert.equal(cert.outputs.earlyRenewalHours, 48);
                cert.outputs.validityEndTime = soon;
            }
            project.importState(JSON.stringify(exported));
            const before: Record<string, any> = {};
            for (const cluster of CLUSTERS) {
                mustKubectl(admin(cluster), ["annotate", "--overwrite", "secret", "cacerts", "-n", "istio-system", `istio-multicluster.pulumi.com/ca-cert-not-after=${soon}`]);
                before[cluster] = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data;
            }

            // The Automation API's stdout leaves out the diagnostics; the engine's events carry them.
            const warnings: string[] = [];
            const preview = await project.stack.preview({
                diff: true,
                onEvent: (event: any) => {
                    if (event.diagnosticEvent?.severity === "warning") {
                        warnings.push(event.diagnosticEvent.message);
                    }
                },
            });
            for (const cluster of CLUSTERS) {
                const warning = new RegExp(
                    `cluster ${cluster}: its intermediate CA \\(mesh-trust-${cluster}-ca-cert, in istio-system/cacerts\\) expires on ${soon}, in 1\\.[23] days, within its renewal window`,
                );
                assert.ok(warnings.some((w) => warning.test(w)), `no warning of ${cluster}'s intermediate among: ${JSON.stringify(warnings)}`);
            }
            assert.deepEqual(Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same")), { replace: 2, update: 2 });

            const pids = istiods.map((istiod) => istiod.pid);
            const sampler = sampleClusterz(istiods);
            const kubelet = syncVolumes(istiods);
            const events: { at: number; urn: string; kind: string }[] = [];
            const started = Date.now();
            let up;
            try {
                up = await project.stack.up({
                    onEvent: (event: any) => {
                        for (const kind of ["resourcePreEvent", "resOutputsEvent"]) {
                            const metadata = event[kind]?.metadata;
                            // Not the refresh before the update.
                            if (metadata !== undefined && metadata.op === "update") {
                                events.push({ at: Date.now(), urn: metadata.urn, kind });
                            }
                        }
                    },
                });
            } finally {
                // The new intermediates' files reach istiod within a second of their Secret's update.
                await new Promise((resolve) => setTimeout(resolve, 2000));
                kubelet.stop();
            }
            const upSeconds = (Date.now() - started) / 1000;
            assertChanges(up.summary.resourceChanges, { replace: 2, update: 2 });

            // One cluster at a time: cluster2's cacerts starts only once cluster1's is done.
            const at = (cluster: string, kind: string) => events.find((e) => e.urn.endsWith(`::${cluster}-cacerts`) && e.kind === kind)!.at;
            assert.ok(at("cluster2", "resourcePreEvent") >= at("cluster1", "resOutputsEvent"), JSON.stringify(events.filter((e) => e.urn.endsWith("-cacerts"))));

            const pickedUp: Record<string, number> = {};
            for (const [i, istiod] of istiods.entries()) {
                const cluster = istiod.cluster;
                await waitFor(`${cluster} istiod takes the new intermediate`, 30, () =>
                    fs.readFileSync(istiod.logFile, "utf8").includes("Istiod has detected the newly added intermediate CA and updated its key and certs accordingly") || undefined,
                () => logTail(istiod));
                pickedUp[cluster] = (kubelet.synced.get(`${cluster}/cacerts`) ?? NaN) - started;
                assert.equal(istiod.pid, pids[i], `${cluster}: istiod was not restarted`);
                assert.doesNotMatch(fs.readFileSync(istiod.logFile, "utf8"), /Multi root is disabled|Failed to update new Plug-in CA certs/);
                const after = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data;
                assert.notEqual(after["ca-cert.pem"], before[cluster]["ca-cert.pem"], `${cluster}: a new intermediate`);
                assert.equal(after["root-cert.pem"], before[cluster]["root-cert.pem"], `${cluster}: root-cert.pem byte for byte`);
                const served = getJson(admin(cluster), ["configmap", "istio-ca-root-cert", "-n", "sample"]).data["root-cert.pem"];
                assert.equal(served.trimEnd(), rootCert.trimEnd(), `${cluster}: the root istiod serves is unchanged`);
                const notAfter = Date.parse(mustRun("openssl", ["x509", "-noout", "-enddate"], Buffer.from(after["ca-cert.pem"], "base64").toString()).stdout.replace("notAfter=", ""));
                assert.ok(Math.abs(notAfter - (started + 72 * 3_600_000)) < 10 * 60_000, `${cluster}: the new intermediate lasts 72 hours from now`);
            }
            assertCacertsChainTo(rootCert);
            await mesh.waitAllSynced(30);
            const { samples, gaps, syncing } = await sampler.stop();
            assert.ok(samples >= 5, `${samples} samples`);
            assert.deepEqual(gaps, [], "every istiod listed its peer and held its endpoints in every sample during the renewal");
            assert.deepEqual(syncing, [], "every istiod reported its peer synced in every sample during the renewal");
            console.log(`# renewal: pulumi up ${upSeconds.toFixed(1)} s; cacerts files swapped at ${JSON.stringify(pickedUp)} ms after the start; ${samples} samples, peers synced in each`);
            await project.stack.preview({ expectNoChanges: true });
        });

        it("rotates every reader token on request: new token, remote secret updated in place, old token deleted and refused, the peers stay synced", async () => {
            const oldTokens: Record<string, string> = {};
            for (const [i, cluster] of CLUSTERS.entries()) {
                const token = getJson(admin(cluster), ["secret", `istio-reader-token-for-${CLUSTERS[1 - i]}`, "-n", "istio-system"]).data.token;
                oldTokens[cluster] = Buffer.from(token, "base64").toString();
            }
            const uids = CLUSTERS.map((cluster, i) => getJson(admin(cluster), ["secret", `istio-remote-secret-${CLUSTERS[1 - i]}`, "-n", "istio-system"]).metadata.uid);
            settings.remoteSecrets = { tokenGeneration: 1 };
            project.writeConfig(meshConfig("mesh1"));
            const preview = await project.stack.preview();
            assert.deepEqual(Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same")), { replace: 2, update: 2 });

            const sampler = sampleClusterz(istiods);
            const started = Date.now();
            const up = await project.stack.up();
            const upSeconds = (Date.now() - started) / 1000;
            assertChanges(up.summary.resourceChanges, { replace: 2, update: 2 });

            for (const [i, cluster] of CLUSTERS.entries()) {
                const target = CLUSTERS[1 - i];
                assert.ok(isGone(admin(cluster), ["secret", `istio-reader-token-for-${target}`, "-n", "istio-system"]), `${cluster}: the old token Secret is deleted`);
                const token = Buffer.from(getJson(admin(cluster), ["secret", `istio-reader-token-for-${target}-1`, "-n", "istio-system"]).data.token, "base64").toString();
                const remote = getJson(admin(target), ["secret", `istio-remote-secret-${cluster}`, "-n", "istio-system"]);
                assert.equal(remote.metadata.uid, uids[1 - i], `${target}: the remote secret was updated in place, not recreated`);
                const kubeconfig = yaml.load(Buffer.from(remote.data[cluster], "base64").toString()) as any;
                assert.equal(kubeconfig.users[0].user.token, token, `${target}: the remote secret holds the new token`);
                assert.notEqual(token, oldTokens[cluster]);

                // The old token, against the API server it was issued by: refused.
                const stale = path.join(work, `stale-${cluster}.kubeconfig`);
                fs.writeFileSync(stale, yaml.dump({ ...kubeconfig, users: [{ ...kubeconfig.users[0], user: { token: oldTokens[cluster] } }] }), { mode: 0o600 });
                await waitFor(`${cluster} refuses the old reader token`, 30, () => {
                    const whoami = kubectl(stale, ["auth", "whoami"]);
                    return whoami.status !== 0 && /Unauthorized/i.test(whoami.stderr) ? true : undefined;
                });
                fs.writeFileSync(stale.replace("stale-", "fresh-"), yaml.dump(kubeconfig), { mode: 0o600 });
                assert.equal(JSON.parse(mustKubectl(stale.replace("stale-", "fresh-"), ["auth", "whoami", "-o", "json"])).status.userInfo.username, READER);
                fs.rmSync(stale);
                fs.rmSync(stale.replace("stale-", "fresh-"));
            }
            await mesh.waitAllSynced(30);
            // A little longer than the sampling so far, for a client that would fail only once the old token is revoked.
            await new Promise((resolve) => setTimeout(resolve, 3000));
            const { samples, gaps, syncing } = await sampler.stop();
            assert.ok(samples >= 5, `${samples} samples`);
            assert.deepEqual(gaps, [], "every istiod listed its peer and held its endpoints in every sample during the rotation");
            for (const istiod of istiods) {
                const clusters: any[] = await istiod.debug("clusterz");
                assert.equal(clusters.find((c) => c.id !== istiod.cluster && c.id !== undefined)?.syncStatus, "synced");
            }
            console.log(
                `# reader-token rotation: pulumi up ${upSeconds.toFixed(1)} s; ${samples} samples, peers listed with endpoints in each; ` +
                `${syncing.length} samples with the new client still syncing (${syncing.slice(0, 4).join("; ")})`,
            );
            await project.stack.preview({ expectNoChanges: true });
        });

        rootRotationSteps(
            mesh,
            (ca) => {
                settings.ca = ca;
                project.writeConfig(meshConfig("mesh1"));
            },
            () => rootCert,
        );
    });

    it("previews and applies a mesh ID change as in-place updates of istiod's ConfigMaps only", async () => {
        project.writeConfig(meshConfig("mesh2"));
        const preview = await project.stack.preview({ diff: true });
        assert.match(preview.stdout, /meshID\s*:\s*"mesh1" => "mesh2"/);
        assert.deepEqual(
            Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same")),
            { update: 6 }, // per cluster: the mesh config (istio), the injector's values and the chart's values
        );
        const up = await project.stack.up();
        assert.equal(up.summary.resourceChanges?.update, 6);
        for (const cluster of CLUSTERS) {
            const meshConfig = yaml.load(getJson(admin(cluster), ["configmap", "istio", "-n", "istio-system"]).data.mesh) as any;
            assert.equal(meshConfig.defaultConfig.meshId, "mesh2");
        }
        await project.stack.preview({ expectNoChanges: true });
    });

    it("replaces the generated CA with a supplied one: the tls resources go, cacerts are updated in place", async () => {
        const supplied = makeCa();
        await project.stack.setConfig("istio-multicluster:ca", { value: JSON.stringify(supplied), secret: true });
        const preview = await project.stack.preview({ diff: true });
        assert.deepEqual(
            Object.fromEntries(Object.entries(preview.changeSummary).filter(([op]) => op !== "same")),
            { delete: 8, update: 2 }, // enableSecretMutable: the Secret is not deleted and created again
        );
        const up = await project.stack.up();
        assert.equal(up.outputs.rootCert.value, supplied.rootCert);
        assertCacertsChainTo(supplied.rootCert);
        await project.stack.preview({ expectNoChanges: true });
    });

    it("pulumi destroy leaves none of the program's objects in either API server", async () => {
        await project.stack.destroy();
        destroyed = true;
        assertNothingLeftBehind();
    });

    it("on one network, each istiod holds the other cluster's endpoints directly, with no gateway", async () => {
        const oneNetwork = await ProjectStack.create("e2e-one-network", projectDir);
        oneNetwork.writeConfig(stackConfig("mesh1", ["network1", "network1"]));
        const mesh = new LocalMesh(CLUSTERS, admin, work);
        try {
            await oneNetwork.stack.up();
            mesh.start();
            await mesh.waitReady(60);
            await mesh.waitAllSynced(60);
            await mesh.admitWorkloads(["sample/helloworld-", "sample/curl-"], 90);
            for (const [i, istiod] of mesh.istiods.entries()) {
                const other = CLUSTERS[1 - i];
                const otherPodIp = getJson(admin(other), ["pods", "-n", "sample", "-l", "app=helloworld"]).items[0].status.podIP;
                for (const endpoint of await mesh.endpointsOf(i, HELLOWORLD, "sample", other, 60)) {
                    assert.deepEqual(endpoint.Addresses, [otherPodIp]);
                    assert.equal(endpoint.Network, "network1");
                }
                // istiod answers null for an empty list.
                assert.deepEqual((await istiod.debug("networkz")) ?? [], [], `${istiod.cluster}: no network gateway on one network`);
            }
        } finally {
            await mesh.stop();
            await oneNetwork.stack.destroy();
        }
        assertNothingLeftBehind();
    });

    it("stops an invalid config at preview with the validation message, creating nothing", async () => {
        const invalid = await ProjectStack.create("e2e-invalid", projectDir);
        const valid = stackConfig("mesh1");
        invalid.writeConfig({ ...valid, clusters: (valid.clusters as unknown[]).slice(0, 1) });
        const expected = /Invalid stack config \(1 problem\):\s+- clusters: got \[/;
        await assert.rejects(invalid.stack.preview(), (err: Error) => expected.test(err.message));
        await assert.rejects(invalid.stack.up(), (err: Error) => expected.test(err.message));
        const resources = (await invalid.stack.exportStack()).deployment.resources ?? [];
        assert.deepEqual(resources.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
        for (const cluster of CLUSTERS) {
            assert.ok(isGone(admin(cluster), ["namespace", "istio-system"]));
        }
    });

    it("stops preview and up at a cacerts this stack did not write, creating nothing, until it is marked as the stack's", async () => {
        const site = await ProjectStack.create("e2e-site-ca", projectDir);
        site.writeConfig(stackConfig("mesh1"));
        mustKubectl(admin("cluster2"), ["create", "namespace", "istio-system"]);
        try {
            mustKubectl(admin("cluster2"), ["create", "secret", "generic", "cacerts", "-n", "istio-system", "--from-literal=ca-cert.pem=site CA"]);
            const expected = /An existing cacerts Secret would be overwritten; stopped before changing anything:\s+- cluster2: istio-system\/cacerts was written by not this program \(field managers: kubectl-create\)/;
            await assert.rejects(site.stack.preview(), (err: Error) => expected.test(err.message));
            let message = "";
            await assert.rejects(site.stack.up(), (err: Error) => ((message = err.message), expected.test(err.message)));
            const resources = (await site.stack.exportStack()).deployment.resources ?? [];
            assert.deepEqual(resources.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
            assert.ok(isGone(admin("cluster1"), ["namespace", "istio-system"]));
            // The remedy the message gives for a cacerts this stack wrote, run as given, lets preview through.
            const remedy = /kubectl annotate secret cacerts -n istio-system (\S+)/.exec(message);
            assert.ok(remedy, message);
            mustKubectl(admin("cluster2"), ["annotate", "secret", "cacerts", "-n", "istio-system", remedy[1]]);
            await site.stack.preview();
        } finally {
            mustKubectl(admin("cluster2"), ["delete", "namespace", "istio-system", "--wait=true"]);
        }
    });

    it("stops preview and up naming a cluster whose API server does not answer, creating nothing in the other", async () => {
        const unreachable = await ProjectStack.create("e2e-unreachable", projectDir);
        // cluster2's kubeconfig, pointing at a loopback port nothing listens on.
        const kubeconfig = yaml.load(fs.readFileSync(admin("cluster2"), "utf8")) as any;
        kubeconfig.clusters[0].cluster.server = "https://127.0.0.1:1";
        const file = path.join(work, "cluster2-unreachable.kubeconfig");
        fs.writeFileSync(file, yaml.dump(kubeconfig), { mode: 0o600 });
        const valid = stackConfig("mesh1") as { clusters: Record<string, unknown>[] };
        unreachable.writeConfig({ ...valid, clusters: [valid.clusters[0], { ...valid.clusters[1], kubeconfig: file }] });
        const expected = /Cannot reach the API server of 1 cluster; stopped before changing anything:\s+- cluster2 at https:\/\/127\.0\.0\.1:1: connection refused \(ECONNREFUSED\)/;
        await assert.rejects(unreachable.stack.preview(), (err: Error) => expected.test(err.message));
        await assert.rejects(unreachable.stack.up(), (err: Error) => expected.test(err.message));
        const resources = (await unreachable.stack.exportStack()).deployment.resources ?? [];
        assert.deepEqual(resources.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
        assert.ok(isGone(admin("cluster1"), ["namespace", "istio-system"]));
    });
});
