import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

const SCRIPT = path.resolve("scripts/verify-cross-cluster.sh");
const KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: admin\n# the admin kubeconfig of cluster1\n";

/**
 * A kubectl that reads its --kubeconfig file twice, as the Google Cloud SDK's dispatcher does, and
 * records both readings, the file's mode and its path. FAKE_KUBECTL=fail makes it fail; =hang makes it
 * wait to be killed.
 */
const FAKE_KUBECTL = `#!/usr/bin/env bash
while (($#)); do [[ $1 == --kubeconfig ]] && file=$2; shift; done
cat "$file" >"$FAKE_KUBECTL_LOG/first"
cat "$file" >"$FAKE_KUBECTL_LOG/second"
stat -L -c %a "$file" >"$FAKE_KUBECTL_LOG/mode"
printf '%s' "$file" >"$FAKE_KUBECTL_LOG/path"
case "\${FAKE_KUBECTL:-}" in
  fail) echo "error: unable to upgrade connection" >&2; exit 1 ;;
  hang) exec sleep 30 ;;
esac
echo "Hello version: v1, instance: helloworld-v1-abc"
echo "Hello version: v2, instance: helloworld-v2-def"
`;

describe("verify-cross-cluster.sh hands kubectl the kubeconfig", () => {
    let dir: string;
    let log: string;
    let env: NodeJS.ProcessEnv;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kubectl-"));
        log = path.join(dir, "log");
        fs.mkdirSync(log);
        fs.writeFileSync(path.join(dir, "kubectl"), FAKE_KUBECTL, { mode: 0o755 });
        env = {
            ...process.env,
            PATH: `${dir}:${process.env.PATH}`,
            FAKE_KUBECTL_LOG: log,
            CLUSTER: "cluster1",
            EXPECTED_VERSIONS: "v1 v2",
            REQUESTS: "2",
            ATTEMPTS: "1",
        };
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const recorded = (name: string) => fs.readFileSync(path.join(log, name), "utf8");

    function assertPrivateFileGone(): void {
        const file = recorded("path");
        assert.ok(path.isAbsolute(file), `kubectl got ${file}, not a file path`);
        assert.ok(!file.startsWith(path.resolve(".") + path.sep), `${file} is inside the repository`);
        assert.equal(recorded("mode").trim(), "600");
        assert.equal(fs.existsSync(file), false, `${file} was left behind`);
    }

    it("in a private file that reads the same twice, and removes it after success", () => {
        const run = spawnSync("bash", [SCRIPT], { env, input: KUBECONFIG, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), { cluster: "cluster1", requests: 2, attempts: 1, answers: { v1: 1, v2: 1 } });
        assert.equal(recorded("first"), KUBECONFIG);
        assert.equal(recorded("second"), KUBECONFIG);
        assertPrivateFileGone();
    });

    it("and removes the file when the check fails", () => {
        const run = spawnSync("bash", [SCRIPT], { env: { ...env, FAKE_KUBECTL: "fail" }, input: KUBECONFIG, encoding: "utf8" });
        assert.equal(run.status, 1);
        assert.match(run.stderr, /from cluster cluster1, helloworld v1 v2 never answered .*last error: error: unable to upgrade connection/);
        assert.equal(recorded("second"), KUBECONFIG);
        assertPrivateFileGone();
    });

    it("and removes the file when the check is interrupted", async () => {
        const child = spawn("bash", [SCRIPT], { env: { ...env, FAKE_KUBECTL: "hang" }, detached: true, stdio: ["pipe", "ignore", "ignore"] });
        child.stdin.end(KUBECONFIG);
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        while (!fs.existsSync(path.join(log, "path"))) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // What Ctrl-C or a cancelled `pulumi up` does: signal the whole process group.
        process.kill(-child.pid!, "SIGTERM");
        assert.notEqual(await exited, 0);
        assertPrivateFileGone();
    });
});
