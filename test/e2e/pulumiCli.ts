import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One line of the engine's event log (`pulumi --event-log`). */
export interface EngineEvent {
    readonly sequence: number;
    readonly timestamp: number;
    readonly [kind: string]: any;
}

/** How a `pulumi` command ended. */
export interface CliResult {
    readonly pid: number;
    readonly code: number | null;
    readonly signal: string | null;
    readonly stdout: string;
    /** stdout and stderr as they came. */
    readonly output: string;
    readonly seconds: number;
    /** The engine's event log of the command, for the commands that write one. */
    readonly eventLog?: string;
    /** When the fault struck, in seconds after the command started; undefined if it never did. */
    readonly struckAt?: number;
    /** The processes the CLI had started (language host, program, plugins) when the fault struck. */
    readonly descendantsAtStrike: readonly number[];
}

/** A fault injected into a running `pulumi` command. */
export interface Interruption {
    /** Asked at each engine event (and with no event every 100 ms): is now the moment? */
    readonly at: (event: EngineEvent | undefined, secondsSinceStart: number) => boolean;
    /**
     * What happens at that moment, to the CLI (`pid`) and the processes it started (`descendants`); the
     * CLI starts each plugin in a process group of its own, so they are not in the CLI's group.
     */
    readonly strike: (pid: number, descendants: readonly number[]) => void;
}

/** The commands that run the engine, and so can write its event log. */
const WITH_EVENT_LOG = new Set(["up", "preview", "refresh", "destroy", "import"]);

/** The URN of the resource an event is about, for the events that concern one resource. */
export function urnOf(event: EngineEvent | undefined): string | undefined {
    return event?.resourcePreEvent?.metadata?.urn;
}

/** `kill -KILL` of the CLI alone: its plugins live on, as after a closed terminal or `kill -9 <pid>`. */
export const killCli = (pid: number) => process.kill(pid, "SIGKILL");

/** `kill -KILL` of the CLI and every process it started, as a cancelled CI job (which kills the whole tree) or a closed laptop. */
export function killTree(pid: number, descendants: readonly number[]): void {
    for (const target of [pid, ...descendants]) {
        try {
            process.kill(target, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

/** Parent and state of a process from /proc, or undefined when it is gone. */
function processStatus(pid: number): { readonly parent: number; readonly state: string } | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, parent] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { parent: Number(parent), state };
    } catch {
        return undefined;
    }
}

/** Every process below `pid` in the process tree. */
export function descendantsOf(pid: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        const parent = processStatus(Number(entry))?.parent;
        if (parent !== undefined) {
            children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
        }
    }
    const found: number[] = [];
    const pending = [pid];
    while (pending.length > 0) {
        for (const child of children.get(pending.pop()!) ?? []) {
            found.push(child);
            pending.push(child);
        }
    }
    return found;
}

/** Whether a process still runs (not gone, not a zombie waiting to be reaped). */
export const stillRunning = (pid: number) => !["Z", "X", undefined].includes(processStatus(pid)?.state);

/** How a PulumiCli runs pulumi: the command before pulumi's arguments, and environment settings added to this process's. */
export interface CliRunner {
    /** `["pulumi"]` by default; `RUN_PULUMI` for pulumi as the npm scripts run it. */
    readonly command?: readonly string[];
    readonly env?: NodeJS.ProcessEnv;
}

/** pulumi as the npm scripts run it (scripts/run-pulumi.sh), from the repository's root. */
export const RUN_PULUMI = ["bash", path.resolve("scripts/run-pulumi.sh")] as const;

/**
 * The real `pulumi` CLI against one stack, each command in its own process group so that a fault can
 * kill it alone or with every plugin it started.
 */
export class PulumiCli {
    /** Numbers every command's event log, across the instances that share a log directory. */
    private static runs = 0;

    constructor(
        private readonly stack: string,
        private readonly projectDir: string,
        private readonly logDir: string,
        private readonly runner: CliRunner = {},
    ) {}

    run(args: string[], interruption?: Interruption): Promise<CliResult> {
        const eventLog = path.join(this.logDir, `${this.stack}-${++PulumiCli.runs}-${args[0]}.events.jsonl`);
        const logged = WITH_EVENT_LOG.has(args[0]) ? ["--event-log", eventLog] : [];
        const [command, ...before] = this.runner.command ?? ["pulumi"];
        const child = spawn(command, [...before, ...args, "--stack", this.stack, "--cwd", this.projectDir, "--non-interactive", ...logged], {
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
            // --event-log is one of the CLI's debug commands (as the Automation API enables it).
            env: { ...process.env, ...this.runner.env, PULUMI_DEBUG_COMMANDS: "true" },
        });
        const started = Date.now();
        const elapsed = () => (Date.now() - started) / 1000;
        let output = "";
        let stdout = "";
        child.stdout.on("data", (chunk) => {
            output += chunk;
            stdout += chunk;
        });
        child.stderr.on("data", (chunk) => (output += chunk));

        let struckAt: number | undefined;
        let descendantsAtStrike: number[] = [];
        let offset = 0;
        let partial = "";
        const strikeIfDue = () => {
            if (!interruption || struckAt !== undefined || child.pid === undefined) {
                return;
            }
            // Only what was appended since the last look; the last line may still be being written.
            const appended = fs.existsSync(eventLog) ? readFrom(eventLog, offset) : Buffer.alloc(0);
            offset += appended.length;
            const lines = (partial + appended.toString("utf8")).split("\n");
            partial = lines.pop()!;
            for (const event of [...lines.map((line): EngineEvent => JSON.parse(line)), undefined]) {
                if (interruption.at(event, elapsed())) {
                    struckAt = elapsed();
                    descendantsAtStrike = descendantsOf(child.pid);
                    interruption.strike(child.pid, descendantsAtStrike);
                    return;
                }
            }
        };
        const timer = interruption ? setInterval(strikeIfDue, 100) : undefined;

        return new Promise((resolve, reject) => {
            child.on("error", reject);
            // "exit", not "close": plugins that outlive a killed CLI keep its output pipes open.
            child.on("exit", (code, signal) => {
                clearInterval(timer);
                const written = logged.length > 0 ? eventLog : undefined;
                resolve({ pid: child.pid!, code, signal, stdout, output, seconds: elapsed(), eventLog: written, struckAt, descendantsAtStrike });
            });
        });
    }

    /** Runs the command and fails with its output unless it succeeded. */
    async mustRun(args: string[]): Promise<CliResult> {
        const result = await this.run(args);
        if (result.code !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.code}\n${result.output}`);
        }
        return result;
    }
}

function readFrom(file: string, offset: number): Buffer {
    const fd = fs.openSync(file, "r");
    try {
        const size = fs.fstatSync(fd).size;
        const buffer = Buffer.alloc(Math.max(0, size - offset));
        fs.readSync(fd, buffer, 0, buffer.length, offset);
        return buffer;
    } finally {
        fs.closeSync(fd);
    }
}
