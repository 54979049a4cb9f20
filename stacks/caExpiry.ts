/**
 * Warnings about the mesh's CA certificates running out, for `pulumi preview` and `pulumi up`: a
 * generated intermediate in its renewal window (which this `pulumi up` renews), a supplied intermediate
 * in it (which the program cannot renew), and the root's end (which no `pulumi up` renews).
 */
import { X509Certificate } from "node:crypto";
import { ISTIO_NAMESPACE } from "../components/istioControlPlane";
import { defaultRenewBeforeHours, StackConfig } from "./config";

const HOUR_MS = 3_600_000;

/**
 * The root is warned about in its last year, or, for a generated CA whose intermediates last longer, from
 * when a newly issued intermediate would outlive it: replacing a root needs every workload to trust the
 * old and the new one for a while (ISTIO_MULTIROOT_MESH), which is planned, not done in a `pulumi up`.
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

/** For a generated intermediate in its renewal window, from the end its cluster's `cacerts` records. */
export function generatedIntermediateWarning(cluster: string, notAfter: string, renewBeforeHours: number, now: Date): string | undefined {
    const end = new Date(notAfter);
    if (Number.isNaN(end.getTime()) || !inWindow(end, renewBeforeHours, now)) {
        return undefined;
    }
    const expires = end <= now ? "expired" : "expires";
    return (
        `cluster ${cluster}: its intermediate CA (mesh-trust-${cluster}-ca-cert, in ${ISTIO_NAMESPACE}/cacerts) ${expires} ${when(end, now)}, ` +
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

/** For a supplied intermediate: its window is `ca.renewBeforeHours`, or the last third of its own lifetime. */
export function suppliedIntermediateWarning(cluster: string, pem: string, renewBeforeHours: number | undefined, now: Date): string | undefined {
    const dates = datesOf(pem);
    if (dates === undefined) {
        return `cluster ${cluster}: the expiry of ca.intermediates.${cluster}.cert is not checked: it cannot be read as an X.509 certificate`;
    }
    const window = renewBeforeHours ?? defaultRenewBeforeHours((dates.notAfter.getTime() - dates.notBefore.getTime()) / HOUR_MS);
    if (!inWindow(dates.notAfter, window, now)) {
        return undefined;
    }
    const expires = dates.notAfter <= now ? "expired" : "expires";
    return (
        `cluster ${cluster}: its supplied intermediate CA (ca.intermediates.${cluster}) ${expires} ${when(dates.notAfter, now)}, ` +
        `within its renewal window (the last ${window} hours), and the program cannot renew a supplied CA: ` +
        `set a new intermediate from the same root (ca.rootCert) in ca.intermediates.${cluster}; \`pulumi up\` then updates cacerts in place`
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
        `chains to it: plan its replacement (a second root trusted beside it, ISTIO_MULTIROOT_MESH) before then; see docs/credentials.md`
    );
}

/** How long before its end the root is warned about. */
export function rootWarningHours(ca: StackConfig["ca"]): number {
    return ca.type === "generated" ? Math.max(ROOT_WARNING_HOURS, ca.validityHours) : ROOT_WARNING_HOURS;
}

/**
 * Every warning the config and the clusters' `cacerts` give before any resource is registered: the
 * generated intermediates by the end their `cacerts` records (`installedNotAfter`, by cluster; the
 * preview of a renewal cannot know the new certificate), the supplied CA from its PEM. The generated
 * root is warned about from its resource's output (stacks/mesh.ts), which is known in every preview.
 */
export function caExpiryWarnings(config: StackConfig, installedNotAfter: Readonly<Record<string, string>>, now: Date): string[] {
    const { ca } = config;
    const clusters = config.clusters.map((c) => c.name);
    if (ca.type === "generated") {
        return clusters.flatMap((c) => {
            const notAfter = installedNotAfter[c];
            const warning = notAfter === undefined ? undefined : generatedIntermediateWarning(c, notAfter, ca.renewBeforeHours, now);
            return warning === undefined ? [] : [warning];
        });
    }
    const root = datesOf(ca.rootCert);
    const warnings = clusters.map((c) => suppliedIntermediateWarning(c, ca.intermediates[c].cert, ca.renewBeforeHours, now));
    warnings.push(root === undefined ? undefined : rootWarning(root.notAfter.toISOString(), rootWarningHours(ca), true, now));
    return warnings.filter((w): w is string => w !== undefined);
}
