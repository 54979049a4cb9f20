import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";

const SCRIPT = fs.readFileSync("scripts/peer-sync-check.sh", "utf8");
const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
const BUSYBOX = which("busybox");
const CURL = which("curl");
const TOOLS = ["cat", "tr", "grep", "sed"];

/** The system's /bin/sh with its tools, and BusyBox (the curl image's shell and tools) when installed; curl is the system's. */
const SHELLS = [
    { name: "/bin/sh", argv: ["/bin/sh"], tools: Object.fromEntries(TOOLS.map((t) => [t, which(t)])) },
    { name: "busybox sh", argv: [BUSYBOX, "sh"], tools: Object.fromEntries(TOOLS.map((t) => [t, BUSYBOX])), skip: BUSYBOX ? false : "busybox is not installed" },
];

const TOKEN = "token-with-audience-istio-ca";
/** How istiod writes clusterz without `?pretty` (config.ToJSON), and with it. */
const compact = (entries: object[]) => JSON.stringify(entries);
const pretty = (entries: object[]) => JSON.stringify(entries, null, 2);
const entry = (id: string, syncStatus: string) => ({ id, secretName: id === "cluster1" ? undefined : `istio-system/istio-remote-secret-${id}`, syncStatus });

/**
 * istiod's 15014 for every revision: by the Host header, the next of the bodies queued for that
 * istiod (the last one stays); 401 without the token, as istiod answers a caller it cannot authenticate.
 */
class FakeIstiods {
    readonly server = http.createServer((req, res) => {
        const istiod = (req.headers.host ?? "").replace(/\.istio-system\.svc:15014$/, "");
        this.requests.push(`${istiod} ${req.url}`);
        const queue = this.bodies.get(istiod);
        if (req.headers.authorization !== `Bearer ${TOKEN}`) {
            res.writeHead(401).end();
        } else if (req.url !== "/debug/clusterz" || queue === undefined) {
            res.writeHead(404).end();
        } else {
            res.writeHead(200, { "content-type": "application/json" }).end(queue.length > 1 ? queue.shift() : queue[0]);
        }
    });
    bodies = new Map<string, string[]>();
    requests: string[] = [];
    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }
}

for (const shell of SHELLS) {
    describe(`the peer-sync check script under ${shell.name}, against a local clusterz`, { skip: shell.skip }, () => {
        const istiods = new FakeIstiods();
        let dir: string;
        let log: string;
        let terminationLog: string;

        before(() => new Promise<void>((resolve) => istiods.server.listen(0, "127.0.0.1", resolve)));
        after(() => new Promise<void>((resolve) => istiods.server.close(() => resolve())));

        beforeEach(() => {
            istiods.bodies = new Map();
            istiods.requests = [];
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "peer-sync-check-"));
            log = path.join(dir, "sleeps");
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            // The real curl, with every istiod-*.istio-system.svc:15014 connected to the local server.
            fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\nexec ${CURL} --connect-to "::127.0.0.1:${istiods.port}" "$@"\n`, { mode: 0o755 });
            fs.writeFileSync(path.join(bin, "sleep"), `#!/bin/sh\nprintf '%s\\n' "$*" >>"${log}"\n`, { mode: 0o755 });
            for (const [tool, target] of Object.entries(shell.tools)) {
                fs.symlinkSync(target, path.join(bin, tool));
            }
            fs.writeFileSync(path.join(dir, "token"), TOKEN);
            terminationLog = path.join(dir, "termination-log");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        /** Runs the script as the Job's container does, `sh -c <script>`; asynchronously, as the server runs in this process. */
        function check(env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string; sleeps: string[] }> {
            const child = spawn(shell.argv[0], [...shell.argv.slice(1), "-c", SCRIPT], {
                env: {
                    PATH: path.join(dir, "bin"),
                    TERMINATION_LOG: terminationLog,
                    CLUSTER: "cluster1",
                    ISTIODS: "istiod",
                    PEERS: "cluster2 cluster3",
                    ATTEMPTS: "3",
                    TOKEN_FILE: path.join(dir, "token"),
                    ...env,
                },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            return new Promise((resolve) =>
                child.on("close", (status) => resolve({ status, stdout, stderr, sleeps: fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(0, -1) : [] })),
            );
        }

        it("passes at once when every revision's istiod lists every peer synced, compact or pretty", async () => {
            const synced = [entry("cluster1", "synced"), entry("cluster2", "synced"), entry("cluster3", "synced")];
            istiods.bodies.set("istiod-stable", [compact(synced)]);
            istiods.bodies.set("istiod-canary", [pretty(synced)]);
            const run = await check({ ISTIODS: "istiod-stable istiod-canary" });
            assert.equal(run.status, 0, run.stderr);
            assert.equal(run.stderr, "");
            assert.deepEqual(JSON.parse(run.stdout), { cluster: "cluster1", istiods: "istiod-stable istiod-canary", peers: "cluster2 cluster3", attempts: 1 });
            assert.deepEqual(istiods.requests, ["istiod-stable /debug/clusterz", "istiod-canary /debug/clusterz"]);
            assert.deepEqual(run.sleeps, []);
            assert.equal(fs.existsSync(terminationLog), false);
        });

        it("tries again 5 s later while a peer is syncing, and passes once it is synced", async () => {
            istiods.bodies.set("istiod", [compact([entry("cluster2", "synced"), entry("cluster3", "syncing")]), compact([entry("cluster3", "synced"), entry("cluster2", "synced")])]);
            const run = await check();
            assert.equal(run.status, 0, run.stderr);
            assert.equal(JSON.parse(run.stdout).attempts, 2);
            assert.deepEqual(run.sleeps, ["5"]);
        });

        it("fails naming the cluster, the revision and the peers not synced, on stderr and in the termination log", async () => {
            istiods.bodies.set("istiod-stable", [compact([entry("cluster2", "synced"), entry("cluster3", "synced")])]);
            istiods.bodies.set("istiod-canary", [pretty([entry("cluster1", "synced"), entry("cluster2", "timeout")])]);
            const run = await check({ ISTIODS: "istiod-stable istiod-canary" });
            const message = "peer-sync check failed: in cluster cluster1, after 3 attempts, peers not synced: istiod-canary (revision canary): cluster2 (timeout), cluster3 (not listed)\n";
            assert.equal(run.status, 1);
            assert.equal(run.stdout, "");
            assert.equal(run.stderr, message);
            assert.equal(fs.readFileSync(terminationLog, "utf8"), message);
            assert.deepEqual(run.sleeps, ["5", "5"], "no pause after the last attempt");
            assert.equal(istiods.requests.length, 6);
        });

        it("says so when istiod does not answer the check's token", async () => {
            istiods.bodies.set("istiod", [compact([entry("cluster2", "synced"), entry("cluster3", "synced")])]);
            fs.writeFileSync(path.join(dir, "token"), "another-token");
            const run = await check({ ATTEMPTS: "1" });
            assert.equal(run.status, 1);
            assert.match(run.stderr, /^peer-sync check failed: in cluster cluster1, after 1 attempts, peers not synced: istiod \(in place\): not answering: curl: \(22\) .*401\n$/);
        });

        it("refuses to run without its settings", async () => {
            const run = await check({ PEERS: "" });
            assert.notEqual(run.status, 0);
            assert.match(run.stderr, /PEERS/);
            assert.deepEqual(istiods.requests, []);
        });
    });
}
