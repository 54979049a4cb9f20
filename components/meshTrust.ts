import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** The four files Istio's plugged-in CA reads from the `cacerts` Secret of one cluster. */
export interface ClusterCaBundle {
    readonly caCert: pulumi.Output<string>;
    /** Secret. */
    readonly caKey: pulumi.Output<string>;
    readonly rootCert: pulumi.Output<string>;
    /** The intermediate followed by the root. */
    readonly certChain: pulumi.Output<string>;
    /** When the intermediate expires (RFC 3339), or undefined for a supplied one that cannot be read. */
    readonly caCertNotAfter: pulumi.Output<string | undefined>;
}

/** The mesh's CA: generated here, or supplied as a root and one intermediate per cluster. */
export type CaSource =
    | {
          readonly type: "generated";
          readonly organization: string;
          readonly validityHours: number;
          /** An intermediate is issued anew by the first `pulumi up` this many hours before it expires. */
          readonly renewBeforeHours: number;
      }
    | {
          readonly type: "provided";
          readonly rootCert: string;
          readonly intermediates: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
          /** Only warned about (stacks/caExpiry.ts): a supplied CA is renewed by its owner. */
          readonly renewBeforeHours?: number;
      };

export interface MeshTrustArgs {
    readonly ca: CaSource;
    readonly clusterNames: readonly string[];
}

/** Key usages of a CA certificate that signs workload certificates. */
const CA_USAGES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const ROOT_VALIDITY_HOURS = 10 * 365 * 24;

/**
 * The mesh's shared root of trust: one root CA and, per cluster, an intermediate CA signed by it.
 * Without a common root, workloads in different clusters reject each other's mTLS certificates.
 */
export class MeshTrust extends pulumi.ComponentResource {
    readonly rootCert: pulumi.Output<string>;
    /** When the root expires (RFC 3339), or undefined for a supplied one that cannot be read. */
    readonly rootNotAfter: pulumi.Output<string | undefined>;
    readonly bundles: Readonly<Record<string, ClusterCaBundle>>;

    constructor(name: string, args: MeshTrustArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:trust:MeshTrust", name, {}, opts);
        const bundles: Record<string, ClusterCaBundle> = {};

        if (args.ca.type === "provided") {
            const provided = args.ca;
            this.rootCert = pulumi.output(provided.rootCert);
            this.rootNotAfter = pulumi.output(notAfterOf(provided.rootCert));
            for (const cluster of args.clusterNames) {
                const { cert, key } = provided.intermediates[cluster];
                bundles[cluster] = bundle(pulumi.output(cert), pulumi.secret(key), this.rootCert, pulumi.output(notAfterOf(cert)));
            }
        } else {
            const { organization, validityHours, renewBeforeHours } = args.ca;
            const rootKey = new tls.PrivateKey(`${name}-root-key`, { algorithm: "RSA", rsaBits: 4096 }, { parent: this });
            const root = new tls.SelfSignedCert(
                `${name}-root-cert`,
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
            this.rootCert = root.certPem;
            this.rootNotAfter = root.validityEndTime;
            for (const cluster of args.clusterNames) {
                const key = new tls.PrivateKey(`${name}-${cluster}-ca-key`, { algorithm: "RSA", rsaBits: 4096 }, { parent: this });
                const request = new tls.CertRequest(
                    `${name}-${cluster}-ca-csr`,
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
                    `${name}-${cluster}-ca-cert`,
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
                bundles[cluster] = bundle(cert.certPem, pulumi.secret(key.privateKeyPem), this.rootCert, cert.validityEndTime);
            }
        }
        this.bundles = bundles;
        this.registerOutputs({ rootCert: this.rootCert, rootNotAfter: this.rootNotAfter });
    }
}

function bundle(
    caCert: pulumi.Output<string>,
    caKey: pulumi.Output<string>,
    rootCert: pulumi.Output<string>,
    caCertNotAfter: pulumi.Output<string | undefined>,
): ClusterCaBundle {
    const certChain = pulumi.all([caCert, rootCert]).apply(([intermediate, root]) => `${intermediate.trimEnd()}\n${root.trimEnd()}\n`);
    return { caCert, caKey, rootCert, certChain, caCertNotAfter };
}

/** The end of a PEM certificate's validity as RFC 3339 (UTC, whole seconds), or undefined if it cannot be read. */
export function notAfterOf(pem: string): string | undefined {
    try {
        return new Date(new X509Certificate(pem).validTo).toISOString().replace(/\.000Z$/, "Z");
    } catch {
        return undefined;
    }
}
