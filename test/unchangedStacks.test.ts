import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { registrationDigests } from "./harness/registrations";
import { UNCHANGED_SCENARIOS } from "./harness/unchangedScenarios";

describe("a stack that does not rotate its root", () => {
    it("registers exactly what it did before root rotation existed: the same resources with the same inputs, so no diff", async () => {
        // Made by the program of the commit before root rotation (909baf7) from the same scenarios and digests.
        const before = JSON.parse(fs.readFileSync("test/fixtures/registrations-before-root-rotation.json", "utf8"));
        for (const [name, raw] of Object.entries(UNCHANGED_SCENARIOS)) {
            assert.deepEqual(await registrationDigests(raw), before[name], name);
        }
    });
});
