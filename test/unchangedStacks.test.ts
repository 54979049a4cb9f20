import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { registrationDigests } from "./harness/registrations";
import { UNCHANGED_SCENARIOS } from "./harness/unchangedScenarios";

/**
 * What the program registered for these stacks before it had upgrade strategies, revisions, per-cluster
 * versions and root rotation (main at 909baf7, recorded with test/harness/registrations.ts). A stack
 * that sets none of them must plan no change. Record again only with a change that is meant to reach
 * existing stacks, and say so in its commit.
 */
const RECORDED: Record<string, Record<string, string>> = JSON.parse(
    fs.readFileSync("test/fixtures/registrations-before-upgrades-and-root-rotation.json", "utf8"),
);

/**
 * Since the record, Istio's CRDs are one resource per cluster (components/crdSet.ts, docs/operations.md
 * "Istio's CRDs"): the sets and their one provider are new, and the `base` and `istiod` Charts changed with it (base leaves the
 * CRDs out, both wait for the set). Nothing else may change.
 */
const CHANGED_BY_THE_CRD_SET = /::[^:]+-(istio-base|istiod(-[a-z0-9-]+)?)$/;
const ADDED_BY_THE_CRD_SET = /(\$pulumi-nodejs:dynamic:Resource::[^:]+-istio-crds|::pulumi:providers:pulumi-nodejs::istio-crds-provider)$/;

describe("a stack that sets no upgrade strategy, revision, cluster version or root rotation", () => {
    for (const [name, raw] of Object.entries(UNCHANGED_SCENARIOS)) {
        it(`${name}: registers every resource with the inputs, secrets, provider, parent and dependencies it had, and the same outputs, but for the CRD set`, async () => {
            const now = await registrationDigests(raw);
            const recorded = RECORDED[name];
            const kept = (digests: Record<string, string>) => Object.entries(digests).filter(([urn]) => !CHANGED_BY_THE_CRD_SET.test(urn) && !ADDED_BY_THE_CRD_SET.test(urn));
            assert.deepEqual(kept(now), kept(recorded));
            assert.deepEqual(
                Object.keys(now).filter((urn) => CHANGED_BY_THE_CRD_SET.test(urn)),
                Object.keys(recorded).filter((urn) => CHANGED_BY_THE_CRD_SET.test(urn)),
                "the same Charts",
            );
            const added = Object.keys(now).filter((urn) => !(urn in recorded));
            assert.ok(added.length > 0 && added.every((urn) => ADDED_BY_THE_CRD_SET.test(urn)), `added: ${added.join(", ")}`);
        });
    }
});
