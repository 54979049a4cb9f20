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
import { getJson, kubectl, mustKubectl, mustRun, Stack } from "./pulumiCli";

const work = process.env.E2E_WORK!;
const CLUSTERS = ["cluster1", "cluster2"] as const;
const admin = (cluster: string) => path.join(work, cluster, "admin.kubeconfig");
const READER = "system:serviceaccount:istio-system:istio-reader-service-account";

function stackConfig(meshId: string): Record<string, unknown> {
    return {
        meshId,
        clusters: CLUSTERS.map((name, i) => ({ name, network: `network${i + 1}`, kubeconfig: admin(name) })),
        istio: { version: "1.30.4", chartRepo: "test/charts" },
        workloads: { awaitReady: false },
        verify: { enabled: false },
    };
}

const notFound = (cluster: string, args: string[]) => {
    const result = kubectl(admin(cluster), ["get", ...args]);
    return result.status !== 0 && /NotFound|not found/.test(result.stderr);
};

describe("the program against two API servers", { concurrency: 1 }, () => {
    const stack = new Stack("e2e", work);
    let destroyed = false;

    before(() => {
        assert.ok(work && fs.existsSync(admin("cluster1")), "run this through test/e2e/run.sh");
        stack.init();
        stack.writeConfig(stackConfig("mesh1"));
    });

    after(() => {
        if (!destroyed) {
            stack.pulumi(["destroy", "--yes"]);
        }
    });

    it("pulumi up of two clusters on two networks succeeds", () => {
        const up = stack.mustPulumi(["up", "--yes"]);
        assert.match(up.stdout, /Resources:\s*\n\s*\+ \d+ created/);
    });

    it("puts every object the program owns into the right API server", () => {
        for (const [i, cluster] of CLUSTERS.entries()) {
            const network = `network${i + 1}`;
            const other = CLUSTERS[1 - i];
            const istioSystem = getJson(admin(cluster), ["namespace", "istio-system"]);
            assert.equal(istioSystem.metadata.labels["topology.istio.io/network"], network);
            const cacerts = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]);
            assert.deepEqual(Object.keys(cacerts.data).sort(), ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);

            const releases = getJson(admin(cluster), ["secrets", "-n", "istio-system", "-l", "owner=helm"]).items.map((s: any) => s.metadata.labels.name);
            assert.deepEqual(releases.sort(), ["istio-base", "istio-eastwestgateway", "istiod"]);
            const meshConfig = getJson(admin(cluster), ["configmap", "istio", "-n", "istio-system"]).data;
            assert.equal(meshConfig.clusterName, cluster);
            assert.equal(meshConfig.network, network);
            assert.match(meshConfig.mesh, /meshId: "mesh1"/);

            const gatewayService = getJson(admin(cluster), ["service", "istio-eastwestgateway", "-n", "istio-system"]);
            assert.equal(gatewayService.metadata.labels["topology.istio.io/network"], network);
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

    it("delivers cacerts that chain to one root in both clusters (openssl verify)", () => {
        const roots = new Set<string>();
        for (const cluster of CLUSTERS) {
            const data = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data;
            const dir = fs.mkdtempSync(path.join(work, `cacerts-${cluster}-`));
            for (const [file, value] of Object.entries(data)) {
                fs.writeFileSync(path.join(dir, file), Buffer.from(value as string, "base64"), { mode: 0o600 });
            }
            roots.add(fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8"));
            const verify = mustRun("openssl", ["verify", "-CAfile", path.join(dir, "root-cert.pem"), path.join(dir, "ca-cert.pem")]);
            assert.match(verify.stdout, /: OK/);
            const isCa = mustRun("openssl", ["x509", "-in", path.join(dir, "ca-cert.pem"), "-noout", "-ext", "basicConstraints,keyUsage"]).stdout;
            assert.match(isCa, /CA:TRUE/);
            assert.match(isCa, /Certificate Sign/);
            const certKey = mustRun("openssl", ["x509", "-in", path.join(dir, "ca-cert.pem"), "-noout", "-pubkey"]).stdout;
            const keyKey = mustRun("openssl", ["pkey", "-in", path.join(dir, "ca-key.pem"), "-pubout"]).stdout;
            assert.equal(keyKey, certKey, "ca-key.pem is the key of ca-cert.pem");
            const chain = fs.readFileSync(path.join(dir, "cert-chain.pem"), "utf8");
            assert.ok(chain.endsWith(fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8")));
            fs.rmSync(dir, { recursive: true });
        }
        assert.equal(roots.size, 1, "both clusters trust the same root");
    });

    it("keeps private keys, tokens and kubeconfigs out of the exported state in plain text", () => {
        const state = stack.exportState();
        const secrets: string[] = [];
        for (const cluster of CLUSTERS) {
            const other = CLUSTERS.find((c) => c !== cluster)!;
            const cacerts = getJson(admin(cluster), ["secret", "cacerts", "-n", "istio-system"]).data;
            secrets.push(Buffer.from(cacerts["ca-key.pem"], "base64").toString().split("\n")[1]);
            secrets.push(Buffer.from(getJson(admin(cluster), ["secret", `istio-reader-token-for-${other}`, "-n", "istio-system"]).data.token, "base64").toString());
            const adminConfig = yaml.load(fs.readFileSync(admin(cluster), "utf8")) as any;
            secrets.push(adminConfig.users[0].user["client-key-data"]);
        }
        assert.ok(secrets.every((s) => s && s.length > 20));
        for (const secret of secrets) {
            assert.ok(!state.includes(secret), "a secret value appears in plain text");
            assert.ok(!state.includes(Buffer.from(secret).toString("base64").slice(0, 40)), "a secret value appears base64-encoded");
        }
        assert.doesNotMatch(state, /PRIVATE KEY-----/);
        assert.match(state, /"secure":|"ciphertext"/, "secrets are in the state, encrypted");
    });

    it("previews no changes right after up", () => {
        stack.mustPulumi(["preview", "--expect-no-changes"]);
    });

    it("previews and applies a mesh ID change as an update of the istiod releases only", () => {
        stack.writeConfig(stackConfig("mesh2"));
        const preview = stack.mustPulumi(["preview", "--diff"]);
        assert.match(preview.stdout, /meshID\s*:\s*"mesh1" => "mesh2"/);
        assert.match(preview.stdout, /~ 2 to update/);
        assert.doesNotMatch(preview.stdout, /to (create|delete|replace)/);
        stack.mustPulumi(["up", "--yes"]);
        for (const cluster of CLUSTERS) {
            assert.match(getJson(admin(cluster), ["configmap", "istio", "-n", "istio-system"]).data.mesh, /meshId: "mesh2"/);
        }
        stack.mustPulumi(["preview", "--expect-no-changes"]);
    });

    it("pulumi destroy leaves none of the program's objects in either API server", () => {
        stack.mustPulumi(["destroy", "--yes"]);
        destroyed = true;
        for (const cluster of CLUSTERS) {
            assert.ok(notFound(cluster, ["namespace", "istio-system"]), `${cluster}: istio-system still there`);
            assert.ok(notFound(cluster, ["namespace", "sample"]), `${cluster}: sample still there`);
            assert.ok(notFound(cluster, ["crd", "gateways.networking.istio.io"]), `${cluster}: Gateway CRD still there`);
            assert.ok(notFound(cluster, ["clusterrole", "istio-reader-clusterrole-istio-system"]), `${cluster}: reader role still there`);
            assert.ok(notFound(cluster, ["clusterrolebinding", "istio-reader-clusterrole-istio-system"]), `${cluster}: reader binding still there`);
            const helmSecrets = getJson(admin(cluster), ["secrets", "--all-namespaces", "-l", "owner=helm"]).items;
            assert.deepEqual(helmSecrets, []);
        }
    });

    it("stops an invalid config at preview with the validation message, creating nothing", () => {
        const invalid = new Stack("e2e-invalid", work);
        invalid.init();
        const valid = stackConfig("mesh1");
        invalid.writeConfig({ ...valid, clusters: (valid.clusters as unknown[]).slice(0, 1) });
        const preview = invalid.pulumi(["preview"]);
        assert.notEqual(preview.status, 0);
        assert.match(preview.stdout + preview.stderr, /Invalid stack config \(1 problem\):\n\s+- clusters: got \[/);
        const up = invalid.pulumi(["up", "--yes"]);
        assert.notEqual(up.status, 0);
        const resources = JSON.parse(invalid.exportState()).deployment.resources ?? [];
        assert.deepEqual(resources.filter((r: any) => r.type !== "pulumi:pulumi:Stack"), []);
        for (const cluster of CLUSTERS) {
            assert.ok(notFound(cluster, ["namespace", "istio-system"]));
        }
    });
});
