/**
 * `ca.rootGeneration` and `ca.rootRotation`: replacing the mesh's root in phases the user advances, each
 * applied to every cluster before the next (docs/credentials.md). What each phase writes is in
 * components/caPhases.ts; which phase may follow the clusters' is checked in stacks/rootRotation.ts.
 */
import { z } from "zod";
import { ROTATION_PHASES, signsWithNew } from "../../components/caPhases";
import { intermediatesByCluster, onceValid, pemCertificate, Rule, section, wholeNumber } from "./keys";
import { expects, problem, report } from "./problems";

/**
 * How long `trust-both` and `sign-new` stay in every cluster before the next phase, by default. A
 * workload takes a new `root-cert.pem` into its trust only with its next certificate (the root comes
 * with it; without PROXY_CONFIG_XDS_AGENT on the proxies istiod pushes no trust bundle), and a certificate
 * from the old intermediate stays in use until it expires: both within the 24 hours Istio signs workload
 * certificates for (DEFAULT_WORKLOAD_CERT_TTL), plus a day's margin.
 */
export const DEFAULT_WAIT_HOURS = 48;

const PHASES = ROTATION_PHASES.map((p) => JSON.stringify(p)).join(", ");

export const rootGeneration = wholeNumber(0, 1000)
    .optional()
    .meta({
        default: 0,
        description:
            "for the generated CA: which generated root the mesh has, 0 for the first; a rotation's new root is the next generation, and once its last phase is in every cluster, raising this to it (and removing `ca.rootRotation`) ends the rotation; see docs/credentials.md",
    });

export const rootRotation = section({
    phase: z.enum(ROTATION_PHASES, expects(`one of ${PHASES}, in this order`)).meta({
        description: `the rotation's phase, advanced one at a time once the previous one is in every cluster: ${ROTATION_PHASES.map((p) => `\`${p}\``).join(", ")}; \`pulumi preview\` refuses a phase that skips one, or that comes sooner than \`ca.rootRotation.waitHours\` after \`trust-both\` or \`sign-new\`; see docs/credentials.md`,
    }),
    waitHours: wholeNumber(0, 24 * 365)
        .default(DEFAULT_WAIT_HOURS)
        .meta({
            description:
                "hours `trust-both` and `sign-new` stay in every cluster before the next phase (workloads take the new root, and give up certificates of the old intermediate, with their next certificate, within 24 hours); lower it only after restarting every workload with a proxy in every cluster",
        }),
    rootCert: pemCertificate("the new root CA")
        .optional()
        .meta({ secret: true, "x-default": "generated", description: "with a supplied CA (`ca.rootCert`): the new root" }),
    intermediates: intermediatesByCluster("ca.rootRotation.rootCert")
        .optional()
        .meta({
            "x-default": "generated",
            description: "with a supplied CA: one intermediate CA per cluster under the new root, required from `sign-new` on; a secret, as `ca` is",
        }),
})
    .optional()
    .meta({
        description:
            "replace the mesh's root without breaking mTLS: while set, istiod runs with ISTIO_MULTIROOT_MESH and each cluster's `cacerts` holds what the phase says; a generated CA's new root is generated (generation `ca.rootGeneration` + 1); see docs/credentials.md",
    });

type RootRotationInput = z.output<typeof rootRotation>;

/**
 * The rules of a rotation within `ca`: a generated CA's new root is the program's, a supplied CA's is
 * supplied, with its intermediates by the time they sign.
 */
export function rotationSourceProblems(ca: { rootCert?: string; rootRotation?: RootRotationInput }, supplied: boolean, ctx: z.RefinementCtx<unknown>): void {
    const rotation = ca.rootRotation;
    if (rotation === undefined) {
        return;
    }
    if (!supplied) {
        for (const key of ["rootCert", "intermediates"] as const) {
            if (rotation[key] !== undefined) {
                report(ctx, ["rootRotation", key], problem(key === "rootCert" ? rotation[key] : "{...}", "no value while the CA is generated: the program generates the new root, as generation ca.rootGeneration + 1"));
            }
        }
        return;
    }
    if (rotation.rootCert === undefined) {
        report(ctx, ["rootRotation", "rootCert"], problem(undefined, "a PEM certificate (the new root CA) while ca.rootCert is supplied"));
    } else if (rotation.rootCert.trim() === ca.rootCert?.trim()) {
        report(ctx, ["rootRotation", "rootCert"], problem(rotation.rootCert, "a root other than ca.rootCert: the rotation replaces ca.rootCert with it"));
    }
    if (rotation.intermediates === undefined && signsWithNew(rotation.phase)) {
        report(
            ctx,
            ["rootRotation", "intermediates"],
            problem(undefined, `an object with one {cert, key} entry per cluster, under ca.rootRotation.rootCert: they sign from phase "sign-new" on`),
        );
    }
}

/** The program sets ISTIO_MULTIROOT_MESH during a rotation, and removes it after: a value of the user's would outlast or undo it. */
export const multiRootIsTheProgramsWhileRotating: Rule<{ ca: { rotation?: unknown }; istio: { values: { istiod: Record<string, unknown> } } }> = [
    ({ ca, istio }, ctx) => {
        const env = istio.values.istiod.env as Record<string, unknown> | undefined;
        if (ca.rotation !== undefined && env?.ISTIO_MULTIROOT_MESH !== undefined) {
            report(
                ctx,
                ["istio", "values", "istiod", "env", "ISTIO_MULTIROOT_MESH"],
                problem(env.ISTIO_MULTIROOT_MESH, "no value while ca.rootRotation is set: the program sets it on istiod for the rotation, and removes it once the rotation ends"),
            );
        }
    },
    onceValid("ca", "istio"),
];
