import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ClusterCaBundle, Intermediate, phaseBundle, RotationPhase, trustedRoots } from "./caPhases";

/** During a root rotation: its phase, and where the new root comes from. */
export interface RootRotationSource {
    readonly phase: RotationPhase;
    /** A supplied CA's new root; a generated CA's is generated, as generation `rootGeneration` + 1. */
    readonly rootCert?: string;
    /** A supplied CA's new intermediates, one per cluster (needed from `sign-new` on). */
    readonly intermediates?: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
}

/** The mesh's CA: generated here, or supplied as a root and one intermediate per cluster; and a root rotation under way. */
export type CaSource = (
    | {
          readonly type: "generated";
          readonly organization: string;
          readonly validityHours: number;
          /** An intermediate is issued anew by the first `pulumi up` this many hours before it expires. */
          readonly renewBeforeHours: number;
          /** Which generated root the mesh has: 0 for the first, one more after each completed rotation. */
          readonly rootGeneration: number;
      }
    | {
          readonly type: "provided";
          readonly rootCert: string;
          readonly intermediates: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
          /** Only warned about (stacks/caExpiry.ts): a supplied CA is renewed by its owner. */
          readonly renewBeforeHours?: number;
      }
) & { readonly rotation?: RootRotationSource };

export interface MeshTrustArgs {
    readonly ca: CaSource;
    readonly clusterNames: readonly string[];
}

/** A root and, by cluster, its intermediates (a supplied new root may have none yet). */
interface Ca {
    readonly root: pulumi.Output<string>;
    readonly rootNotAfter: pulumi.Output<string | undefined>;
    readonly intermediates?: Readonly<Record<string, Intermediate>>;
}

/** What the names of a generated root's resources end with: nothing for the first root, `-g<k>` for generation k. */
export const generationSuffix = (generation: number) => (generation === 0 ? "" : `-g${generation}`);

/** Key usages of a CA certificate that signs workload certificates. */
const CA_USAGES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const ROOT_VALIDITY_HOURS = 10 * 365 * 24;

/**
 * The mesh's shared root of trust: one root CA and, per cluster, an intermediate CA signed by it.
 * Without a common root, workloads in different clusters reject each other's mTLS certificates. During
 * a root rotation, also the new root and its intermediates; each cluster's `cacerts` then holds what the
 * phase says (components/caPhases.ts).
 */
export class MeshTrust extends pulumi.ComponentResource {
    /** The roots `root-cert.pem` holds: the mesh's root, or during a rotation the old, both or the new. */
    readonly rootCert: pulumi.Output<string>;
    /** When the root expires (the old one during a rotation; RFC 3339), or undefined for a supplied one that cannot be read. */
    readonly rootNotAfter: pulumi.Output<string | undefined>;
    readonly bundles: Readonly<Record<string, ClusterCaBundle>>;

    constructor(name: string, args: MeshTrustArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:trust:MeshTrust", name, {}, opts);
        const { ca, clusterNames } = args;
        const old = ca.type === "provided" ? suppliedCa(ca.rootCert, ca.intermediates) : this.generatedCa(name, ca, ca.rootGeneration, clusterNames);
        const rotation = ca.rotation && {
            phase: ca.rotation.phase,
            next: ca.type === "provided" ? suppliedCa(ca.rotation.rootCert!, ca.rotation.intermediates) : this.generatedCa(name, ca, ca.rootGeneration + 1, clusterNames),
        };
        const bundles: Record<string, ClusterCaBundle> = {};
        for (const cluster of clusterNames) {
            const oldCa = { root: old.root, intermediate: old.intermediates![cluster] };
            bundles[cluster] = phaseBundle(oldCa, rotation && { phase: rotation.phase, next: { root: rotation.next.root, intermediate: rotation.next.intermediates?.[cluster] } });
        }
        this.bundles = bundles;
        this.rootCert = trustedRoots(old.root, rotation && { phase: rotation.phase, next: rotation.next.root });
        this.rootNotAfter = old.rootNotAfter;
        this.registerOutputs({ rootCert: this.rootCert, rootNotAfter: this.rootNotAfter });
    }

    /** The root of `generation` and an intermediate per cluster under it, as tls resources. */
    private generatedCa(name: string, ca: Extract<CaSource, { type: "generated" }>, generation: number, clusterNames: readonly string[]): Ca {
        const { organization, validityHours, renewBeforeHours } = ca;
        const suffix = generationSuffix(generation);
        const rootKey = new tls.PrivateKey(`${name}-root${suffix}-key`, { algorithm: "RSA", rsaBits: 4096 }, { parent: this });
        const root = new tls.SelfSignedCert(
            `${name}-root${suffix}-cert`,
            {
                privateKeyPem: rootKey.privateKeyPem,
                subject: { commonName: "Root CA", organization },
                isCaCertificate: true,
                setSubjectKeyId: true,
                validityPeriodHours: ROOT_VALIDITY_HOURS,
                allowedUses: CA_USAGES,
            },
            { parent: this },
        );
        const intermediates: Record<string, Intermediate> = {};
        for (const cluster of clusterNames) {
            const key = new tls.PrivateKey(`${name}-${cluster}-ca${suffix}-key`, { algorithm: "RSA", rsaBits: 4096 }, { parent: this });
            const request = new tls.CertRequest(
                `${name}-${cluster}-ca${suffix}-csr`,
                {
                    privateKeyPem: key.privateKeyPem,
                    subject: { commonName: "Intermediate CA", organization, locality: cluster },
                },
                { parent: this },
            );
            // Renewal: from `renewBeforeHours` before its end, the provider reports the certificate ready
            // for renewal (at the refresh, and in the plan of every preview), which replaces it: a new
            // certificate for the same key, under the same root, that `cacerts` takes in place.
            // Istio's intermediates carry `pathlen:0` (Makefile.selfsigned.mk); the tls provider cannot
            // write it: `maxPathLength: 0` reaches Go's x509 as MaxPathLen 0 without MaxPathLenZero,
            // which means "no limit" (terraform-provider-tls 4.2.1 common_cert.go), so it is not set.
            const cert = new tls.LocallySignedCert(
                `${name}-${cluster}-ca${suffix}-cert`,
                {
                    certRequestPem: request.certRequestPem,
                    caPrivateKeyPem: rootKey.privateKeyPem,
                    caCertPem: root.certPem,
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    validityPeriodHours: validityHours,
                    earlyRenewalHours: renewBeforeHours,
                    allowedUses: CA_USAGES,
                },
                { parent: this },
            );
            intermediates[cluster] = { cert: cert.certPem, key: pulumi.secret(key.privateKeyPem), notAfter: cert.validityEndTime };
        }
        return { root: root.certPem, rootNotAfter: root.validityEndTime, intermediates };
    }
}

/** A supplied root and, where given, its intermediates. */
function suppliedCa(rootCert: string, intermediates: RootRotationSource["intermediates"]): Ca {
    return {
        root: pulumi.output(rootCert),
        rootNotAfter: pulumi.output(notAfterOf(rootCert)),
        intermediates:
            intermediates &&
            Object.fromEntries(
                Object.entries(intermediates).map(([cluster, { cert, key }]) => [
                    cluster,
                    { cert: pulumi.output(cert), key: pulumi.secret(key), notAfter: pulumi.output(notAfterOf(cert)) },
                ]),
            ),
    };
}

/** The end of a PEM certificate's validity as RFC 3339 (UTC, whole seconds), or undefined if it cannot be read. */
export function notAfterOf(pem: string): string | undefined {
    try {
        return new Date(new X509Certificate(pem).validTo).toISOString().replace(/\.000Z$/, "Z");
    } catch {
        return undefined;
    }
}
