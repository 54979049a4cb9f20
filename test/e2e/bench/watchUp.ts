/**
 * For `npm run bench -- compare`: watches one `pulumi up`, the process tree under <root pid> (the
 * contender script), until the root is gone, then writes <output> (a WatchedUp as JSON):
 *  - the peak of the summed resident memory (VmRSS) of every process under the root (the pulumi CLI,
 *    its language host, the node program and the provider plugins), sampled every 100 ms from /proc,
 *    and what each executable held at that peak;
 *  - the same for the proportional set size (Pss of smaps_rollup): a page shared by several processes
 *    (the kubernetes provider's 300 MB binary, mapped by one process per cluster) counts once in the
 *    sum, as in the memory a machine or a container's limit is charged, where VmRSS counts it in each;
 *  - the CPU time (user and system) each executable used, summed over its processes as last sampled;
 *  - the events of Pulumi's event log (`pulumi up --event-log <file>`), each stamped with the time it
 *    appeared in the file, polled every 5 ms: Pulumi's own timestamps are whole seconds. The CLI writes
 *    the log once for the preview and then again, truncated, for the update; each event has its phase.
 *   node build/test/e2e/bench/watchUp.js <root pid> <start, seconds since the epoch> <event log> <output>
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface StampedEvent {
    /** Milliseconds since the epoch when the event appeared in the log. */
    readonly t: number;
    /** 0 for the preview, 1 for the update. */
    readonly phase: number;
    /** The event's kind: preludeEvent, resourcePreEvent, resOutputsEvent, summaryEvent, ... */
    readonly kind: string;
    readonly urn?: string;
    readonly type?: string;
    readonly op?: string;
    /** A custom resource (or provider), as opposed to a component. */
    readonly custom?: boolean;
}

export interface WatchedUp {
    /** When the contender script started, milliseconds since the epoch. */
    readonly startMs: number;
    readonly peakRssBytes: number;
    readonly peakByExecutable: Record<string, number>;
    readonly peakPssBytes: number;
    readonly pssPeakByExecutable: Record<string, number>;
    readonly cpuSecondsByExecutable: Record<string, number>;
    readonly events: StampedEvent[];
}

/** Reads the event log as the CLI appends to it, and notices when it starts over. */
class EventLogTail {
    readonly events: StampedEvent[] = [];
    constructor(private readonly eventLog: string) {}
    private fd: number | undefined;
    private offset = 0;
    private pending = Buffer.alloc(0);
    private phase = 0;
    private lastSequence = -1;

    poll(): void {
        if (this.fd === undefined) {
            try {
                this.fd = fs.openSync(this.eventLog, "r");
            } catch {
                return; // not written yet
            }
        }
        const size = fs.fstatSync(this.fd).size;
        if (size < this.offset) {
            this.startOver();
        }
        const chunk = Buffer.alloc(size - this.offset);
        const read = fs.readSync(this.fd, chunk, 0, chunk.length, this.offset);
        this.offset += read;
        this.pending = Buffer.concat([this.pending, chunk.subarray(0, read)]);
        const t = Date.now();
        for (let end = this.pending.indexOf(10); end >= 0; end = this.pending.indexOf(10)) {
            const line = this.pending.subarray(0, end).toString("utf8");
            this.pending = this.pending.subarray(end + 1);
            let event: any;
            try {
                event = JSON.parse(line);
            } catch {
                event = undefined;
            }
            // Truncated and already written past where this reader was: read the new log from its start.
            if (event?.sequence !== this.lastSequence + 1) {
                this.startOver();
                this.poll();
                return;
            }
            this.lastSequence = event.sequence;
            this.record(event, t);
        }
    }

    private startOver(): void {
        this.phase++;
        this.offset = 0;
        this.pending = Buffer.alloc(0);
        this.lastSequence = -1;
    }

    private record(event: any, t: number): void {
        const kind = Object.keys(event).find((k) => k !== "sequence" && k !== "timestamp")!;
        if (kind === "diagnosticEvent" || kind === "stdoutEvent") {
            return;
        }
        const metadata = event[kind]?.metadata;
        const state = metadata?.new ?? metadata?.old;
        this.events.push({ t, phase: this.phase, kind, urn: metadata?.urn, type: metadata?.type, op: metadata?.op, custom: state?.custom });
    }
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

/** The highest sum seen of one measure over the processes, and that sum by executable. */
class Peak {
    bytes = 0;
    byExecutable: Record<string, number> = {};

    offer(byExecutable: Record<string, number>): void {
        const total = Object.values(byExecutable).reduce((a, b) => a + b, 0);
        if (total > this.bytes) {
            this.bytes = total;
            this.byExecutable = byExecutable;
        }
    }
}

/** The summed VmRSS and Pss of every process under the root, by executable, and each process's CPU time. */
class ProcessSampler {
    readonly rss = new Peak();
    readonly pss = new Peak();
    private readonly names = new Map<number, string>();
    /** Per process, its user and system CPU time (seconds) when last sampled. */
    private readonly cpuSeconds = new Map<number, number>();
    constructor(private readonly root: number) {}

    cpuSecondsByExecutable(): Record<string, number> {
        const byExecutable: Record<string, number> = {};
        for (const [pid, seconds] of this.cpuSeconds) {
            const name = this.name(pid);
            byExecutable[name] = (byExecutable[name] ?? 0) + seconds;
        }
        return byExecutable;
    }

    sample(): void {
        const children = new Map<number, number[]>();
        /** Per process, the fields of its stat after the executable's name (state, ppid, ...). */
        const stats = new Map<number, string[]>();
        for (const entry of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(entry)) continue;
            const stat = readProc(Number(entry), "stat");
            if (!stat) continue;
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            stats.set(Number(entry), fields);
            const ppid = Number(fields[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        }
        const rssByExecutable: Record<string, number> = {};
        const pssByExecutable: Record<string, number> = {};
        for (let queue = [...(children.get(this.root) ?? [])]; queue.length > 0; ) {
            const pid = queue.shift()!;
            queue = queue.concat(children.get(pid) ?? []);
            // utime and stime, the 14th and 15th fields of stat
            const [utime, stime] = stats.get(pid)!.slice(11, 13).map(Number);
            this.cpuSeconds.set(pid, (utime + stime) / CLOCK_TICKS_PER_SECOND);
            const name = this.name(pid);
            rssByExecutable[name] = (rssByExecutable[name] ?? 0) + kilobytes(readProc(pid, "status"), "VmRSS") * 1024;
            pssByExecutable[name] = (pssByExecutable[name] ?? 0) + kilobytes(readProc(pid, "smaps_rollup"), "Pss") * 1024;
        }
        this.rss.offer(rssByExecutable);
        this.pss.offer(pssByExecutable);
    }

    private name(pid: number): string {
        if (!this.names.has(pid)) {
            this.names.set(pid, path.basename((readProc(pid, "cmdline") ?? "").split("\0")[0] || "?"));
        }
        return this.names.get(pid)!;
    }
}

/** The "<field>: <n> kB" line of a /proc file, 0 if the process has ended. */
function kilobytes(procFile: string | undefined, field: string): number {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(procFile ?? "")?.[1] ?? 0);
}

function readProc(pid: number, file: string): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
        return undefined; // the process has ended
    }
}

/** Gone, or ended and not yet reaped by the benchmark. */
function ended(pid: number): boolean {
    const stat = readProc(pid, "stat");
    return !stat || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

function main(): void {
    const [root, start, eventLog, output] = process.argv.slice(2);
    const tail = new EventLogTail(eventLog);
    const processes = new ProcessSampler(Number(root));
    const polling = setInterval(() => tail.poll(), 5);
    const sampling = setInterval(() => {
        if (!ended(Number(root))) {
            processes.sample();
            return;
        }
        clearInterval(polling);
        clearInterval(sampling);
        tail.poll();
        const watched: WatchedUp = {
            startMs: Number(start) * 1000,
            peakRssBytes: processes.rss.bytes,
            peakByExecutable: processes.rss.byExecutable,
            peakPssBytes: processes.pss.bytes,
            pssPeakByExecutable: processes.pss.byExecutable,
            cpuSecondsByExecutable: processes.cpuSecondsByExecutable(),
            events: tail.events,
        };
        fs.writeFileSync(output, JSON.stringify(watched));
    }, 100);
}

main();
