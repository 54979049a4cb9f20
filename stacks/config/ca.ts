/** The `ca` section: the mesh's root of trust, generated or the site's own. */
import { z } from "zod";
import { isObject, onceValid, Rule, section, SecretOnly, text, wholeNumber } from "./keys";
import { expects, problem, report } from "./problems";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/;

const GENERATED_CA = { organization: "Istio multicluster mesh", validityHours: 24 * 365 };

export const ca = section({
    // Defaults are applied below, once it is clear that the CA is generated.
    organization: text("a non-empty string")
        .optional()
        .meta({ default: GENERATED_CA.organization, description: "for the generated CA: the certificates' organization" }),
    validityHours: wholeNumber(24, 24 * 365 * 20)
        .optional()
        .meta({ default: GENERATED_CA.validityHours, description: "for the generated CA: the intermediates' lifetime in hours (the root lasts 10 years)" }),
    rootCert: text("a PEM certificate (the mesh's root CA)", PEM_CERT)
        .optional()
        .meta({ secret: true, "x-default": "generated", description: "bring your own CA instead: the root certificate" }),
    intermediates: z
        .record(
            z.string().meta({ title: "cluster" }),
            section({
                cert: text("a PEM certificate signed by ca.rootCert", PEM_CERT).meta({ secret: true, description: "the cluster's intermediate CA certificate" }),
                key: text("a PEM private key", PEM_KEY, "secret").meta({ secret: true, description: "its private key" }),
            }),
            expects("an object with one {cert, key} entry per cluster"),
        )
        .optional()
        .meta({
            "x-default": "generated",
            description: "with `rootCert`: one intermediate CA per cluster; the whole `ca` must be set as a secret (`pulumi config set --secret --path ...`)",
        }),
})
    // A supplied CA has both parts and leaves nothing to generate.
    .superRefine((c, ctx) => {
        if (c.rootCert === undefined && c.intermediates === undefined) {
            return;
        }
        for (const key of ["organization", "validityHours"] as const) {
            if (c[key] !== undefined) {
                report(ctx, [key], problem(c[key], "no value when ca.rootCert/ca.intermediates supply an existing CA"));
            }
        }
        if (c.rootCert === undefined) {
            report(ctx, ["rootCert"], problem(undefined, "a PEM certificate (the mesh's root CA)"));
        }
        if (c.intermediates === undefined) {
            report(ctx, ["intermediates"], problem(undefined, "an object with one {cert, key} entry per cluster"));
        }
    }, onceValid())
    .prefault({})
    .meta({ secret: true })
    .transform(({ rootCert, intermediates, organization, validityHours }) =>
        rootCert !== undefined && intermediates !== undefined
            ? { type: "provided" as const, rootCert, intermediates }
            : {
                  type: "generated" as const,
                  organization: organization ?? GENERATED_CA.organization,
                  validityHours: validityHours ?? GENERATED_CA.validityHours,
              },
    );

/**
 * A supplied CA has an intermediate for every cluster, and only for those. Checked even while an
 * entry has problems of its own, so `ca` may still be the object as written.
 */
export const intermediatesMatchClusters: Rule<{ ca: unknown; clusters: readonly { name: string }[] }> = [
    ({ ca, clusters }, ctx) => {
        const intermediates = isObject(ca) ? ca.intermediates : undefined;
        if (!isObject(intermediates)) {
            return;
        }
        const names = clusters.map((c) => c.name);
        for (const name of names.filter((n) => !Object.hasOwn(intermediates, n))) {
            report(ctx, ["ca", "intermediates", name], problem(undefined, `the {cert, key} of cluster ${name}'s intermediate CA`));
        }
        for (const name of Object.keys(intermediates).filter((n) => !names.includes(n))) {
            report(ctx, ["ca", "intermediates", name], problem("{...}", `an entry only for a configured cluster (${names.join(", ")})`));
        }
    },
    onceValid("clusters"),
];

/** A supplied CA must be set as a secret. */
export const CA_SECRET_ONLY: SecretOnly = {
    key: "ca",
    fields: ["rootCert", "intermediates"],
    problem: "ca: got a plain-text value; expected a secret (set it with `pulumi config set --secret --path ca.intermediates.<cluster>.key ...`)",
};
