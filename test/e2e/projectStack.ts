import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";

/**
 * A stack of this project, run by the real Pulumi CLI and engine through the Automation API, with the
 * program running in this process (the Node.js language host cannot be built here; see
 * test/e2e/toolchain/README.md). The project directory is a scratch copy of Pulumi.yaml, so stack
 * files never land in the repository.
 */
export class ProjectStack {
    private constructor(
        readonly stack: Stack,
        private readonly stackFile: string,
    ) {}

    static async create(name: string, work: string, program: PulumiFn): Promise<ProjectStack> {
        const projectDir = path.join(work, "project");
        fs.mkdirSync(projectDir, { recursive: true });
        fs.copyFileSync("Pulumi.yaml", path.join(projectDir, "Pulumi.yaml"));
        const workspace = await LocalWorkspace.create({ workDir: projectDir, program });
        const stack = await Stack.create(name, workspace);
        return new ProjectStack(stack, path.join(projectDir, `Pulumi.${name}.yaml`));
    }

    /** Writes the stack's config as a user would in Pulumi.<stack>.yaml, keeping the secrets salt. */
    writeConfig(values: Record<string, unknown>): void {
        const existing = fs.existsSync(this.stackFile) ? ((yaml.load(fs.readFileSync(this.stackFile, "utf8")) as object) ?? {}) : {};
        const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`istio-multicluster:${k}`, v]));
        fs.writeFileSync(this.stackFile, yaml.dump({ ...existing, config }));
    }
}
