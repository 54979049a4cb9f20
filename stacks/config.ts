/**
 * The stack config as one declarative schema: every key with what it allows, its default and its
 * description, the rules across keys, and from it the TypeScript type `StackConfig`, the JSON Schema of
 * Pulumi.<stack>.yaml and the configuration reference in docs/configuration.md (`npm run gen:config`).
 * Each section, with the rules across its keys, is in stacks/config/; this module assembles them and
 * parses a stack's config.
 *
 * A problem reads `<key>: got <value>; expected <what is allowed>` (or `<key>: missing; ...`), and one run
 * reports all of them: a rule across keys runs as soon as the keys it reads are valid, even when others
 * are not. `secret: true` in a key's metadata means Pulumi.<stack>.yaml may hold it encrypted;
 * SECRET_ONLY lists the values it must hold encrypted.
 */
import { z } from "zod";
import { ca, CA_SECRET_ONLY, intermediatesMatchClusters } from "./config/ca";
import { clusters, loopbackApiServerWarnings, rolesOf, topology, topologyAgreesWithClusters, withSource } from "./config/clusters";
import { images } from "./config/images";
import { CHART_CREDENTIALS_SECRET_ONLY, istio } from "./config/istio";
import { DNS1123_LABEL, DNS1123_LABEL_ALLOWED, isObject, section, text } from "./config/keys";
import { keyOf, problem } from "./config/problems";
import { remoteSecrets, tokenRotationNeedsIstio } from "./config/remoteSecrets";
import { rolloutOrderNamesEachPrimary } from "./config/rolloutOrder";
import { multiRootIsTheProgramsWhileRotating } from "./config/rootRotation";
import { clusterIstio, clusterOverridesAgree, meshWithinOneMinor } from "./config/supportPolicy";
import { testApp, verificationNeedsTestApp, verify, workloads } from "./config/testApp";
import { oneVersionWarning } from "./helloworldVersion";
import { impliedTopology } from "./topology";

export { defaultRenewBeforeHours, MIN_RENEW_BEFORE_HOURS } from "./config/ca";
export { DEFAULT_IMAGES } from "./config/images";
export { DEFAULT_ISTIO_VERSION, OFFICIAL_ISTIO_CHART_REPO } from "./config/istio";
export { READER_TOKEN_ROTATION_SINCE, rotatesReaderTokensInPlace } from "./config/remoteSecrets";

export const CONFIG_NAMESPACE = "istio-multicluster";

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export const stackConfigSchema = section({
    meshId: text(`${DNS1123_LABEL_ALLOWED}, e.g. "mesh1"`, DNS1123_LABEL).meta({ description: "the mesh ID, a DNS-1123 label (`global.meshID`)" }),
    trustDomain: text('a DNS name such as "cluster.local"', DNS_NAME)
        .default("cluster.local")
        .meta({ description: "the mesh's trust domain (`meshConfig.trustDomain`)" }),
    topology,
    clusters,
    istio,
    ca,
    remoteSecrets,
    testApp,
    verify,
    workloads,
    images,
})
    .superRefine(...topologyAgreesWithClusters)
    .superRefine(...tokenRotationNeedsIstio)
    .superRefine(...intermediatesMatchClusters)
    .superRefine(...multiRootIsTheProgramsWhileRotating)
    .superRefine(...verificationNeedsTestApp)
    .superRefine(...clusterOverridesAgree)
    .superRefine(...meshWithinOneMinor)
    .superRefine(...rolloutOrderNamesEachPrimary)
    .transform((c) => ({
        ...c,
        topology: c.topology ?? impliedTopology(rolesOf(c.clusters)),
        clusters: c.clusters.map((entry) => ({ ...withSource(entry), istio: clusterIstio(c.istio, c.clusters, entry) })),
        verify: { ...c.verify, enabled: c.verify.enabled ?? c.testApp.enabled },
    }));

/** The validated config the mesh is composed from. */
export type StackConfig = z.output<typeof stackConfigSchema>;
/** The config as written: keys without the `istio-multicluster:` prefix, values JSON-decoded. */
export type StackConfigInput = z.input<typeof stackConfigSchema>;

/** Values that must be set as secrets, in the order the problems list them. */
const SECRET_ONLY = [CA_SECRET_ONLY, CHART_CREDENTIALS_SECRET_ONLY];

function plainTextSecrets(raw: Record<string, unknown>, secretKeys: ReadonlySet<string>): string[] {
    return SECRET_ONLY.filter(({ key, fields }) => {
        const value = raw[key];
        return !secretKeys.has(key) && isObject(value) && fields.some((f) => value[f] !== undefined);
    }).map((s) => s.problem);
}

/**
 * Validates the config and fills in the defaults; throws one ConfigError that lists every problem, or
 * returns the config with warnings for the caller to log. `secretKeys` are the top-level keys the
 * stack holds as secrets.
 */
export function parseStackConfig(
    raw: Record<string, unknown>,
    secretKeys: ReadonlySet<string> = new Set(),
): { config: StackConfig; warnings: string[] } {
    const result = stackConfigSchema.safeParse(raw, { reportInput: true });
    const problems = [
        ...(result.error?.issues ?? []).flatMap((issue) =>
            // One problem per misspelt key, each with its value.
            issue.code === "unrecognized_keys"
                ? issue.keys.map((k) => `${keyOf([...issue.path, k])}: ${problem((issue.input as Record<string, unknown>)[k], issue.message)}`)
                : [`${keyOf(issue.path)}: ${issue.message}`],
        ),
        ...plainTextSecrets(raw, secretKeys),
    ];
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    // The schema has accepted `raw`.
    const config = result.data!;
    const warnings = [...loopbackApiServerWarnings((raw as StackConfigInput).clusters), ...oneVersionWarning(config.clusters, config.verify.enabled)];
    return { config, warnings };
}
