import assert from "node:assert/strict";
import * as fs from "node:fs";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { notAfterOf } from "../components/meshTrust";
import {
    caExpiryWarnings,
    generatedIntermediateWarning,
    rootWarning,
    rootWarningHours,
    suppliedIntermediateWarning,
} from "../stacks/caExpiry";
import { defaultRenewBeforeHours, parseStackConfig, rotatesReaderTokensInPlace, StackConfigInput } from "../stacks/config";
import { deployMesh } from "../stacks/mesh";
import { FAKE_INTERMEDIATE_NOT_AFTER, fakeState, fakeToken } from "./harness/fakeCluster";
import { RecordedResource, runWithMocks } from "./harness/mockRuntime";
import { PRIMARY_TWO_REMOTES_TWO_NETWORKS, TWO_CLUSTERS_ONE_NETWORK } from "./harness/scenarios";

const HOUR = 3_600_000;
const byName = (resources: RecordedResource[], name: string) => {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `no resource named ${name}`);
    return found;
};

async function deploy(raw: StackConfigInput) {
    const { config } = parseStackConfig(raw as Record<string, unknown>);
    return runWithMocks(() => deployMesh(config), fakeState);
}

describe("the intermediates' renewal window", () => {
    it("is the last third of the lifetime by default, and never under 48 hours", () => {
        assert.equal(defaultRenewBeforeHours(8760), 2920);
        assert.equal(defaultRenewBeforeHours(720), 240);
        assert.equal(defaultRenewBeforeHours(100), 48);
        const { config } = parseStackConfig(TWO_CLUSTERS_ONE_NETWORK as Record<string, unknown>);
        assert.deepEqual(config.ca, { type: "generated", organization: "Istio multicluster mesh", validityHours: 8760, renewBeforeHours: 2920, rootGeneration: 0, rotation: undefined });
        const short = parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, ca: { validityHours: 72 } } as Record<string, unknown>).config;
        assert.equal(short.ca.type === "generated" && short.ca.renewBeforeHours, 48);
        const set = parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, ca: { validityHours: 720, renewBeforeHours: 400 } } as Record<string, unknown>).config;
        assert.equal(set.ca.type === "generated" && set.ca.renewBeforeHours, 400);
    });

    it("is what the tls provider renews each generated intermediate by; the root is never renewed by it", async () => {
        const raw = { ...TWO_CLUSTERS_ONE_NETWORK, ca: { validityHours: 720, renewBeforeHours: 400 } };
        const { resources } = await deploy(raw);
        for (const cluster of ["east", "west"]) {
            const cert = byName(resources, `mesh-trust-${cluster}-ca-cert`);
            assert.equal(cert.inputs.validityPeriodHours, 720);
            assert.equal(cert.inputs.earlyRenewalHours, 400);
            assert.equal(cert.inputs.isCaCertificate, true);
            // `maxPathLength: 0` would write no path length at all (Go's x509 needs MaxPathLenZero), so none is set.
            assert.equal(cert.inputs.maxPathLength, undefined);
        }
        const root = byName(resources, "mesh-trust-root-cert");
        assert.equal(root.inputs.earlyRenewalHours, undefined, "renewing the root would be a root rotation");
    });

    it("records each intermediate's end on its cacerts, where the next preview reads it", async () => {
        const { resources } = await deploy(TWO_CLUSTERS_ONE_NETWORK);
        for (const cluster of ["east", "west"]) {
            const cacerts = byName(resources, `${cluster}-cacerts`);
            assert.equal(cacerts.inputs.metadata.annotations["istio-multicluster.pulumi.com/ca-cert-not-after"], FAKE_INTERMEDIATE_NOT_AFTER);
            assert.equal(cacerts.inputs.metadata.annotations["istio-multicluster.pulumi.com/stack"], "istio-multicluster/test");
        }
    });

    it("updates cacerts one cluster at a time, in the order the planes are installed", async () => {
        for (const [raw, order] of [
            [TWO_CLUSTERS_ONE_NETWORK, ["east", "west"]],
            [PRIMARY_TWO_REMOTES_TWO_NETWORKS, ["hub", "spoke1", "spoke2"]],
        ] as const) {
            const { resources } = await deploy(raw);
            const cacerts = order.map((cluster) => byName(resources, `${cluster}-cacerts`));
            const others = (r: RecordedResource) => r.dependencies.filter((d) => d.endsWith("-cacerts"));
            assert.deepEqual(others(cacerts[0]), [], `${order[0]}'s cacerts waits for no other`);
            for (let k = 1; k < order.length; k++) {
                assert.deepEqual(others(cacerts[k]), [cacerts[k - 1].urn], `${order[k]}'s cacerts waits for ${order[k - 1]}'s`);
            }
        }
    });
});

describe("warnings of CA certificates near their end", () => {
    const notAfter = "2027-12-01T00:00:00Z";
    const end = Date.parse(notAfter);

    it("names the cluster, the certificate and the days left of a generated intermediate in its window", () => {
        assert.equal(generatedIntermediateWarning("east", notAfter, 2920, new Date(end - 2921 * HOUR)), undefined);
        assert.equal(
            generatedIntermediateWarning("east", notAfter, 2920, new Date(end - 300 * HOUR)),
            "cluster east: its intermediate CA (mesh-trust-east-ca-cert, in istio-system/cacerts) expires on 2027-12-01T00:00:00Z, in 12.5 days, " +
                "within its renewal window (ca.renewBeforeHours: 2920): this `pulumi up` issues a new intermediate under the same root and updates cacerts in place, one cluster at a time",
        );
        assert.match(generatedIntermediateWarning("east", notAfter, 48, new Date(end + 36 * HOUR))!, /expired on 2027-12-01T00:00:00Z, 1\.5 days ago/);
    });

    it("warns of the clusters whose recorded end is in the window, and of no other", () => {
        const { config } = parseStackConfig(TWO_CLUSTERS_ONE_NETWORK as Record<string, unknown>);
        const now = new Date(end - 1000 * HOUR);
        const warnings = caExpiryWarnings(config, { east: notAfter, west: "2028-06-01T00:00:00Z" }, now);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /^cluster east: /);
        assert.deepEqual(caExpiryWarnings(config, {}, now), [], "a cacerts without the annotation (or none yet) gives no warning");
    });

    it("warns of a supplied intermediate, which the program cannot renew, and of the supplied root", () => {
        const pem = fs.readFileSync("test/fixtures/tls/ca.crt", "utf8");
        const cert = new X509Certificate(pem);
        const validTo = Date.parse(cert.validTo);
        const lifetimeHours = (validTo - Date.parse(cert.validFrom)) / HOUR;
        assert.equal(notAfterOf(pem), new Date(validTo).toISOString().replace(/\.000Z$/, "Z"));
        // Its window is its last third unless ca.renewBeforeHours says otherwise.
        assert.equal(suppliedIntermediateWarning("east", pem, undefined, new Date(validTo - (lifetimeHours / 3 + 1) * HOUR)), undefined);
        const warning = suppliedIntermediateWarning("east", pem, undefined, new Date(validTo - 240 * HOUR));
        assert.match(warning!, /^cluster east: its supplied intermediate CA \(ca\.intermediates\.east\) expires on .*, in 10\.0 days, within its renewal window/);
        assert.match(warning!, /set a new intermediate from the same root \(ca\.rootCert\) in ca\.intermediates\.east/);
        assert.equal(suppliedIntermediateWarning("east", pem, 100, new Date(validTo - 240 * HOUR)), undefined, "ca.renewBeforeHours narrows it");

        const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        const raw = { ...TWO_CLUSTERS_ONE_NETWORK, ca: { rootCert: pem, intermediates: { east: { cert: pem, key }, west: { cert: pem, key } } } };
        const provided = parseStackConfig(raw as Record<string, unknown>, new Set(["ca"])).config;
        const warnings = caExpiryWarnings(provided, {}, new Date(validTo - 240 * HOUR));
        assert.equal(warnings.length, 3);
        assert.match(warnings[2], /^the supplied root CA \(ca\.rootCert\) expires on .*, in 10\.0 days; no `pulumi up` renews a root/);
    });

    it("says when a supplied certificate cannot be read instead of staying silent", () => {
        assert.match(suppliedIntermediateWarning("east", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", undefined, new Date())!, /is not checked/);
    });

    it("warns of the generated root from the year before its end, or once a new intermediate would outlive it", () => {
        const { config } = parseStackConfig(TWO_CLUSTERS_ONE_NETWORK as Record<string, unknown>);
        assert.equal(rootWarningHours(config.ca), 8760);
        const long = parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, ca: { validityHours: 20000 } } as Record<string, unknown>).config;
        assert.equal(rootWarningHours(long.ca), 20000);
        assert.equal(rootWarning(notAfter, 8760, false, new Date(end - 8761 * HOUR)), undefined);
        assert.match(rootWarning(notAfter, 8760, false, new Date(end - 240 * HOUR))!, /^the mesh's generated root CA \(mesh-trust-root-cert\) expires on 2027-12-01T00:00:00Z, in 10\.0 days/);
    });

    it("logs the generated root's warning from the program through Pulumi's log", async (t) => {
        const warn = t.mock.method(pulumi.log, "warn", () => undefined);
        // The fake root ends in 2036: no warning; 9 years of intermediates would outlive it: a warning.
        await deploy(TWO_CLUSTERS_ONE_NETWORK);
        assert.equal(warn.mock.callCount(), 0);
        await deploy({ ...TWO_CLUSTERS_ONE_NETWORK, ca: { validityHours: 24 * 365 * 15 } });
        assert.equal(warn.mock.callCount(), 1);
        assert.match(String(warn.mock.calls[0].arguments[0]), /^the mesh's generated root CA \(mesh-trust-root-cert\) expires on 2036-12-01T00:00:00Z/);
    });
});

describe("reader-token rotation", () => {
    it("is refused below Istio 1.30.4, and allowed from it, on later versions and on charts built from source (1.0.0)", () => {
        for (const version of ["1.29.9", "1.30.0", "1.30.3", "1.30.4-rc.0", "0.9.0"]) {
            assert.equal(rotatesReaderTokensInPlace(version), false, version);
        }
        for (const version of ["1.30.4", "1.30.10", "1.31.0-alpha.1", "1.31.1", "2.0.0", "1.0.0"]) {
            assert.equal(rotatesReaderTokensInPlace(version), true, version);
        }
        // Generation 0 (never rotated) is fine on any version.
        assert.doesNotThrow(() => parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, istio: { version: "1.29.2" } } as Record<string, unknown>));
        assert.doesNotThrow(() => parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, istio: { version: "1.0.0" }, remoteSecrets: { tokenGeneration: 3 } } as Record<string, unknown>));
    });

    it("makes a new token Secret under the same resource, and updates the same remote secret in place with it", async () => {
        const before = (await deploy(TWO_CLUSTERS_ONE_NETWORK)).resources;
        const after = (await deploy({ ...TWO_CLUSTERS_ONE_NETWORK, remoteSecrets: { tokenGeneration: 2 } })).resources;
        for (const [source, target] of [["east", "west"], ["west", "east"]]) {
            const oldToken = byName(before, `${source}-to-${target}-reader-token`);
            const newToken = byName(after, `${source}-to-${target}-reader-token`);
            assert.equal(newToken.urn, oldToken.urn, "the same resource, so the engine replaces it (create first) rather than adding one");
            assert.equal(oldToken.inputs.metadata.name, `istio-reader-token-for-${target}`);
            assert.equal(newToken.inputs.metadata.name, `istio-reader-token-for-${target}-2`, "a new name: the new token exists beside the old one");
            assert.deepEqual(newToken.inputs.metadata.annotations, oldToken.inputs.metadata.annotations);
            assert.equal(newToken.inputs.type, "kubernetes.io/service-account-token");

            const oldSecret = byName(before, `${source}-to-${target}-remote-secret`);
            const newSecret = byName(after, `${source}-to-${target}-remote-secret`);
            assert.equal(newSecret.urn, oldSecret.urn);
            assert.deepEqual(newSecret.inputs.metadata, oldSecret.inputs.metadata, "same Secret: updated in place, never deleted and recreated");
            assert.deepEqual(Object.keys(newSecret.inputs.stringData), [source], "same key");
            assert.ok(newSecret.secretInputs.has("stringData"));
            assert.ok(newSecret.dependencies.includes(newToken.urn), "the remote secret takes the new token's data");
            const token = (yaml.load(newSecret.inputs.stringData[source]) as any).users[0].user.token;
            assert.equal(token, fakeToken(source, `istio-reader-token-for-${target}-2`));
        }
    });
});
