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
}

/** The mesh's CA: generated here, or supplied as a root and one intermediate per cluster. */
export type CaSource =
    | { readonly type: "generated"; readonly organization: string; readonly validityHours: number }
    | {
          readonly type: "provided";
          readonly rootCert: string;
          readonly intermediates: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
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
    readonly bundles: Readonly<Record<string, ClusterCaBundle>>;

    constructor(name: string, args: MeshTrustArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:trust:MeshTrust", name, {}, opts);
        const bundles: Record<string, ClusterCaBundle> = {};

        if (args.ca.type === "provided") {
            const provided = args.ca;
            this.rootCert = pulumi.output(provided.rootCert);
            for (const cluster of args.clusterNames) {
                const { cert, key } = provided.intermediates[cluster];
                bundles[cluster] = bundle(pulumi.output(cert), pulumi.secret(key), this.rootCert);
            }
        } else {
            const { organization, validityHours } = args.ca;
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
                const cert = new tls.LocallySignedCert(
                    `${name}-${cluster}-ca-cert`,
                    {
                        certRequestPem: request.certRequestPem,
                        caPrivateKeyPem: rootKey.privateKeyPem,
                        caCertPem: root.certPem,
                        isCaCertificate: true,
                        setSubjectKeyId: true,
                        validityPeriodHours: validityHours,
                        allowedUses: CA_USAGES,
                    },
                    { parent: this },
                );
                bundles[cluster] = bundle(cert.certPem, pulumi.secret(key.privateKeyPem), this.rootCert);
            }
        }
        this.bundles = bundles;
        this.registerOutputs({ rootCert: this.rootCert });
    }
}

function bundle(caCert: pulumi.Output<string>, caKey: pulumi.Output<string>, rootCert: pulumi.Output<string>): ClusterCaBundle {
    const certChain = pulumi.all([caCert, rootCert]).apply(([intermediate, root]) => `${intermediate.trimEnd()}\n${root.trimEnd()}\n`);
    return { caCert, caKey, rootCert, certChain };
}
