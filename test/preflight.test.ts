import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

const SCRIPT = path.resolve("scripts/preflight.sh");
const BASH = spawnSync("bash", ["-c", "command -v bash"], { encoding: "utf8" }).stdout.trim();
const GIB = 1024 ** 3;

/** Stand-ins for the tools `npm run up` needs; FAKE_* variables make them misbehave. */
const FAKE_TOOLS: Record<string, string> = {
    node: `if [[ "$*" == "-p process.versions.node" ]]; then echo "\${FAKE_NODE_VERSION:-22.23.3}"; else exec "${process.execPath}" "$@"; fi`,
    pulumi: `[[ "$1" == whoami && -n "\${FAKE_PULUMI_LOGGED_OUT:-}" ]] && { echo "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions" >&2; exit 255; }; echo someone`,
    docker: `[[ -n "\${FAKE_DOCKER_DOWN:-}" ]] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }; echo "\${FAKE_DOCKER_MEMORY:-${16 * GIB}}"`,
    kind: "echo kind v0.30.0",
};

/** What each missing piece must be reported as: what it is and where to get it. */
const REPORTS: Record<string, RegExp> = {
    node: /Node\.js 22\.19 or newer.*https:\/\/nodejs\.org/,
    pulumi: /the Pulumi CLI.*https:\/\/www\.pulumi\.com\/docs\/iac\/download-install/,
    login: /a Pulumi backend login.*pulumi login --local/,
    docker: /Docker.*https:\/\/docs\.docker\.com\/get-started\/get-docker/,
    dockerDown: /Docker is not running/,
    memory: /Docker has 4\.0 GiB of memory; 2 kind clusters/,
    kind: /kind.*https:\/\/kind\.sigs\.k8s\.io\/docs\/user\/quick-start\/#installation/,
};

describe("npm run up checks what the stack needs first", () => {
    let root: string;
    let project: string;

    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
        // A stack on existing clusters, next to the repository's own kind stack (Pulumi.dev.yaml).
        project = path.join(root, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(
            path.join(project, "Pulumi.remote.yaml"),
            "config:\n  istio-multicluster:clusters:\n    - { name: east, network: n1, kubeconfig: /etc/east.yaml }\n    - { name: west, network: n1, kubeconfig: /etc/west.yaml }\n",
        );
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    /** Runs the check for `stack` with only the given tools on PATH. */
    function preflight(stack: string, tools: string[], env: Record<string, string> = {}, cwd = path.resolve(".")) {
        const bin = fs.mkdtempSync(path.join(root, "bin-"));
        for (const tool of tools) {
            fs.writeFileSync(path.join(bin, tool), `#!${BASH}\n${FAKE_TOOLS[tool]}\n`, { mode: 0o755 });
        }
        const run = spawnSync(BASH, [SCRIPT, stack], { cwd, env: { PATH: bin, HOME: root, ...env }, encoding: "utf8" });
        return { status: run.status, report: run.stderr };
    }

    const ALL = Object.keys(FAKE_TOOLS);

    it("passes silently when everything is there", () => {
        assert.deepEqual(preflight("dev", ALL), { status: 0, report: "" });
    });

    for (const tool of ALL) {
        it(`names a missing ${tool} and how to install it`, () => {
            const { status, report } = preflight("dev", ALL.filter((t) => t !== tool));
            assert.equal(status, 1);
            assert.match(report, REPORTS[tool]);
            assert.equal(report.split("\n").filter((line) => line.startsWith("  - ")).length, 1, report);
        });
    }

    it("names a Node.js older than the program needs, by minor version too", () => {
        for (const found of ["20.18.0", "22.18.1"]) {
            const { status, report } = preflight("dev", ALL, { FAKE_NODE_VERSION: found });
            assert.equal(status, 1);
            assert.match(report, new RegExp(`Node\\.js 22\\.19 or newer \\(found ${found.replace(/\./g, "\\.")}\\)`));
        }
        assert.equal(preflight("dev", ALL, { FAKE_NODE_VERSION: "22.19.0" }).report.includes("Node.js"), false);
    });

    it("names a missing backend login without prompting for one", () => {
        const { status, report } = preflight("dev", ALL, { FAKE_PULUMI_LOGGED_OUT: "1" });
        assert.equal(status, 1);
        assert.match(report, REPORTS.login);
    });

    it("names a Docker that is not running, and one with too little memory", () => {
        assert.match(preflight("dev", ALL, { FAKE_DOCKER_DOWN: "1" }).report, REPORTS.dockerDown);
        const { status, report } = preflight("dev", ALL, { FAKE_DOCKER_MEMORY: String(4 * GIB) });
        assert.equal(status, 1);
        assert.match(report, REPORTS.memory);
    });

    it("reports everything missing at once", () => {
        const { status, report } = preflight("dev", ["node"], { FAKE_NODE_VERSION: "20.18.0" });
        assert.equal(status, 1);
        for (const key of ["node", "pulumi", "docker", "kind"]) {
            assert.match(report, REPORTS[key]);
        }
    });

    it("asks a stack on existing clusters for neither Docker nor kind", () => {
        assert.deepEqual(preflight("remote", ["node", "pulumi"], {}, project), { status: 0, report: "" });
    });
});
