import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

/** The repository's shell scripts: those named *.sh, and CI's entry point. */
const SCRIPTS = [
    ...spawnSync("git", ["ls-files", "*.sh"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean),
    ".ci/run",
];

describe("shell scripts", () => {
    it("are found", () => assert.ok(SCRIPTS.length > 5, `only ${SCRIPTS.join(", ")}`));

    // A script is parsed as a whole before it runs: one lost `;;` stops every mode of it, also those
    // no unit test runs (the e2e's and the benchmarks').
    for (const script of SCRIPTS) {
        it(`${script} parses (bash -n)`, () => {
            const check = spawnSync("bash", ["-n", script], { encoding: "utf8" });
            assert.equal(check.status, 0, check.stderr);
        });
    }
});
