/**
 * Where a root rotation stands in the clusters, and which phase may follow. The program records on each
 * cluster's `cacerts` the phase it wrote, the new root it rotates to and when the phase reached that
 * cluster; stacks/foreignCacerts.ts reads these annotations (the Secret's metadata only) before any
 * resource is registered. A phase may follow the clusters' only one step at a time, forward or back, and
 * not sooner than `ca.rootRotation.waitHours` after `trust-both` or `sign-new`. Clusters the program
 * creates with kind, or reaches through a proxy, are not read, so nothing is checked for them.
 */
import { createHash, X509Certificate } from "node:crypto";
import { ROTATION_PHASES, RotationPhase } from "../components/caPhases";
import { StackConfig } from "./config";
import { stopProgram } from "./stopProgram";

/** On `cacerts` during a rotation: the phase written there. */
export const ROOT_ROTATION_ANNOTATION = "istio-multicluster.pulumi.com/root-rotation";
/** The new root: `generation <k>` for a generated one, `sha256:<fingerprint>` for a supplied one. */
export const ROOT_ROTATION_TO_ANNOTATION = "istio-multicluster.pulumi.com/root-rotation-to";
/** When the phase reached the cluster (RFC 3339). */
export const ROOT_ROTATION_SINCE_ANNOTATION = "istio-multicluster.pulumi.com/root-rotation-since";
/** A generated root's generation, once it is not the first (so that a stack that never rotated keeps its `cacerts` as it was). */
export const ROOT_GENERATION_ANNOTATION = "istio-multicluster.pulumi.com/root-generation";

/** The annotations of each cluster's `cacerts` as read (null: it has none yet); a cluster not read has no entry. */
export type InstalledCacerts = Readonly<Record<string, Readonly<Record<string, string>> | null>>;

type Ca = StackConfig["ca"];
const HOUR_MS = 3_600_000;
/** The steps of a rotation: 0 the old root alone, 1 to 4 the phases, DONE the new root alone (the rotation removed). */
const DONE = ROTATION_PHASES.length + 1;

const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/** A supplied root's SHA-256 fingerprint (of the text, if it is not a readable certificate). */
function fingerprint(pem: string): string {
    try {
        return `sha256:${new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase()}`;
    } catch {
        return `sha256:${createHash("sha256").update(pem.trim()).digest("hex")}`;
    }
}

/** The mesh's root as the config names it, or during a rotation the new one. */
function rootId(ca: Ca, which: "current" | "next"): string {
    if (ca.type === "generated") {
        return `generation ${ca.rootGeneration + (which === "next" ? 1 : 0)}`;
    }
    return fingerprint(which === "next" ? ca.rotation!.rootCert! : ca.rootCert);
}

/** What step `n` of the rotation to `target` is, as the config would say it. */
function stepName(n: number, target: string): string {
    if (n === 0) {
        return "ca.rootRotation removed, with the old root";
    }
    if (n === DONE) {
        const generation = /^generation (\d+)$/.exec(target)?.[1];
        return generation !== undefined
            ? `ca.rootRotation removed, with ca.rootGeneration ${generation}`
            : `ca.rootRotation removed, with the new root (${target}) as ca.rootCert and its intermediates as ca.intermediates`;
    }
    return `phase ${JSON.stringify(ROTATION_PHASES[n - 1])}`;
}

/** The config's key a problem names: the phase, or the rotation that is not set. */
const configKey = (ca: Ca): { key: string; value: unknown } =>
    ca.rotation !== undefined ? { key: "ca.rootRotation.phase", value: ca.rotation.phase } : { key: "ca.rootRotation", value: undefined };

const got = (value: unknown) => (value === undefined ? "missing" : `got ${JSON.stringify(value)}`);

/** Where one cluster stands and where the config would take it, in steps of the rotation to `target`; or why they cannot be compared. */
function steps(ca: Ca, cluster: string, annotations: Readonly<Record<string, string>>): { installed: number; configured: number; target: string } | string {
    const { key, value } = configKey(ca);
    const phase = annotations[ROOT_ROTATION_ANNOTATION];
    const to = annotations[ROOT_ROTATION_TO_ANNOTATION];
    if (phase !== undefined) {
        const installed = ROTATION_PHASES.indexOf(phase as RotationPhase) + 1;
        if (installed === 0 || to === undefined) {
            return `${key}: ${got(value)}; expected nothing until cluster ${cluster}'s cacerts is readable: its annotations ${ROOT_ROTATION_ANNOTATION}=${JSON.stringify(phase)} and ${ROOT_ROTATION_TO_ANNOTATION}=${JSON.stringify(to)} are not a phase and a root this program writes`;
        }
        if (ca.rotation === undefined) {
            // Ended (the root it went to is the config's) or undone (it is not).
            return { installed, configured: to === rootId(ca, "current") ? DONE : 0, target: to };
        }
        if (to !== rootId(ca, "next")) {
            return `${key}: ${got(value)}; expected no rotation to another root while cluster ${cluster}'s cacerts is in phase ${JSON.stringify(phase)} of a rotation to ${to}: finish or undo that one first (this one goes to ${rootId(ca, "next")})`;
        }
        return { installed, configured: ROTATION_PHASES.indexOf(ca.rotation.phase) + 1, target: to };
    }
    const configured = ca.rotation === undefined ? 0 : ROTATION_PHASES.indexOf(ca.rotation.phase) + 1;
    const target = ca.rotation === undefined ? rootId(ca, "current") : rootId(ca, "next");
    if (ca.type === "provided") {
        // Which supplied root a cluster holds outside a rotation is not recorded: taken to be the old one.
        return { installed: 0, configured, target };
    }
    const generation = Number(annotations[ROOT_GENERATION_ANNOTATION] ?? "0");
    if (generation === ca.rootGeneration) {
        return { installed: 0, configured, target };
    }
    if (ca.rotation !== undefined && generation === ca.rootGeneration + 1) {
        return { installed: DONE, configured, target };
    }
    return (
        `ca.rootGeneration: got ${ca.rootGeneration}; expected ${generation}, the generation of the root in cluster ${cluster}'s cacerts: ` +
        `a generated root is replaced only by a rotation (ca.rootRotation), which raises it by one at its end`
    );
}

/** Why `trust-both` and `sign-new` must stay a while before the next phase. */
const WAIT_REASON: Partial<Record<RotationPhase, string>> = {
    "trust-both": "so that every workload trusts the new root before any certificate is signed under it (a workload takes the new root with its next certificate, within the 24 hours a workload certificate lasts)",
    "sign-new": "so that no workload still uses a certificate from an old intermediate when the old root is dropped (they last 24 hours)",
};

/** Whether the config takes a cluster from its phase to the next sooner than `ca.rootRotation.waitHours` allow. */
function tooSoon(ca: Ca, cluster: string, annotations: Readonly<Record<string, string>>, installed: number, now: Date): string | undefined {
    const phase = ROTATION_PHASES[installed - 1];
    const rotation = ca.rotation;
    if (rotation === undefined || WAIT_REASON[phase] === undefined) {
        return undefined;
    }
    const { key, value } = configKey(ca);
    const since = Date.parse(annotations[ROOT_ROTATION_SINCE_ANNOTATION] ?? "");
    if (Number.isNaN(since)) {
        return (
            `${key}: ${got(value)}; expected ${JSON.stringify(phase)} for now: when ${JSON.stringify(phase)} reached cluster ${cluster} is not recorded ` +
            `on its cacerts (${ROOT_ROTATION_SINCE_ANNOTATION}); a \`pulumi up\` with phase ${JSON.stringify(phase)} records it, and the next phase follows ${rotation.waitHours} hours later`
        );
    }
    const from = new Date(since + rotation.waitHours * HOUR_MS);
    if (from <= now) {
        return undefined;
    }
    return (
        `${key}: ${got(value)}; expected ${JSON.stringify(phase)} until ${rfc3339(from)}: ${JSON.stringify(phase)} reached cluster ${cluster} at ` +
        `${rfc3339(new Date(since))} and stays ca.rootRotation.waitHours (${rotation.waitHours}) in every cluster, ${WAIT_REASON[phase]}`
    );
}

/** Every reason the config cannot take the clusters where it says, as problems `<key>: got ...; expected ...`. */
export function rootRotationProblems(config: StackConfig, installed: InstalledCacerts, now: Date): string[] {
    const { ca } = config;
    const problems: string[] = [];
    for (const { name } of config.clusters.filter((c) => !c.gone)) {
        const annotations = installed[name];
        if (annotations === undefined || annotations === null) {
            continue; // not read, or a cluster without cacerts yet: nothing of a rotation to keep
        }
        const where = steps(ca, name, annotations);
        if (typeof where === "string") {
            problems.push(where);
            continue;
        }
        const { installed: from, configured: to, target } = where;
        if (Math.abs(to - from) > 1) {
            const { key, value } = configKey(ca);
            const allowed = [from - 1, from, from + 1].filter((n) => n >= 0 && n <= DONE).map((n) => stepName(n, target));
            problems.push(
                `${key}: ${got(value)}; expected ${allowed.join(", or ")}: cluster ${name}'s cacerts is at ${stepName(from, target)}, and a rotation moves one phase at a time, ` +
                    `each in every cluster before the next (docs/credentials.md)`,
            );
        } else if (to === from + 1) {
            const wait = tooSoon(ca, name, annotations, from, now);
            if (wait !== undefined) {
                problems.push(wait);
            }
        }
    }
    return problems;
}

/** Stops the program before any resource is registered when the config would skip a phase, or go on too soon. */
export function requireRootRotationInOrder(config: StackConfig, installed: InstalledCacerts, now: Date): void {
    const problems = rootRotationProblems(config, installed, now);
    if (problems.length > 0) {
        throw stopProgram(`The root rotation cannot go where the config says; stopped before changing anything:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

/**
 * What each cluster's `cacerts` records of the rotation: nothing for a stack that never rotated. The time
 * a phase reached a cluster is kept from its `cacerts` while the phase stays (so that a preview shows no
 * change), and left out for a cluster that is not read.
 */
export function rootRotationAnnotations(config: StackConfig, installed: InstalledCacerts, now: Date): Record<string, Record<string, string>> {
    const { ca } = config;
    const generation: Record<string, string> = ca.type === "generated" && ca.rootGeneration > 0 ? { [ROOT_GENERATION_ANNOTATION]: String(ca.rootGeneration) } : {};
    return Object.fromEntries(
        config.clusters
            .filter((c) => !c.gone)
            .map(({ name }): [string, Record<string, string>] => {
                if (ca.rotation === undefined) {
                    return [name, generation];
                }
                const record = { [ROOT_ROTATION_ANNOTATION]: ca.rotation.phase, [ROOT_ROTATION_TO_ANNOTATION]: rootId(ca, "next") };
                const read = installed[name];
                if (read === undefined) {
                    return [name, { ...generation, ...record }];
                }
                const samePhase = read !== null && Object.entries(record).every(([k, v]) => read[k] === v);
                const since = (samePhase && read[ROOT_ROTATION_SINCE_ANNOTATION]) || rfc3339(now);
                return [name, { ...generation, ...record, [ROOT_ROTATION_SINCE_ANNOTATION]: since }];
            }),
    );
}

/** Where the rotation stands after this run, and what may follow, for `pulumi preview` to say. */
export function rootRotationStatus(config: StackConfig, annotations: Readonly<Record<string, Readonly<Record<string, string>>>>): string | undefined {
    const { ca } = config;
    const rotation = ca.rotation;
    if (rotation === undefined) {
        return undefined;
    }
    const next = ROTATION_PHASES[ROTATION_PHASES.indexOf(rotation.phase) + 1];
    const where = `root rotation to ${rootId(ca, "next")}: phase ${JSON.stringify(rotation.phase)}`;
    if (next === undefined) {
        return `${where}; it ends with ${stepName(DONE, rootId(ca, "next"))}`;
    }
    if (WAIT_REASON[rotation.phase] === undefined) {
        return `${where}; ${JSON.stringify(next)} may follow once every istiod has restarted with ISTIO_MULTIROOT_MESH (with workloads.awaitReady, \`pulumi up\` waits for that)`;
    }
    const times = Object.values(annotations).map((a) => Date.parse(a[ROOT_ROTATION_SINCE_ANNOTATION] ?? ""));
    const known = times.filter((t) => !Number.isNaN(t));
    const when = known.length === 0 ? `${rotation.waitHours} hours after it reached the last cluster` : `from ${rfc3339(new Date(Math.max(...known) + rotation.waitHours * HOUR_MS))}`;
    return `${where}; ${JSON.stringify(next)} may follow ${when} (ca.rootRotation.waitHours)`;
}
