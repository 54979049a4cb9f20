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
    /** When the fault struck, in seconds after the command started; undefined if it never did. */
    readonly struckAt?: number;
}

/** A fault injected into a running `pulumi` command. */
export interface Interruption {
    /** Asked at each engine event (and with no event every 100 ms): is now the moment? */
    readonly at: (event: EngineEvent | undefined, secondsSinceStart: number) => boolean;
    /** What happens at that moment; `pid` is the CLI's, which leads its own process group. */
    readonly strike: (pid: number) => void;
}

/** The commands that run the engine, and so can write its event log. */
const WITH_EVENT_LOG = new Set(["up", "preview", "refresh", "destroy", "import"]);

/** The URN of the resource an event is about, for the events that concern one resource. */
export function urnOf(event: EngineEvent | undefined): string | undefined {
    return event?.resourcePreEvent?.metadata?.urn;
}

/** `kill -KILL` of the CLI alone: its plugins live on, as after a closed terminal or `kill -9 <pid>`. */
export const killCli = (pid: number) => process.kill(pid, "SIGKILL");
/** `kill -KILL` of the CLI's whole process group, as a cancelled CI job or a closed laptop. */
export const killGroup = (pid: number) => process.kill(-pid, "SIGKILL");

/**
 * The real `pulumi` CLI against one stack, each command in its own process group so that a fault can
 * kill it alone or with every plugin it started.
 */
export class PulumiCli {
    private runs = 0;

    constructor(
        private readonly stack: string,
        private readonly projectDir: string,
        private readonly logDir: string,
    ) {}

    run(args: string[], interruption?: Interruption): Promise<CliResult> {
        const eventLog = path.join(this.logDir, `${this.stack}-${++this.runs}-${args[0]}.events.jsonl`);
        const logged = WITH_EVENT_LOG.has(args[0]) ? ["--event-log", eventLog] : [];
        const child = spawn("pulumi", [...args, "--stack", this.stack, "--cwd", this.projectDir, "--non-interactive", ...logged], {
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
            // --event-log is one of the CLI's debug commands (as the Automation API enables it).
            env: { ...process.env, PULUMI_DEBUG_COMMANDS: "true" },
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
                    interruption.strike(child.pid);
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
                resolve({ pid: child.pid!, code, signal, stdout, output, seconds: elapsed(), struckAt });
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
