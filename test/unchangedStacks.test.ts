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

describe("a stack that sets no upgrade strategy, revision, cluster version or root rotation", () => {
    for (const [name, raw] of Object.entries(UNCHANGED_SCENARIOS)) {
        it(`${name}: registers every resource with the inputs, secrets, provider, parent and dependencies it had, and the same outputs`, async () => {
            assert.deepEqual(await registrationDigests(raw), RECORDED[name]);
        });
    }
});
