import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../stacks/config";
import { InstalledCacerts, requireRootRotationInOrder, rootRotationAnnotations, rootRotationProblems, rootRotationStatus } from "../stacks/rootRotation";
import { TWO_CLUSTERS_ONE_NETWORK } from "./harness/scenarios";

const NOW = new Date("2026-12-10T12:00:00Z");
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const PHASE = "istio-multicluster.pulumi.com/root-rotation";
const TO = "istio-multicluster.pulumi.com/root-rotation-to";
const SINCE = "istio-multicluster.pulumi.com/root-rotation-since";
const GENERATION = "istio-multicluster.pulumi.com/root-generation";

const configOf = (ca: Record<string, unknown>) => parseStackConfig({ ...TWO_CLUSTERS_ONE_NETWORK, ca } as Record<string, unknown>, new Set(["ca"])).config;
/** A generated CA in `phase` (none: no rotation), with root generation `generation`. */
const generated = (phase?: string, generation = 0, waitHours?: number) =>
    configOf({ rootGeneration: generation, ...(phase ? { rootRotation: { phase, ...(waitHours === undefined ? {} : { waitHours }) } } : {}) });
/** Both clusters' cacerts in `phase` of the rotation to generation 1, reached `hours` ago. */
const at = (phase: string, hours = 100): InstalledCacerts => {
    const annotations = { [PHASE]: phase, [TO]: "generation 1", [SINCE]: hoursAgo(hours) };
    return { east: annotations, west: annotations };
};

describe("which phase may follow the clusters'", () => {
    it("starts from a stack that never rotated with prepare only, and asks nothing of clusters not read or without cacerts yet", () => {
        const never: InstalledCacerts = { east: {}, west: {} };
        assert.deepEqual(rootRotationProblems(generated("prepare"), never, NOW), []);
        assert.deepEqual(rootRotationProblems(generated("trust-both"), never, NOW), [
            `ca.rootRotation.phase: got "trust-both"; expected ca.rootRotation removed, with the old root, or phase "prepare": cluster east's cacerts is at ca.rootRotation removed, with the old root, and a rotation moves one phase at a time, each in every cluster before the next (docs/credentials.md)`,
            `ca.rootRotation.phase: got "trust-both"; expected ca.rootRotation removed, with the old root, or phase "prepare": cluster west's cacerts is at ca.rootRotation removed, with the old root, and a rotation moves one phase at a time, each in every cluster before the next (docs/credentials.md)`,
        ]);
        assert.deepEqual(rootRotationProblems(generated("new-only"), {}, NOW), [], "kind clusters and clusters behind a proxy are not read");
        assert.deepEqual(rootRotationProblems(generated("new-only"), { east: null, west: null }, NOW), [], "a new cluster has nothing to keep");
    });

    it("moves one phase at a time, forward or back, and refuses a skip", () => {
        const order = ["prepare", "trust-both", "sign-new", "new-only"];
        for (const [i, installed] of order.entries()) {
            for (const [j, configured] of order.entries()) {
                const problems = rootRotationProblems(generated(configured), at(installed), NOW);
                assert.equal(problems.length, Math.abs(i - j) > 1 ? 2 : 0, `${installed} → ${configured}: ${problems}`);
            }
        }
        assert.match(rootRotationProblems(generated("new-only"), at("trust-both"), NOW)[0], /^ca\.rootRotation\.phase: got "new-only"; expected phase "prepare", or phase "trust-both", or phase "sign-new": cluster east's cacerts is at phase "trust-both"/);
    });

    it("waits ca.rootRotation.waitHours after trust-both and sign-new, from when the phase reached the last cluster", () => {
        const lateWest: InstalledCacerts = { east: at("trust-both", 100).east, west: { ...at("trust-both").west, [SINCE]: hoursAgo(10) } };
        assert.deepEqual(rootRotationProblems(generated("sign-new"), lateWest, NOW), [
            `ca.rootRotation.phase: got "sign-new"; expected "trust-both" until 2026-12-12T02:00:00Z: "trust-both" reached cluster west at 2026-12-10T02:00:00Z and stays ca.rootRotation.waitHours (48) in every cluster, so that every workload trusts the new root before any certificate is signed under it (a workload takes the new root with its next certificate, within the 24 hours a workload certificate lasts)`,
        ]);
        assert.match(rootRotationProblems(generated("new-only"), at("sign-new", 47), NOW)[0], /expected "sign-new" until .*no workload still uses a certificate from an old intermediate/);
        assert.deepEqual(rootRotationProblems(generated("new-only"), at("sign-new", 48), NOW), []);
        assert.deepEqual(rootRotationProblems(generated("sign-new", 0, 10), lateWest, NOW), [], "waitHours set lower");
        assert.deepEqual(rootRotationProblems(generated("trust-both"), at("prepare", 0), NOW), [], "prepare needs no wait");
        assert.deepEqual(rootRotationProblems(generated("trust-both"), at("sign-new", 0), NOW), [], "going back needs no wait");
        const unrecorded = { east: { [PHASE]: "trust-both", [TO]: "generation 1" }, west: at("trust-both").west };
        assert.match(rootRotationProblems(generated("sign-new"), unrecorded, NOW)[0], /^ca\.rootRotation\.phase: got "sign-new"; expected "trust-both" for now: when "trust-both" reached cluster east is not recorded/);
    });

    it("requires every cluster to be in a phase before the next: a cluster left behind by an interrupted up holds it back", () => {
        const halfway: InstalledCacerts = { east: at("sign-new").east, west: at("trust-both").west };
        assert.deepEqual(rootRotationProblems(generated("sign-new"), halfway, NOW), []);
        assert.deepEqual(rootRotationProblems(generated("trust-both"), halfway, NOW), []);
        const problems = rootRotationProblems(generated("new-only"), halfway, NOW);
        assert.equal(problems.length, 1);
        assert.match(problems[0], /cluster west's cacerts is at phase "trust-both"/);
    });

    it("ends a generated root's rotation after new-only with ca.rootGeneration raised, and undoes it only from prepare", () => {
        assert.deepEqual(rootRotationProblems(generated(undefined, 1), at("new-only"), NOW), []);
        assert.deepEqual(rootRotationProblems(generated(undefined, 1), at("sign-new"), NOW).length, 2);
        assert.deepEqual(rootRotationProblems(generated(undefined, 0), at("prepare"), NOW), []);
        assert.match(rootRotationProblems(generated(undefined, 0), at("new-only"), NOW)[0], /^ca\.rootRotation: missing; expected phase "sign-new", or phase "new-only", or ca\.rootRotation removed, with ca\.rootGeneration 1: cluster east's cacerts is at phase "new-only"/);
        const ended = { east: { [GENERATION]: "1" }, west: { [GENERATION]: "1" } };
        assert.deepEqual(rootRotationProblems(generated(undefined, 1), ended, NOW), []);
        assert.deepEqual(rootRotationProblems(generated("new-only"), ended, NOW), [], "back into the last phase");
        assert.deepEqual(rootRotationProblems(generated(undefined, 0), ended, NOW), [
            "ca.rootGeneration: got 0; expected 1, the generation of the root in cluster east's cacerts: a generated root is replaced only by a rotation (ca.rootRotation), which raises it by one at its end",
            "ca.rootGeneration: got 0; expected 1, the generation of the root in cluster west's cacerts: a generated root is replaced only by a rotation (ca.rootRotation), which raises it by one at its end",
        ]);
        assert.equal(rootRotationProblems(generated(undefined, 2), { east: {}, west: {} }, NOW).length, 2, "a generation raised without a rotation");
    });

    it("refuses a rotation to another root while one is under way", () => {
        assert.deepEqual(rootRotationProblems(generated("trust-both", 1), { east: at("trust-both").east }, NOW), [
            `ca.rootRotation.phase: got "trust-both"; expected no rotation to another root while cluster east's cacerts is in phase "trust-both" of a rotation to generation 1: finish or undo that one first (this one goes to generation 2)`,
        ]);
    });

    it("tells a supplied root by its fingerprint: the rotation ends with the new root as ca.rootCert", () => {
        const oldRoot = fs.readFileSync("test/fixtures/tls/ca.crt", "utf8");
        const newRoot = fs.readFileSync("test/fixtures/tls/other-ca.crt", "utf8");
        const intermediate = { cert: oldRoot, key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" };
        const supplied = (rootCert: string, rootRotation?: Record<string, unknown>) =>
            configOf({ rootCert, intermediates: { east: intermediate, west: intermediate }, ...(rootRotation ? { rootRotation } : {}) });
        const rotating = supplied(oldRoot, { phase: "new-only", rootCert: newRoot, intermediates: { east: intermediate, west: intermediate } });
        const to = `sha256:${new X509Certificate(newRoot).fingerprint256.replaceAll(":", "").toLowerCase()}`;
        assert.equal(rootRotationAnnotations(rotating, {}, NOW).east[TO], to);
        const installed = { east: { [PHASE]: "new-only", [TO]: to, [SINCE]: hoursAgo(1) } };
        assert.deepEqual(rootRotationProblems(supplied(newRoot), installed, NOW), []);
        assert.equal(rootRotationProblems(supplied(oldRoot), installed, NOW).length, 1, "back to the old root from new-only");
    });

    it("stops the program with every problem, before any resource", () => {
        assert.throws(
            () => requireRootRotationInOrder(generated("sign-new"), at("prepare"), NOW),
            (err: Error) =>
                err instanceof pulumi.RunError &&
                err.stack === undefined &&
                /^The root rotation cannot go where the config says; stopped before changing anything:\n {2}- ca\.rootRotation\.phase: got "sign-new"; .*cluster east.*\n {2}- .*cluster west/.test(err.message),
        );
        assert.doesNotThrow(() => requireRootRotationInOrder(generated("trust-both"), at("prepare"), NOW));
    });
});

describe("what cacerts records of the rotation", () => {
    it("keeps when a phase reached a cluster while the phase stays, records now when it changes, and nothing for a cluster not read", () => {
        const kept = rootRotationAnnotations(generated("trust-both"), { east: at("trust-both", 5).east, west: at("prepare", 5).west }, NOW);
        assert.deepEqual(kept.east, { [PHASE]: "trust-both", [TO]: "generation 1", [SINCE]: hoursAgo(5) });
        assert.deepEqual(kept.west, { [PHASE]: "trust-both", [TO]: "generation 1", [SINCE]: "2026-12-10T12:00:00Z" });
        assert.deepEqual(rootRotationAnnotations(generated("trust-both"), { east: null }, NOW).east[SINCE], "2026-12-10T12:00:00Z", "a cacerts written now");
        assert.deepEqual(rootRotationAnnotations(generated("trust-both"), {}, NOW).east, { [PHASE]: "trust-both", [TO]: "generation 1" });
        assert.deepEqual(rootRotationAnnotations(generated(), at("prepare"), NOW), { east: {}, west: {} }, "no rotation, the first root: nothing");
        assert.deepEqual(rootRotationAnnotations(generated("prepare", 1), {}, NOW).east, { [GENERATION]: "1", [PHASE]: "prepare", [TO]: "generation 2" });
    });

    it("says in each preview where the rotation stands and when the next phase may follow", () => {
        const annotations = rootRotationAnnotations(generated("trust-both"), { east: at("trust-both", 5).east, west: null }, NOW);
        assert.equal(
            rootRotationStatus(generated("trust-both"), annotations),
            `root rotation to generation 1: phase "trust-both"; "sign-new" may follow from 2026-12-12T12:00:00Z (ca.rootRotation.waitHours)`,
        );
        assert.match(rootRotationStatus(generated("prepare"), {})!, /"trust-both" may follow once every istiod has restarted with ISTIO_MULTIROOT_MESH/);
        assert.equal(rootRotationStatus(generated("new-only"), {}), `root rotation to generation 1: phase "new-only"; it ends with ca.rootRotation removed, with ca.rootGeneration 1`);
        assert.equal(rootRotationStatus(generated(), {}), undefined);
    });
});

