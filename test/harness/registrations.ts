import { createHash } from "node:crypto";
import { parseStackConfig, StackConfigInput } from "../../stacks/config";
import { deployMesh } from "../../stacks/mesh";
import { fakeState } from "./fakeCluster";
import { runWithMocks } from "./mockRuntime";

/** JSON with every object's keys sorted, so that equal values give equal text. */
const canonical = (value: unknown): string =>
    JSON.stringify(value, (_, v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));

/**
 * By URN, a digest of what the engine diffs a resource by (its inputs, which of them are secret, its
 * provider): every resource the program registers for `raw`, under the mocks. Equal digests, no diff.
 */
export async function registrationDigests(raw: StackConfigInput): Promise<Record<string, string>> {
    const { config } = parseStackConfig(raw as Record<string, unknown>, new Set(["ca"]));
    const { resources } = await runWithMocks(() => deployMesh(config), fakeState);
    return Object.fromEntries(
        resources
            .map((r) => [r.urn, createHash("sha256").update(canonical({ provider: r.provider, inputs: r.inputs, secretInputs: [...r.secretInputs].sort() })).digest("hex").slice(0, 16)] as const)
            .sort(([a], [b]) => a.localeCompare(b)),
    );
}
