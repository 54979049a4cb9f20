/**
 * scripts/run-pulumi.sh, how the npm scripts run pulumi, with the real CLI and backend of the harness:
 * `up` and `destroy` write the state once, at the end (PULUMI_SKIP_CHECKPOINTS=true), and a killed `up`
 * leaves the stack tagged so that only an `up` of the same config runs next. A small program of its
 * own (dynamic resources that take a while to create) makes a run killed mid-way cheap and exact; the
 * fault suite does the same to the mesh (faults.e2e.ts, group-killed-under-the-npm-scripts).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { mustRun } from "./kube";
import { CliRunner, EngineEvent, killTree, PulumiCli, RUN_PULUMI } from "./pulumiCli";

const work = process.env.E2E_WORK!;
const TAG = "istio-multicluster:unsaved-up";
/** `first` is created at once, every other resource in `slowMs`: a run killed once `first` exists has the others in flight. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const provider = {
    async create(inputs) {
        await new Promise((resolve) => setTimeout(resolve, inputs.delayMs));
        return { id: inputs.name, outs: { ...inputs, skipCheckpoints: process.env.PULUMI_SKIP_CHECKPOINTS ?? "" } };
    },
};
const names = ["first", ...config.requireObject("others")];
names.forEach((name, i) => new pulumi.dynamic.Resource(provider, name, { name, delayMs: i === 0 ? 0 : config.requireNumber("slowMs") }));
`;

const createdFirst = (event: EngineEvent | undefined) => /::first$/.test(event?.resOutputsEvent?.metadata?.urn ?? "");

describe("scripts/run-pulumi.sh: pulumi as the npm scripts run it", { concurrency: 1 }, () => {
    const projectDir = path.join(work, "run-pulumi-project");
    const stackFile = (stack: string) => path.join(projectDir, `Pulumi.${stack}.yaml`);
    const writeConfig = (stack: string, others: string[]) =>
        fs.writeFileSync(stackFile(stack), `config:\n  run-pulumi-test:others: ${JSON.stringify(others)}\n  run-pulumi-test:slowMs: 8000\n`);
    const pulumi = (stack: string, args: string[]) => mustRun("pulumi", [...args, "--stack", stack, "--cwd", projectDir, "--non-interactive"]).stdout;
    /** The dynamic resources in the state, with the PULUMI_SKIP_CHECKPOINTS their creation ran under. */
    const recorded = (stack: string) =>
        Object.fromEntries(
            (JSON.parse(pulumi(stack, ["stack", "export"])).deployment.resources ?? [])
                .filter((r: any) => r.type === "pulumi-nodejs:dynamic:Resource")
                .map((r: any) => [r.outputs.name, r.outputs.skipCheckpoints]),
        );
    const tags = (stack: string): Record<string, string> => JSON.parse(pulumi(stack, ["stack", "tag", "ls", "--json"]));
    const newStack = (stack: string, runner: CliRunner) => {
        pulumi(stack, ["stack", "init"]);
        writeConfig(stack, ["second", "third"]);
        return new PulumiCli(stack, projectDir, work, runner);
    };

    before(() => {
        assert.ok(work && fs.existsSync(work), "run this through test/e2e/run.sh");
        fs.mkdirSync(projectDir, { recursive: true });
        fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: run-pulumi-test\nruntime: nodejs\n");
        fs.writeFileSync(path.join(projectDir, "package.json"), JSON.stringify({ name: "run-pulumi-test", main: "index.js" }));
        fs.writeFileSync(path.join(projectDir, "index.js"), PROGRAM);
        fs.symlinkSync(path.resolve("node_modules"), path.join(projectDir, "node_modules"));
    });

    it("writes the state at the end: a killed up recorded nothing, and then only an up of the same config runs", async () => {
        const scripts = newStack("scripts", { command: RUN_PULUMI });
        const killed = await scripts.run(["up", "--yes", "--skip-preview"], { at: createdFirst, strike: killTree });
        assert.ok(killed.struckAt !== undefined, `the fault never struck\n${killed.output.slice(-2000)}`);
        assert.deepEqual(recorded("scripts"), {}, "the killed up recorded resources: the state was written before the end");
        assert.match(tags("scripts")[TAG] ?? "", /^[0-9a-f]{16}$/, `no ${TAG} tag after the killed up`);
        await scripts.mustRun(["cancel", "--yes"]);

        const destroy = await scripts.run(["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 1, destroy.output);
        assert.match(destroy.output, /a destroy now would leave the objects it created/);
        const preview = await scripts.run(["preview"]);
        assert.equal(preview.code, 0, preview.output);
        assert.match(preview.output, /objects it created may be missing from this preview/);
        writeConfig("scripts", ["second"]);
        const changed = await scripts.run(["up", "--yes", "--skip-preview"]);
        assert.equal(changed.code, 1, changed.output);
        assert.match(changed.output, /with another config/);
        assert.deepEqual(recorded("scripts"), {});

        writeConfig("scripts", ["second", "third"]);
        const again = await scripts.mustRun(["up", "--yes", "--skip-preview"]);
        assert.match(again.output, /with the same config, takes over what it created/);
        assert.deepEqual(recorded("scripts"), { first: "true", second: "true", third: "true" });
        assert.equal(tags("scripts")[TAG], undefined, "the tag outlived a completed up");
        await scripts.mustRun(["destroy", "--yes", "--skip-preview"]);
        assert.deepEqual(recorded("scripts"), {});
    });

    it("with PULUMI_SKIP_CHECKPOINTS=false, writes the state after every step and tags nothing", async () => {
        const scripts = newStack("checkpoints", { command: RUN_PULUMI, env: { PULUMI_SKIP_CHECKPOINTS: "false" } });
        const killed = await scripts.run(["up", "--yes", "--skip-preview"], { at: createdFirst, strike: killTree });
        assert.ok(killed.struckAt !== undefined, `the fault never struck\n${killed.output.slice(-2000)}`);
        assert.deepEqual(recorded("checkpoints"), { first: "false" }, "the step that ended before the kill is not in the state");
        assert.equal(tags("checkpoints")[TAG], undefined);
        await scripts.mustRun(["cancel", "--yes"]);
        await scripts.mustRun(["destroy", "--yes", "--skip-preview"]);
        assert.deepEqual(recorded("checkpoints"), {});
    });
});
