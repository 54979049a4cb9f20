/**
 * `npm run take-over-crds -- --stack <name> [pulumi up flags]`: moves Istio's CRDs of a stack made by an
 * earlier version of this program, which held each CRD as a Pulumi resource of its own, to the stack's
 * CRD set (components/crdSet.ts), without deleting them.
 *
 * A plain `pulumi up` would first apply the set, then delete the old resources, and with them the CRDs
 * and every Istio resource in the clusters; the set refuses CRDs that another Pulumi resource manages
 * for this reason. This script marks those resources `retainOnDelete` in the stack's state (stack export,
 * edit, import: the cluster is not touched), then runs `pulumi up` with ISTIO_MC_TAKE_OVER_CRDS=true, under
 * which the set applies the CRDs with force and the engine only forgets the old resources.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TAKE_OVER_CRDS_ENV } from "../components/crdSetProvider";

const CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const CHART_TYPE = "kubernetes:helm.sh/v4:Chart";

interface StateResource {
    urn: string;
    type: string;
    parent?: string;
    retainOnDelete?: boolean;
}

interface Deployment {
    deployment: { resources?: StateResource[] };
}

/** The URN's name part: `urn:pulumi:<stack>::<project>::<type chain>::<name>`. */
const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const typeOf = (urn: string) => urn.split("::")[2]?.split("$").pop();

/** Marks every CRD that a `<cluster>-istio-base` Chart rendered as `retainOnDelete`; returns their URNs. */
export function retainBaseChartCrds(state: Deployment): string[] {
    const marked: string[] = [];
    for (const resource of state.deployment.resources ?? []) {
        const parent = resource.parent ?? "";
        if (resource.type === CRD_TYPE && typeOf(parent) === CHART_TYPE && nameOf(parent).endsWith("-istio-base")) {
            resource.retainOnDelete = true;
            marked.push(resource.urn);
        }
    }
    return marked;
}

function runPulumi(args: string[]): void {
    const run = spawnSync("pulumi", args, { stdio: "inherit" });
    if (run.status !== 0) {
        throw new Error(`pulumi ${args.slice(0, 2).join(" ")} failed (exit status ${run.status})`);
    }
}

function main(argv: string[]): void {
    const at = argv.indexOf("--stack");
    const stack = at >= 0 ? argv[at + 1] : undefined;
    if (stack === undefined || stack.startsWith("-")) {
        console.error("usage: npm run take-over-crds -- --stack <name> [pulumi up flags]");
        process.exit(2);
    }
    // The export holds the state's secrets as ciphertext only; the directory is private and removed.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mc-state-"));
    try {
        const file = path.join(dir, "state.json");
        runPulumi(["stack", "export", "--stack", stack, "--file", file]);
        const state: Deployment = JSON.parse(fs.readFileSync(file, "utf8"));
        const marked = retainBaseChartCrds(state);
        if (marked.length === 0) {
            console.log(`stack ${stack} holds no CRD of the base chart as a resource of its own: nothing to take over`);
            return;
        }
        fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
        runPulumi(["stack", "import", "--stack", stack, "--file", file]);
        console.log(`${marked.length} CRD resources of stack ${stack} are marked retainOnDelete; taking them over with pulumi up`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const up = spawnSync("bash", ["scripts/with-private-tmpdir.sh", "pulumi", "up", ...argv], {
        stdio: "inherit",
        env: { ...process.env, [TAKE_OVER_CRDS_ENV]: "true" },
    });
    process.exit(up.status ?? 1);
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        process.exit(1);
    }
}
