/** The `ca` section: the mesh's root of trust, generated or the site's own. */
import { intermediatesByCluster, isObject, onceValid, pemCertificate, Rule, section, SecretOnly, text, wholeNumber } from "./keys";
import { problem, report } from "./problems";
import { rootGeneration, rootRotation, rotationSourceProblems } from "./rootRotation";

const GENERATED_CA = { organization: "Istio multicluster mesh", validityHours: 24 * 365 };

/*
 * Renewal of the intermediates. Istio issues workload certificates for 24 h (DEFAULT_WORKLOAD_CERT_TTL)
 * and leaves those issued by the old intermediate in use until they expire, so an intermediate must be
 * replaced while it still outlives them: at the latest a day's margin before that. By default an
 * intermediate is renewed in the last third of its lifetime (four months of a year), as certificate
 * managers do (cert-manager's default renewBefore), which leaves months to notice a failed renewal.
 */
/** 24 h of workload certificates signed just before the renewal, plus a day's margin. */
export const MIN_RENEW_BEFORE_HOURS = 48;
/** The renewal window of a certificate that lasts `lifetimeHours`: its last third, and no less than MIN_RENEW_BEFORE_HOURS. */
export const defaultRenewBeforeHours = (lifetimeHours: number) => Math.max(Math.ceil(lifetimeHours / 3), MIN_RENEW_BEFORE_HOURS);
const RENEW_BEFORE_DEFAULT = `a third of the intermediate's lifetime, at least ${MIN_RENEW_BEFORE_HOURS}`;

export const ca = section({
    // Defaults are applied below, once it is clear that the CA is generated.
    organization: text("a non-empty string")
        .optional()
        .meta({ default: GENERATED_CA.organization, description: "for the generated CA: the certificates' organization" }),
    validityHours: wholeNumber(24, 24 * 365 * 20)
        .optional()
        .meta({
            default: GENERATED_CA.validityHours,
            description: "for the generated CA: the intermediates' lifetime in hours (the root lasts 10 years); longer than `ca.renewBeforeHours`",
        }),
    renewBeforeHours: wholeNumber(MIN_RENEW_BEFORE_HOURS, 24 * 365 * 20)
        .optional()
        .meta({
            "x-default": RENEW_BEFORE_DEFAULT,
            description:
                "the renewal window, in hours before an intermediate expires: from then on `pulumi preview` warns, naming the cluster and the days left, and `pulumi up` issues a generated cluster's new intermediate under the same root and updates `cacerts` in place (a supplied one is only warned about); see docs/credentials.md",
        }),
    rootCert: pemCertificate("the mesh's root CA")
        .optional()
        .meta({ secret: true, "x-default": "generated", description: "bring your own CA instead: the root certificate" }),
    intermediates: intermediatesByCluster("ca.rootCert")
        .optional()
        .meta({
            "x-default": "generated",
            description: "with `rootCert`: one intermediate CA per cluster; the whole `ca` must be set as a secret (`pulumi config set --secret --path ...`)",
        }),
    rootGeneration,
    rootRotation,
})
    // A supplied CA has both parts and leaves nothing to generate.
    .superRefine((c, ctx) => {
        if (c.rootCert === undefined && c.intermediates === undefined) {
            return;
        }
        for (const key of ["organization", "validityHours", "rootGeneration"] as const) {
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
    .superRefine((c, ctx) => rotationSourceProblems(c, c.rootCert !== undefined || c.intermediates !== undefined, ctx), onceValid("rootCert", "intermediates", "rootRotation"))
    // A generated intermediate outlives its renewal window: otherwise every `pulumi up` would renew it.
    .superRefine((c, ctx) => {
        if (c.rootCert !== undefined || c.intermediates !== undefined) {
            return;
        }
        const validityHours = c.validityHours ?? GENERATED_CA.validityHours;
        if (c.renewBeforeHours !== undefined && c.renewBeforeHours >= validityHours) {
            report(
                ctx,
                ["renewBeforeHours"],
                problem(c.renewBeforeHours, `fewer hours than ca.validityHours (${validityHours}): an intermediate renewed that early would be renewed at every \`pulumi up\``),
            );
        } else if (c.renewBeforeHours === undefined && defaultRenewBeforeHours(validityHours) >= validityHours) {
            report(
                ctx,
                ["validityHours"],
                problem(
                    validityHours,
                    `more than ${MIN_RENEW_BEFORE_HOURS}: an intermediate is renewed at least ${MIN_RENEW_BEFORE_HOURS} hours before it expires, so that it outlives the 24-hour workload certificates it signed before the renewal (with a day's margin)`,
                ),
            );
        }
    }, onceValid("validityHours", "renewBeforeHours", "rootCert", "intermediates"))
    .prefault({})
    .meta({ secret: true })
    .transform(({ rootCert, intermediates, organization, validityHours, renewBeforeHours, rootGeneration, rootRotation: rotation }) =>
        rootCert !== undefined && intermediates !== undefined
            ? { type: "provided" as const, rootCert, intermediates, renewBeforeHours, rotation }
            : {
                  type: "generated" as const,
                  organization: organization ?? GENERATED_CA.organization,
                  validityHours: validityHours ?? GENERATED_CA.validityHours,
                  renewBeforeHours: renewBeforeHours ?? defaultRenewBeforeHours(validityHours ?? GENERATED_CA.validityHours),
                  rootGeneration: rootGeneration ?? 0,
                  rotation,
              },
    );

/**
 * A supplied CA has an intermediate for every cluster, and only for those; so has a supplied new root
 * during a rotation. Checked even while an entry has problems of its own, so `ca` may still be the
 * object as written.
 */
export const intermediatesMatchClusters: Rule<{ ca: unknown; clusters: readonly { name: string }[] }> = [
    ({ ca, clusters }, ctx) => {
        const names = clusters.map((c) => c.name);
        const rotation = isObject(ca) ? (isObject(ca.rootRotation) ? ca.rootRotation : ca.rotation) : undefined;
        for (const [path, intermediates] of [
            [["ca", "intermediates"], isObject(ca) ? ca.intermediates : undefined],
            [["ca", "rootRotation", "intermediates"], isObject(rotation) ? rotation.intermediates : undefined],
        ] as const) {
            if (!isObject(intermediates)) {
                continue;
            }
            for (const name of names.filter((n) => !Object.hasOwn(intermediates, n))) {
                report(ctx, [...path, name], problem(undefined, `the {cert, key} of cluster ${name}'s intermediate CA`));
            }
            for (const name of Object.keys(intermediates).filter((n) => !names.includes(n))) {
                report(ctx, [...path, name], problem("{...}", `an entry only for a configured cluster (${names.join(", ")})`));
            }
        }
    },
    onceValid("clusters"),
];

/** A supplied CA must be set as a secret. */
export const CA_SECRET_ONLY: SecretOnly = {
    key: "ca",
    // A supplied new root's intermediates (ca.rootRotation.intermediates) come only with these.
    fields: ["rootCert", "intermediates"],
    problem: "ca: got a plain-text value; expected a secret (set it with `pulumi config set --secret --path ca.intermediates.<cluster>.key ...`)",
};
