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

/** What a step changes against the one before, as the engine would plan it: URNs created, deleted and updated. */
export async function plan(before: StackConfigInput, after: StackConfigInput) {
    const [a, b] = [await registrationDigests(before), await registrationDigests(after)];
    const name = (urn: string) => urn.split("::").pop()!;
    return {
        create: Object.keys(b).filter((u) => !(u in a)).map(name).sort(),
        delete: Object.keys(a).filter((u) => !(u in b)).map(name).sort(),
        update: Object.keys(b).filter((u) => u in a && a[u] !== b[u]).map(name).sort(),
    };
}
