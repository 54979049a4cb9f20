import { createHash } from "node:crypto";
import { parseStackConfig, StackConfigInput } from "../../stacks/config";
import { deployMesh } from "../../stacks/mesh";
import { fakeState } from "./fakeCluster";
import { runWithMocks } from "./mockRuntime";

/** JSON with every object's keys sorted, so that equal values give equal text. */
const canonical = (value: unknown): string =>
    JSON.stringify(value, (_, v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));

const digest = (value: unknown) => createHash("sha256").update(canonical(value)).digest("hex").slice(0, 16);

/**
 * What the program registers for `raw` under the mocks, as the engine would compare it with the state:
 * by URN, a digest of each resource's inputs, which of them are secret, its provider, parent and
 * dependencies; and a digest of the stack's outputs. Equal digests, no diff.
 */
export async function registrationDigests(raw: StackConfigInput): Promise<Record<string, string>> {
    const { config } = parseStackConfig(raw as Record<string, unknown>, new Set(["ca"]));
    const { result, resources } = await runWithMocks(() => deployMesh(config), fakeState);
    const outputs = { ...result, clusters: result.clusters.map(({ apiServer, ...summary }) => summary), rootCert: undefined, verification: undefined };
    return {
        outputs: digest(outputs),
        ...Object.fromEntries(
            [...resources]
                .sort((a, b) => a.urn.localeCompare(b.urn))
                .map((r) => [r.urn, digest({ inputs: r.inputs, secretInputs: [...r.secretInputs].sort(), provider: r.provider, parent: r.parent, dependencies: [...r.dependencies].sort() })]),
        ),
    };
}
