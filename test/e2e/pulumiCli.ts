import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

/** What a command printed and how it ended. */
export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function run(command: string, args: string[], input?: string): Run {
    const result = spawnSync(command, args, { encoding: "utf8", input, maxBuffer: 256 * 1024 * 1024 });
    if (result.error) {
        throw result.error;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Fails with the command's own output when it did not succeed. */
export function mustRun(command: string, args: string[], input?: string): Run {
    const result = run(command, args, input);
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
}

/** One Pulumi stack of this project, its config kept in a file of its own under the work directory. */
export class Stack {
    readonly configFile: string;

    constructor(readonly name: string, work: string) {
        this.configFile = path.join(work, `Pulumi.${name}.yaml`);
    }

    init(): void {
        mustRun("pulumi", ["stack", "init", this.name, "--non-interactive"]);
    }

    writeConfig(values: Record<string, unknown>): void {
        const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`istio-multicluster:${k}`, v]));
        fs.writeFileSync(this.configFile, yaml.dump({ config }));
    }

    /** `pulumi <args>` on this stack, non-interactive, without colour. */
    pulumi(args: string[]): Run {
        return run("pulumi", [...args, "--stack", this.name, "--config-file", this.configFile, "--non-interactive", "--color", "never"]);
    }

    mustPulumi(args: string[]): Run {
        const result = this.pulumi(args);
        if (result.status !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
        }
        return result;
    }

    exportState(): string {
        return mustRun("pulumi", ["stack", "export", "--stack", this.name]).stdout;
    }
}

/** kubectl against one of the test control planes, as its admin or with another kubeconfig. */
export function kubectl(kubeconfig: string, args: string[]): Run {
    return run("kubectl", ["--kubeconfig", kubeconfig, ...args]);
}

export function mustKubectl(kubeconfig: string, args: string[]): string {
    const result = kubectl(kubeconfig, args);
    if (result.status !== 0) {
        throw new Error(`kubectl ${args.join(" ")} exited ${result.status}\n${result.stderr}`);
    }
    return result.stdout;
}

/** A JSON object from the API server. */
export function getJson(kubeconfig: string, args: string[]): any {
    return JSON.parse(mustKubectl(kubeconfig, ["get", ...args, "-o", "json"]));
}
