import { createHash } from "node:crypto";
import { parseStackConfig, StackConfigInput } from "../../stacks/config";
import { deployMesh } from "../../stacks/mesh";
import { fakeState } from "./fakeCluster";
import { runWithMocks } from "./mockRuntime";

const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);

/**
 * What the program registers for `raw`, as the engine would compare it with the state: by URN, a
 * digest of each resource's inputs, provider, parent and dependencies; and a digest of the outputs.
 */
export async function resourceDigests(raw: StackConfigInput): Promise<Record<string, string>> {
    const { config } = parseStackConfig(raw);
    const { result, resources } = await runWithMocks(() => deployMesh(config), fakeState);
    const outputs = { ...result, clusters: result.clusters.map(({ apiServer, ...summary }) => summary), rootCert: undefined, verification: undefined };
    const sorted = [...resources].sort((a, b) => a.urn.localeCompare(b.urn));
    return {
        outputs: digest(outputs),
        ...Object.fromEntries(
            sorted.map((r) => [r.urn, digest({ inputs: r.inputs, provider: r.provider, parent: r.parent, dependencies: [...r.dependencies].sort() })]),
        ),
    };
}
