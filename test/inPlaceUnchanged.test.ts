import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { StackConfigInput } from "../stacks/config";
import { resourceDigests } from "./harness/resourceDigests";
import { SIX_CLUSTERS_MIXED, TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

/**
 * What the program registered for these configs before it had upgrade strategies (main at f860280,
 * recorded with test/harness/resourceDigests.ts): a stack that never set a strategy, a revision or a
 * cluster's own version must plan no change. Record again (print resourceDigests of these configs)
 * only with a change that is meant to reach existing stacks, and say so in its commit.
 */
const RECORDED: Record<string, Record<string, string>> = JSON.parse(
    fs.readFileSync("test/fixtures/in-place-resources.json", "utf8"),
);

const CONFIGS: Record<string, StackConfigInput> = {
    TWO_CLUSTERS_TWO_NETWORKS,
    SIX_CLUSTERS_MIXED,
    DEFAULTS: { meshId: "mesh1", clusters: TWO_CLUSTERS_TWO_NETWORKS.clusters },
};

describe("a stack that never set an upgrade strategy", () => {
    for (const [name, raw] of Object.entries(CONFIGS)) {
        it(`${name}: registers every resource with the inputs, provider, parent and dependencies it had, and the same outputs`, async () => {
            assert.deepEqual(await resourceDigests(raw), RECORDED[name]);
        });
    }
});
