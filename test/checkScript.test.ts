import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

const SCRIPT = fs.readFileSync("scripts/cross-cluster-check.sh", "utf8");
const GATE = fs.readFileSync("scripts/traffic-gate.sh", "utf8");
const STOPPED = "the rollout (istio.rolloutOrder) stopped at cluster1: the Istio charts of the clusters after it, cluster2, were not changed";
const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
const BUSYBOX = which("busybox");

/**
 * The shells to run the script with, each with the grep and sed that go with it: the system's /bin/sh
 * (dash on Debian) with its tools, and BusyBox, the curl image's shell and tools, when installed.
 */
const SHELLS = [
    { name: "/bin/sh", argv: ["/bin/sh"], tools: { grep: which("grep"), sed: which("sed") } },
    { name: "busybox sh", argv: [BUSYBOX, "sh"], tools: { grep: BUSYBOX, sed: BUSYBOX }, skip: BUSYBOX ? false : "busybox is not installed" },
];

/**
 * A curl that logs its arguments and answers for helloworld from $FAKE_REPLIES in turn: a version, or
 * `down` for a failed connection. The sidecar's quitquitquit fails when $FAKE_QUIT is `fail`.
 */
const FAKE_CURL = `#!/bin/sh
printf '%s\\n' "$*" >>"$FAKE_LOG/curl"
case "$*" in
*quitquitquit*)
    [ "\${FAKE_QUIT:-}" = fail ] || exit 0
    echo "curl: (7) Failed to connect to 127.0.0.1 port 15020 after 0 ms: Couldn't connect to server" >&2
    exit 7 ;;
esac
n=0
[ -f "$FAKE_LOG/n" ] && read -r n <"$FAKE_LOG/n"
echo $((n + 1)) >"$FAKE_LOG/n"
set -- $FAKE_REPLIES
shift $((n % $#))
if [ "$1" = down ]; then
    echo "curl: (7) Failed to connect to helloworld.sample port 5000 after 2 ms: Couldn't connect to server" >&2
    exit 7
fi
echo "Hello version: $1, instance: helloworld-$1-7d9f8b5c4-x2x7q"
`;
/** A sleep that only logs how long it was asked to sleep. */
const FAKE_SLEEP = `#!/bin/sh\nprintf '%s\\n' "$*" >>"$FAKE_LOG/sleep"\n`;

const HELLO = "-sS --max-time 3 http://helloworld.sample:5000/hello";
const QUIT = "-fsS -X POST http://127.0.0.1:15020/quitquitquit";

for (const shell of SHELLS) {
    describe(`the cross-cluster check script under ${shell.name}`, { skip: shell.skip }, () => {
        let dir: string;
        let log: string;
        let terminationLog: string;

        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "cross-cluster-check-"));
            log = path.join(dir, "log");
            fs.mkdirSync(log);
            // PATH holds only what the script may use besides the shell's builtins.
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(path.join(bin, "curl"), FAKE_CURL, { mode: 0o755 });
            fs.writeFileSync(path.join(bin, "sleep"), FAKE_SLEEP, { mode: 0o755 });
            // The traffic gate runs the check with the shell on PATH, as in the pod.
            for (const [tool, target] of Object.entries({ ...shell.tools, sh: shell.argv[0] })) {
                fs.symlinkSync(target, path.join(bin, tool));
            }
            terminationLog = path.join(dir, "termination-log");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        /**
         * Runs the script as the Job's container does: `sh -c <script>`, with the Job's environment; or as
         * the traffic gate's does, `sh -c <gate> traffic-gate <script>`, with $STOPPED.
         */
        function check(env: Record<string, string>, command = ["-c", SCRIPT]) {
            const run = spawnSync(shell.argv[0], [...shell.argv.slice(1), ...command], {
                env: {
                    PATH: path.join(dir, "bin"),
                    FAKE_LOG: log,
                    TERMINATION_LOG: terminationLog,
                    CLUSTER: "cluster1",
                    EXPECTED_VERSIONS: "v1 v2",
                    REQUESTS: "4",
                    ATTEMPTS: "3",
                    ...env,
                },
                encoding: "utf8",
            });
            const logged = (name: string) => (fs.existsSync(path.join(log, name)) ? fs.readFileSync(path.join(log, name), "utf8").split("\n").slice(0, -1) : []);
            return { ...run, curl: logged("curl"), sleeps: logged("sleep") };
        }

        it("prints the summary once every version answered, then asks the sidecar to exit", () => {
            const run = check({ FAKE_REPLIES: "v1 v2" });
            assert.equal(run.status, 0, run.stderr);
            assert.equal(run.stderr, "");
            assert.deepEqual(JSON.parse(run.stdout), { cluster: "cluster1", requests: 4, attempts: 1, answers: { v1: 2, v2: 2 } });
            assert.deepEqual(run.curl, [HELLO, HELLO, HELLO, HELLO, QUIT]);
            assert.deepEqual(run.sleeps, []);
            assert.equal(fs.existsSync(terminationLog), false, "nothing in the termination log on success");
        });

        it("tries again 5 s later while a version has not answered, and stops as soon as all have", () => {
            const run = check({ FAKE_REPLIES: "v1 v1 v1 v1 v2 down", REQUESTS: "3", ATTEMPTS: "5" });
            assert.equal(run.status, 0, run.stderr);
            assert.deepEqual(JSON.parse(run.stdout), { cluster: "cluster1", requests: 6, attempts: 2, answers: { v1: 4, v2: 1 } });
            assert.deepEqual(run.sleeps, ["5"]);
            assert.deepEqual(run.curl, [HELLO, HELLO, HELLO, HELLO, HELLO, HELLO, QUIT]);
        });

        it("fails naming the cluster and the missing version, on stderr and in the termination log", () => {
            const run = check({ FAKE_REPLIES: "v1", REQUESTS: "2", ATTEMPTS: "2" });
            const message = "cross-cluster check failed: from cluster cluster1, helloworld v2 never answered (4 requests over 2 attempts; versions that did answer: v1)\n";
            assert.equal(run.status, 1);
            assert.equal(run.stdout, "");
            assert.equal(run.stderr, message);
            assert.equal(fs.readFileSync(terminationLog, "utf8"), message);
            assert.deepEqual(run.sleeps, ["5"], "no pause after the last attempt");
            assert.deepEqual(run.curl, [HELLO, HELLO, HELLO, HELLO, QUIT]);
        });

        it("reports curl's last error when helloworld cannot be reached at all", () => {
            const run = check({ FAKE_REPLIES: "down", ATTEMPTS: "1" });
            assert.equal(run.status, 1);
            assert.equal(
                run.stderr,
                "cross-cluster check failed: from cluster cluster1, helloworld v1 v2 never answered (4 requests over 1 attempts; versions that did answer: none)" +
                    "; last error: curl: (7) Failed to connect to helloworld.sample port 5000 after 2 ms: Couldn't connect to server\n",
            );
            assert.equal(run.curl.at(-1), QUIT);
        });

        it("fails the same where there is no termination log to write (outside a pod)", () => {
            const run = check({ FAKE_REPLIES: "v1", ATTEMPTS: "1", TERMINATION_LOG: path.join(dir, "missing", "termination-log") });
            assert.equal(run.status, 1);
            assert.equal(run.stderr, "cross-cluster check failed: from cluster cluster1, helloworld v2 never answered (4 requests over 1 attempts; versions that did answer: v1)\n");
        });

        it("ignores a sidecar that cannot be asked to exit (a native sidecar, or none)", () => {
            const passed = check({ FAKE_REPLIES: "v2 v1", FAKE_QUIT: "fail" });
            assert.equal(passed.status, 0);
            assert.equal(passed.stderr, "");
            assert.deepEqual(JSON.parse(passed.stdout).answers, { v1: 2, v2: 2 });
            assert.equal(passed.curl.at(-1), QUIT);
            const failed = check({ FAKE_REPLIES: "v2", FAKE_QUIT: "fail", ATTEMPTS: "1" });
            assert.equal(failed.status, 1);
            assert.match(failed.stderr, /^cross-cluster check failed: from cluster cluster1, helloworld v1 never answered \(4 requests over 1 attempts; versions that did answer: v2\)\n$/);
        });

        it("refuses to run without its settings", () => {
            const run = check({ FAKE_REPLIES: "v1", EXPECTED_VERSIONS: "" });
            assert.notEqual(run.status, 0);
            assert.match(run.stderr, /EXPECTED_VERSIONS/);
            assert.deepEqual(run.curl, []);
        });

        describe("run by the traffic gate", () => {
            const gate = (env: Record<string, string>) => check({ STOPPED, ...env }, ["-c", GATE, "traffic-gate", SCRIPT]);

            it("passes the check's summary on, and nothing else, when it passes", () => {
                const run = gate({ FAKE_REPLIES: "v1 v2" });
                assert.equal(run.status, 0, run.stderr);
                assert.equal(run.stderr, "");
                assert.deepEqual(JSON.parse(run.stdout), { cluster: "cluster1", requests: 4, attempts: 1, answers: { v1: 2, v2: 2 } });
                assert.deepEqual(run.curl, [HELLO, HELLO, HELLO, HELLO, QUIT]);
                assert.equal(fs.existsSync(terminationLog), false);
            });

            it("fails with the check's verdict and where the rollout stopped, on stderr and in the termination log", () => {
                const run = gate({ FAKE_REPLIES: "v1", REQUESTS: "2", ATTEMPTS: "2" });
                const message = `cross-cluster check failed: from cluster cluster1, helloworld v2 never answered (4 requests over 2 attempts; versions that did answer: v1); ${STOPPED}\n`;
                assert.equal(run.status, 1);
                assert.equal(run.stdout, "");
                assert.equal(run.stderr, message);
                assert.equal(fs.readFileSync(terminationLog, "utf8"), message);
                assert.deepEqual(run.curl, [HELLO, HELLO, HELLO, HELLO, QUIT], "the sidecar asked to exit once");
            });

            it("refuses to run without where it stops", () => {
                const run = gate({ FAKE_REPLIES: "v1", STOPPED: "" });
                assert.notEqual(run.status, 0);
                assert.match(run.stderr, /STOPPED/);
                assert.deepEqual(run.curl, []);
            });
        });
    });
}
