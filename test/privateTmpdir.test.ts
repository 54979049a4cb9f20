import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

const SCRIPT = path.resolve("scripts/with-private-tmpdir.sh");

/**
 * A pulumi that does what the kubernetes provider does when configured with a kubeconfig's content:
 * writes it to a new file in $TMPDIR and leaves it there. Records its arguments, $TMPDIR and that
 * directory's mode. FAKE_PULUMI=<status> makes it exit with that status; =hang makes it wait to be killed.
 */
const FAKE_PULUMI = `#!/usr/bin/env bash
printf '%s' "$TMPDIR" >"$FAKE_PULUMI_LOG/tmpdir"
stat -c %a "$TMPDIR" >"$FAKE_PULUMI_LOG/mode"
printf '%s ' "$@" >"$FAKE_PULUMI_LOG/args"
echo "client-key-data: c2VjcmV0" >"$(mktemp "$TMPDIR/kubeconfigXXXXXXXXXX")"
case "\${FAKE_PULUMI:-0}" in
  hang) exec sleep 30 ;;
  *) exit "\${FAKE_PULUMI:-0}" ;;
esac
`;

describe("with-private-tmpdir.sh runs pulumi with its temporary files in a private directory", () => {
    let dir: string;
    let tmp: string;
    let log: string;
    let env: NodeJS.ProcessEnv;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
        tmp = path.join(dir, "tmp");
        log = path.join(dir, "log");
        fs.mkdirSync(tmp);
        fs.mkdirSync(log);
        fs.writeFileSync(path.join(dir, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
        env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, TMPDIR: tmp, FAKE_PULUMI_LOG: log };
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const recorded = (name: string) => fs.readFileSync(path.join(log, name), "utf8");

    /** pulumi ran in a new directory of mode 0700 under $TMPDIR, which is gone with what pulumi wrote there. */
    function assertPrivateDirectoryGone(): void {
        const privateDir = recorded("tmpdir");
        assert.equal(path.dirname(privateDir), tmp, `${privateDir} is not a new directory in $TMPDIR`);
        assert.equal(recorded("mode").trim(), "700");
        assert.equal(fs.existsSync(privateDir), false, `${privateDir} was left behind`);
        assert.deepEqual(fs.readdirSync(tmp), [], "a kubeconfig copy was left in $TMPDIR");
    }

    it("passes the arguments on, and removes the directory after success", () => {
        const run = spawnSync("bash", [SCRIPT, "pulumi", "up", "--stack", "dev"], { env, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(recorded("args"), "up --stack dev ");
        assertPrivateDirectoryGone();
    });

    it("ends with pulumi's exit status, and removes the directory after a failure", () => {
        const run = spawnSync("bash", [SCRIPT, "pulumi", "preview"], { env: { ...env, FAKE_PULUMI: "3" }, encoding: "utf8" });
        assert.equal(run.status, 3);
        assertPrivateDirectoryGone();
    });

    it("removes the directory when interrupted", async () => {
        const child = spawn("bash", [SCRIPT, "pulumi", "destroy"], { env: { ...env, FAKE_PULUMI: "hang" }, detached: true, stdio: "ignore" });
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        while (!fs.existsSync(path.join(log, "args"))) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // Ctrl-C: the terminal signals the whole process group.
        process.kill(-child.pid!, "SIGINT");
        assert.equal(await exited, 130);
        assertPrivateDirectoryGone();
    });
});

describe("npm scripts", () => {
    it("run every pulumi operation that configures the providers through run-pulumi.sh, which runs pulumi through with-private-tmpdir.sh", () => {
        const scripts: Record<string, string> = JSON.parse(fs.readFileSync("package.json", "utf8")).scripts;
        const operations = Object.entries(scripts).flatMap(([name, script]) =>
            [...script.matchAll(/(\S+)?( pulumi)? (up|preview|destroy|refresh)\b/g)]
                .filter((m) => m[2] || m[1]?.endsWith("run-pulumi.sh"))
                .map((m) => ({ name, wrapped: m[1] === "scripts/run-pulumi.sh" && !m[2] })),
        );
        assert.deepEqual(operations.map((o) => o.name).sort(), ["destroy", "preview", "up"]);
        for (const { name, wrapped } of operations) {
            assert.ok(wrapped, `npm run ${name} runs pulumi through scripts/run-pulumi.sh`);
        }
        const runner = fs.readFileSync("scripts/run-pulumi.sh", "utf8");
        // Every line that runs pulumi with the user's arguments, but the script's own stack tag queries (stack_pulumi), which start no provider.
        const userCommand = [...runner.matchAll(/^[^#\n]*\bpulumi "\$@".*$/gm)].map((m) => m[0].trim()).filter((line) => !line.startsWith("stack_pulumi()"));
        assert.deepEqual(userCommand, ['private_pulumi() { bash "$here/with-private-tmpdir.sh" pulumi "$@"; }'], "run-pulumi.sh runs pulumi without the private $TMPDIR");
    });
});
