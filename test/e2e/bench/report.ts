/**
 * For `npm run bench -- compare`: prints the comparison for one cluster count from what the runs
 * recorded: <results> has a line `<contender> <step> <run> <seconds>` (tab-separated) per timed step,
 * <work>/watch-<run>.json what watchUp.js saw of the program's `pulumi up` in that run.
 *   node build/test/e2e/bench/report.js <n> <results> <work>
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StampedEvent, WatchedUp } from "./watchUp";

const CONTENDERS = ["program", "procedure", "floor"];
const PHASES = ["preview", "update"];
const LONGEST = 8;

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `median [min–max]`. */
function spread(values: number[], format = (v: number) => v.toFixed(1)): string {
    return values.length === 0 ? "-" : `${format(median(values))} [${format(Math.min(...values))}–${format(Math.max(...values))}]`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const seconds = (value: number | undefined) => (value ?? 0).toFixed(2).padStart(8);

/** Median over runs of each key's value; a key missing from a run counts as 0 there. */
function medianByKey(runs: Record<string, number>[]): Map<string, number> {
    const keys = new Set(runs.flatMap((r) => Object.keys(r)));
    return new Map([...keys].map((k) => [k, median(runs.map((r) => r[k] ?? 0))]));
}

/** Where one phase (preview or update) of a `pulumi up` spent its time, in seconds. */
interface PhaseTimes {
    /** Time stamps (ms) of its prelude, first resourcePreEvent, last resOutputsEvent and summary. */
    readonly marks: [number, number, number, number];
    /**
     * Between the first resource and the last, the time with no custom resource's step in flight: the
     * program, the engine and remote components (the base chart's rendering) between steps.
     */
    readonly idle: number;
    /** Per type, the custom resources' summed time from resourcePreEvent to resOutputsEvent. */
    readonly byType: Record<string, number>;
    /** Per custom resource (`<name> (<type>)`), its time from resourcePreEvent to resOutputsEvent. */
    readonly byResource: Record<string, number>;
}

function phaseTimes(events: StampedEvent[]): PhaseTimes {
    const first = (kind: string) => events.find((e) => e.kind === kind)?.t;
    const last = (kind: string) => events.filter((e) => e.kind === kind).pop()?.t;
    const marks = [first("preludeEvent"), first("resourcePreEvent"), last("resOutputsEvent"), first("summaryEvent")];
    if (marks.some((t) => t === undefined)) {
        throw new Error("an event log phase lacks a prelude, resource or summary event");
    }
    const started = new Map<string, StampedEvent>();
    const intervals: [number, number][] = [];
    const byType: Record<string, number> = {};
    const byResource: Record<string, number> = {};
    for (const e of events) {
        if (e.kind === "resourcePreEvent" && e.urn) {
            started.set(e.urn, e);
        } else if (e.kind === "resOutputsEvent" && e.custom && e.urn && started.has(e.urn)) {
            const begin = started.get(e.urn)!.t;
            intervals.push([begin, e.t]);
            byType[e.type!] = (byType[e.type!] ?? 0) + (e.t - begin) / 1000;
            byResource[`${e.urn.split("::").pop()} (${e.type!.split(":").pop()})`] = (e.t - begin) / 1000;
        }
    }
    // What the union of the resources' intervals leaves uncovered between the first resource and the last.
    let idle = 0;
    let covered = marks[1]!;
    for (const [begin, end] of intervals.sort((a, b) => a[0] - b[0])) {
        idle += Math.max(0, begin - covered);
        covered = Math.max(covered, end);
    }
    idle += Math.max(0, marks[2]! - covered);
    return { marks: marks as PhaseTimes["marks"], idle: idle / 1000, byType, byResource };
}

/** Consecutive spans of one `pulumi up` from the CLI's start to its exit, in seconds. */
function spans(startMs: number, endMs: number, preview: PhaseTimes, update: PhaseTimes): Record<string, number> {
    const marks: [string, number][] = [["CLI start → preview prelude", startMs]];
    for (const [name, phase] of [["preview", preview], ["update", update]] as const) {
        marks.push([`${name}: prelude → first resource (program start)`, phase.marks[0]]);
        marks.push([`${name}: first resource → last resource done`, phase.marks[1]]);
        marks.push([`${name}: last resource done → summary`, phase.marks[2]]);
        marks.push([name === "preview" ? "preview summary → update prelude" : "update summary → CLI exit", phase.marks[3]]);
    }
    return Object.fromEntries(marks.map(([name, t], i) => [name, ((marks[i + 1]?.[1] ?? endMs) - t) / 1000]));
}

function main(): void {
    const [n, resultsFile, work] = process.argv.slice(2);
    const results = fs
        .readFileSync(resultsFile, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split("\t"))
        .map(([contender, step, run, value]) => ({ contender, step, run: Number(run), seconds: Number(value) }));
    const times = (contender: string, step: string) => results.filter((r) => r.contender === contender && r.step === step).map((r) => r.seconds);
    const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
    const out: string[] = [];

    out.push(`== ${n} clusters, ${Math.max(...results.map((r) => r.run))} run(s); seconds as median [min–max] ==`);
    out.push(`${"contender".padEnd(12)}${"set-up".padEnd(22)}teardown`);
    for (const c of CONTENDERS) {
        out.push(`${c.padEnd(12)}${spread(times(c, "up")).padEnd(22)}${spread(times(c, "down"))}`);
    }
    for (const other of CONTENDERS.slice(1)) {
        out.push(`program/${other.padEnd(10)} set-up ${ratio(times("program", "up"), times(other, "up"))}x, teardown ${ratio(times("program", "down"), times(other, "down"))}x`);
    }
    out.push(
        `program: pulumi preview, no change ${spread(times("program", "preview"))}; the same with --refresh=false ${spread(times("program", "preview-no-refresh"))}; ` +
            `the same without the CLI's debug log ${spread(times("program", "preview-without-pulumi-log"))}; ` +
            `pulumi preview --diff, meshId changed ${spread(times("program", "diff"))}; ` +
            `pulumi preview of an invalid meshId, to the validation message ${spread(times("program", "invalid-config"))}`,
    );

    const ups = results.filter((r) => r.contender === "program" && r.step === "up");
    const watched = ups.map((r) => ({ up: r, data: JSON.parse(fs.readFileSync(path.join(work, `watch-${r.run}.json`), "utf8")) as WatchedUp }));
    const atPeak = [...medianByKey(watched.map((w) => w.data.peakByExecutable))].sort((a, b) => b[1] - a[1]);
    out.push(
        `pulumi up, peak resident memory summed over the CLI, language host, node program and plugins (sampled every 100 ms): ` +
            `${spread(watched.map((w) => w.data.peakRssBytes), mb)}; at the peak, by executable (median): ` +
            atPeak.map(([name, bytes]) => `${name} ${mb(bytes)}`).join(", "),
    );
    const atPssPeak = [...medianByKey(watched.map((w) => w.data.pssPeakByExecutable))].sort((a, b) => b[1] - a[1]);
    out.push(
        `pulumi up, peak proportional memory (Pss: a page shared by processes counted once, as a memory limit charges it): ` +
            `${spread(watched.map((w) => w.data.peakPssBytes), mb)}; at that peak, by executable (median): ` +
            atPssPeak.map(([name, bytes]) => `${name} ${mb(bytes)}`).join(", "),
    );
    const cpu = [...medianByKey(watched.map((w) => w.data.cpuSecondsByExecutable))].sort((a, b) => b[1] - a[1]);
    out.push(`pulumi up, CPU seconds (user and system) by executable, median: ${cpu.map(([name, s]) => `${name} ${s.toFixed(1)}`).join(", ")}`);

    const runs = watched.map((w) => {
        const [preview, update] = PHASES.map((_, phase) => phaseTimes(w.data.events.filter((e) => e.phase === phase)));
        return { preview, update, spans: spans(w.data.startMs, w.data.startMs + w.up.seconds * 1000, preview, update) };
    });
    out.push("pulumi up, from Pulumi's event log (median over runs, seconds):");
    for (const [span, value] of medianByKey(runs.map((r) => r.spans))) {
        out.push(`  ${span.padEnd(60)}${seconds(value)}`);
    }
    const both = (pick: (p: PhaseTimes) => Record<string, number>, label: string) => {
        const [preview, update] = PHASES.map((phase) => medianByKey(runs.map((r) => pick(r[phase as "preview" | "update"]))));
        const width = Math.max(label.length - 2, ...[...update.keys()].map((k) => k.length)) + 2;
        out.push(`  ${label.padEnd(width + 2)} preview   update`);
        for (const key of [...update.keys()].sort((a, b) => update.get(b)! - update.get(a)!)) {
            out.push(`    ${key.padEnd(width)}${seconds(preview.get(key))} ${seconds(update.get(key))}`);
        }
    };
    both((p) => ({ "no custom resource in flight, first resource → last": p.idle }), "idle:");
    both((p) => p.byType, "per resource type, summed resourcePreEvent → resOutputsEvent (overlap):");
    out.push(`  the ${LONGEST} longest resources of the update:`);
    const longest = [...medianByKey(runs.map((r) => r.update.byResource))].sort((a, b) => b[1] - a[1]).slice(0, LONGEST);
    const width = Math.max(...longest.map(([name]) => name.length)) + 2;
    for (const [name, value] of longest) {
        out.push(`    ${name.padEnd(width)}${seconds(value)}`);
    }
    console.log(out.join("\n"));
}

main();
