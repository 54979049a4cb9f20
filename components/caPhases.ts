/**
 * What a cluster's `cacerts` holds in each phase of a root rotation, as Istio's own test of it goes
 * (tests/integration/security/cacert_rotation): the old and the new root trusted side by side, then the
 * new intermediates signing, then the new root alone. istiod takes each step without a restart only
 * with ISTIO_MULTIROOT_MESH=true, and only when one `root-cert.pem` holds all the certificates of the
 * other (pilot/pkg/bootstrap/istio_ca.go: handleEvent), which each step here does.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * In order. `prepare` only turns on ISTIO_MULTIROOT_MESH (istiod restarts with it: it is read at start),
 * so that every istiod runs with it before `root-cert.pem` first changes.
 */
export const ROTATION_PHASES = ["prepare", "trust-both", "sign-new", "new-only"] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/** A cluster's intermediate CA. */
export interface Intermediate {
    readonly cert: pulumi.Output<string>;
    /** Secret. */
    readonly key: pulumi.Output<string>;
    /** When it expires (RFC 3339), or undefined for a supplied one that cannot be read. */
    readonly notAfter: pulumi.Output<string | undefined>;
}

/** One CA as a cluster's `cacerts` may take it: a root, and that cluster's intermediate under it (if it has one yet). */
export interface ClusterCa {
    readonly root: pulumi.Output<string>;
    readonly intermediate?: Intermediate;
}

/** The four files Istio's plugged-in CA reads from the `cacerts` Secret of one cluster. */
export interface ClusterCaBundle {
    readonly caCert: pulumi.Output<string>;
    /** Secret. */
    readonly caKey: pulumi.Output<string>;
    /** The roots workloads trust. */
    readonly rootCert: pulumi.Output<string>;
    /** The intermediate followed by the root it chains to. */
    readonly certChain: pulumi.Output<string>;
    /** When the intermediate expires (RFC 3339), or undefined for a supplied one that cannot be read. */
    readonly caCertNotAfter: pulumi.Output<string | undefined>;
}

/** Whether the new intermediates sign in `phase`. */
export const signsWithNew = (phase: RotationPhase) => phase === "sign-new" || phase === "new-only";

/** The roots `root-cert.pem` holds: the old one, or during a rotation as its phase says: the old, both, or the new. */
export function trustedRoots(old: pulumi.Output<string>, rotation?: { readonly phase: RotationPhase; readonly next: pulumi.Output<string> }): pulumi.Output<string> {
    if (rotation === undefined || rotation.phase === "prepare") {
        return old;
    }
    if (rotation.phase === "new-only") {
        return rotation.next;
    }
    // The same bytes in trust-both and sign-new, so that istiod sees only the intermediate change in sign-new.
    return pulumi.all([old, rotation.next]).apply(([o, n]) => `${o.trimEnd()}\n${n.trimEnd()}\n`);
}

/**
 * A cluster's `cacerts` from its CA, or, during a rotation, from its old and new CA as `phase` says (the
 * new intermediate is needed from `sign-new` on). `cert-chain.pem` is the signing intermediate and the
 * root it chains to, whatever `root-cert.pem` trusts.
 */
export function phaseBundle(old: Required<ClusterCa>, rotation?: { readonly phase: RotationPhase; readonly next: ClusterCa }): ClusterCaBundle {
    const signer = rotation !== undefined && signsWithNew(rotation.phase) ? rotation.next : old;
    if (signer.intermediate === undefined) {
        throw new Error(`phase ${rotation?.phase} needs the new root's intermediate`);
    }
    const { cert, key, notAfter } = signer.intermediate;
    const certChain = pulumi.all([cert, signer.root]).apply(([intermediate, root]) => `${intermediate.trimEnd()}\n${root.trimEnd()}\n`);
    const rootCert = trustedRoots(old.root, rotation && { phase: rotation.phase, next: rotation.next.root });
    return { caCert: cert, caKey: key, rootCert, certChain, caCertNotAfter: notAfter };
}
