/** The `remoteSecrets` section: the reader tokens' generation, and the Istio versions that can rotate them. */
import { z } from "zod";
import { compareVersions } from "../../components/istioVersion";
import { onceValid, Rule, section, wholeNumber } from "./keys";
import { problem, report } from "./problems";

/**
 * Rotating a reader token updates each remote secret in place (same Secret, same key). istiod rebuilds
 * the remote cluster's client when the kubeconfig's hash changes; from 1.30 it keeps serving the old
 * registry until the new one has synced, and 1.30.0 to 1.30.3 have rotation bugs fixed in 1.30.4.
 */
export const READER_TOKEN_ROTATION_SINCE = "1.30.4";

/**
 * Whether the Istio of `version` (a valid istio.version) updates a remote secret in place without losing
 * the cluster. `1.0.0` is what Istio's charts built from source carry (its release tooling writes the
 * real version at release time; the Istio 1.0 release had no `base`/`istiod` charts, which this program
 * needs), so it is taken as a development build of the newest Istio. A prerelease of a version counts as
 * older than that version, as in semver.
 */
export function rotatesReaderTokensInPlace(version: string): boolean {
    if (compareVersions(version, "1.0.0") === 0) {
        return true;
    }
    const order = compareVersions(version, READER_TOKEN_ROTATION_SINCE);
    return order > 0 || (order === 0 && !version.includes("-"));
}

export const remoteSecrets = section({
    tokenGeneration: wholeNumber(0, 1_000_000)
        .default(0)
        .meta({
            description: `the reader tokens' generation: raising it rotates every remote secret's token (a new \`istio-reader-token-for-<cluster>-<generation>\` token Secret, each remote secret updated in place, the old token deleted and so revoked at the end of \`pulumi up\`); needs istio.version ${READER_TOKEN_ROTATION_SINCE} or later; see docs/credentials.md`,
        }),
}).prefault({});

/** A rotated token reaches istiod by an in-place update of its remote secret, which older Istio mishandles. */
export const tokenRotationNeedsIstio: Rule<{
    istio: { upgradeStrategy: string; revisions: readonly { version: string }[]; inPlaceVersion?: string };
    clusters: readonly { istioVersion?: string }[];
    remoteSecrets: z.output<typeof remoteSecrets>;
}> = [
    ({ istio, clusters, remoteSecrets }, ctx) => {
        const versions: [string, string][] = [
            ...istio.revisions.map((r, j): [string, string] => [istio.upgradeStrategy === "InPlace" ? "istio.version" : `istio.revisions[${j}].version`, r.version]),
            ...clusters.flatMap((c, i): [string, string][] => (c.istioVersion === undefined ? [] : [[`clusters[${i}].istioVersion`, c.istioVersion]])),
            ...(istio.inPlaceVersion === undefined ? [] : [["istio.inPlaceVersion", istio.inPlaceVersion] as [string, string]]),
        ];
        const old = versions.find(([, version]) => !rotatesReaderTokensInPlace(version));
        if (remoteSecrets.tokenGeneration !== 0 && old !== undefined) {
            const [key, version] = old;
            report(
                ctx,
                ["remoteSecrets", "tokenGeneration"],
                problem(
                    remoteSecrets.tokenGeneration,
                    `0 while ${key} is ${JSON.stringify(version)}: a rotated token reaches istiod by an update of its remote secret in place, which Istio before ${READER_TOKEN_ROTATION_SINCE} mishandles (1.30.0 to 1.30.3 have rotation bugs; before 1.30 istiod drops the cluster until the new client has synced); upgrade ${key} first`,
                ),
            );
        }
    },
    onceValid("istio", "clusters", "remoteSecrets"),
];
