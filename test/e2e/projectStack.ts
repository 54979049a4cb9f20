import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { mustRun } from "./kube";

/**
 * A stack of this project, driven through the Automation API: every operation is the real `pulumi`
 * CLI, which runs the program through `pulumi-language-nodejs` as `pulumi up` does for a user, in
 * the scratch project directory run.sh links to the repository's program.
 */
export class ProjectStack {
    private constructor(
        readonly stack: Stack,
        private readonly projectDir: string,
    ) {}

    private get stackFile(): string {
        return path.join(this.projectDir, `Pulumi.${this.stack.name}.yaml`);
    }

    /**
     * `pulumi stack export` as a user runs it. (The Automation API's exportStack adds --show-secrets,
     * so it cannot show what the state holds.)
     */
    exportState(): string {
        return mustRun("pulumi", ["stack", "export", "--stack", this.stack.name, "--cwd", this.projectDir]).stdout;
    }

    /** `pulumi stack import` of a state as `exportState` gives it (secrets stay encrypted). */
    importState(state: string): void {
        const file = path.join(this.projectDir, `.import-${this.stack.name}.json`);
        fs.writeFileSync(file, state, { mode: 0o600 });
        try {
            mustRun("pulumi", ["stack", "import", "--stack", this.stack.name, "--cwd", this.projectDir, "--file", file]);
        } finally {
            fs.rmSync(file, { force: true });
        }
    }

    static async create(name: string, projectDir: string): Promise<ProjectStack> {
        const workspace = await LocalWorkspace.create({ workDir: projectDir });
        const stack = await Stack.create(name, workspace);
        return new ProjectStack(stack, projectDir);
    }

    /**
     * Writes plain config keys as a user would in Pulumi.<stack>.yaml, keeping the secrets salt and
     * the keys set otherwise (the encrypted CA).
     */
    writeConfig(values: Record<string, unknown>): void {
        const existing = (fs.existsSync(this.stackFile) ? yaml.load(fs.readFileSync(this.stackFile, "utf8")) : undefined) as
            | { config?: Record<string, unknown> }
            | undefined;
        const config = { ...existing?.config, ...Object.fromEntries(Object.entries(values).map(([k, v]) => [`istio-multicluster:${k}`, v])) };
        fs.writeFileSync(this.stackFile, yaml.dump({ ...existing, config }));
    }
}
