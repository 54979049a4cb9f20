/**
 * Warnings about the mesh's CA certificates running out, for `pulumi preview` and `pulumi up`: a
 * generated intermediate in its renewal window (which this `pulumi up` renews), a supplied intermediate
 * in it (which the program cannot renew), and the root's end (which no `pulumi up` renews).
 */
import { X509Certificate } from "node:crypto";
import { signsWithNew } from "../components/caPhases";
import { ISTIO_NAMESPACE } from "../components/istioControlPlane";
import { generationSuffix } from "../components/meshTrust";
import { defaultRenewBeforeHours, StackConfig } from "./config";

const HOUR_MS = 3_600_000;

/**
 * The root is warned about in its last year, or, for a generated CA whose intermediates last longer, from
 * when a newly issued intermediate would outlive it: replacing a root needs every workload to trust the
 * old and the new one for a while (ISTIO_MULTIROOT_MESH), a rotation in phases (`ca.rootRotation`) that
 * takes days, not a single `pulumi up`.
 */
export const ROOT_WARNING_HOURS = 365 * 24;

/** "on 2027-12-06T05:20:00Z, in 12.5 days" or "on ..., 3.0 days ago". */
function when(notAfter: Date, now: Date): string {
    const days = (notAfter.getTime() - now.getTime()) / (24 * HOUR_MS);
    const on = notAfter.toISOString().replace(/\.\d{3}Z$/, "Z");
    return days >= 0 ? `on ${on}, in ${days.toFixed(1)} days` : `on ${on}, ${(-days).toFixed(1)} days ago`;
}

/** Whether `now` is in the last `windowHours` before `notAfter` (or past it). */
export function inWindow(notAfter: Date, windowHours: number, now: Date): boolean {
    return notAfter.getTime() - now.getTime() <= windowHours * HOUR_MS;
}

/** For a generated intermediate (of the root of `generation`) in its renewal window, from the end its cluster's `cacerts` records. */
export function generatedIntermediateWarning(cluster: string, notAfter: string, renewBeforeHours: number, now: Date, generation = 0): string | undefined {
    const end = new Date(notAfter);
    if (Number.isNaN(end.getTime()) || !inWindow(end, renewBeforeHours, now)) {
        return undefined;
    }
    const expires = end <= now ? "expired" : "expires";
    return (
        `cluster ${cluster}: its intermediate CA (mesh-trust-${cluster}-ca${generationSuffix(generation)}-cert, in ${ISTIO_NAMESPACE}/cacerts) ${expires} ${when(end, now)}, ` +
        `within its renewal window (ca.renewBeforeHours: ${renewBeforeHours}): this \`pulumi up\` issues a new intermediate under the same root ` +
        `and updates cacerts in place, one cluster at a time`
    );
}

interface CertDates {
    readonly notBefore: Date;
    readonly notAfter: Date;
}

function datesOf(pem: string): CertDates | undefined {
    try {
        const cert = new X509Certificate(pem);
        return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
    } catch {
        return undefined;
    }
}

/** Where a supplied CA's signing intermediates and their root are set: the CA's own, or during a rotation from `sign-new` on the new ones. */
const SUPPLIED = { intermediates: "ca.intermediates", root: "ca.rootCert" };
const SUPPLIED_NEW = { intermediates: "ca.rootRotation.intermediates", root: "ca.rootRotation.rootCert" };

/** For a supplied intermediate: its window is `ca.renewBeforeHours`, or the last third of its own lifetime. */
export function suppliedIntermediateWarning(
    cluster: string,
    pem: string,
    renewBeforeHours: number | undefined,
    now: Date,
    keys: typeof SUPPLIED = SUPPLIED,
): string | undefined {
    const dates = datesOf(pem);
    if (dates === undefined) {
        return `cluster ${cluster}: the expiry of ${keys.intermediates}.${cluster}.cert is not checked: it cannot be read as an X.509 certificate`;
    }
    const window = renewBeforeHours ?? defaultRenewBeforeHours((dates.notAfter.getTime() - dates.notBefore.getTime()) / HOUR_MS);
    if (!inWindow(dates.notAfter, window, now)) {
        return undefined;
    }
    const expires = dates.notAfter <= now ? "expired" : "expires";
    return (
        `cluster ${cluster}: its supplied intermediate CA (${keys.intermediates}.${cluster}) ${expires} ${when(dates.notAfter, now)}, ` +
        `within its renewal window (the last ${window} hours), and the program cannot renew a supplied CA: ` +
        `set a new intermediate from the same root (${keys.root}) in ${keys.intermediates}.${cluster}; \`pulumi up\` then updates cacerts in place`
    );
}

/** For the root, generated or supplied, once it is within `warningHours` of its end. */
export function rootWarning(notAfter: string, warningHours: number, supplied: boolean, now: Date): string | undefined {
    const end = new Date(notAfter);
    if (Number.isNaN(end.getTime()) || !inWindow(end, warningHours, now)) {
        return undefined;
    }
    const what = supplied ? "the supplied root CA (ca.rootCert)" : "the mesh's generated root CA (mesh-trust-root-cert)";
    return (
        `${what} ${end <= now ? "expired" : "expires"} ${when(end, now)}; no \`pulumi up\` renews a root, and every certificate of the mesh ` +
        `chains to it: replace it before then with a root rotation (ca.rootRotation, in phases over days); see docs/credentials.md`
    );
}

/** How long before its end the root is warned about. */
export function rootWarningHours(ca: StackConfig["ca"]): number {
    return ca.type === "generated" ? Math.max(ROOT_WARNING_HOURS, ca.validityHours) : ROOT_WARNING_HOURS;
}

/**
 * Every warning the config and the clusters' `cacerts` give before any resource is registered: the
 * generated intermediates that sign by the end their `cacerts` records (`installedNotAfter`, by cluster;
 * the preview of a renewal cannot know the new certificate), the supplied CA from its PEM. The generated
 * root is warned about from its resource's output (stacks/mesh.ts), which is known in every preview; no
 * root is warned about while a rotation replaces it.
 */
export function caExpiryWarnings(config: StackConfig, installedNotAfter: Readonly<Record<string, string>>, now: Date): string[] {
    const { ca } = config;
    const clusters = config.clusters.map((c) => c.name);
    const newSigns = ca.rotation !== undefined && signsWithNew(ca.rotation.phase);
    if (ca.type === "generated") {
        const generation = ca.rootGeneration + (newSigns ? 1 : 0);
        return clusters.flatMap((c) => {
            const notAfter = installedNotAfter[c];
            const warning = notAfter === undefined ? undefined : generatedIntermediateWarning(c, notAfter, ca.renewBeforeHours, now, generation);
            return warning === undefined ? [] : [warning];
        });
    }
    const signing = newSigns ? ca.rotation!.intermediates! : ca.intermediates;
    const warnings = clusters.map((c) => suppliedIntermediateWarning(c, signing[c].cert, ca.renewBeforeHours, now, newSigns ? SUPPLIED_NEW : SUPPLIED));
    const root = datesOf(ca.rootCert);
    if (ca.rotation === undefined && root !== undefined) {
        warnings.push(rootWarning(root.notAfter.toISOString(), rootWarningHours(ca), true, now));
    }
    return warnings.filter((w): w is string => w !== undefined);
}
