/**
 * The layout of the CRD set's first release, rebuilt in an exported state: a `pulumi-nodejs` provider
 * per set (`<cluster>-istio-crds-provider`, beside the set under its ControlPlane) instead of the one
 * every set now shares. The engine then judges the move back to one provider (mesh.e2e.ts).
 */
import { randomUUID } from "node:crypto";

const SET_TYPE = "pulumi-nodejs:dynamic:Resource";
const PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    parent?: string;
    provider?: string;
    [key: string]: unknown;
}

/** `state` (from `pulumi stack export`) with a provider of its own for each CRD set; the names of those providers. */
export function withProviderPerSet(state: string): { state: string; providers: string[] } {
    const exported = JSON.parse(state);
    const resources: StateResource[] = exported.deployment.resources;
    const shared = resources.find((r) => r.type === PROVIDER_TYPE && r.urn.endsWith("::istio-crds-provider"));
    if (shared === undefined) {
        throw new Error("the state has no provider istio-crds-provider");
    }
    const providers: string[] = [];
    const rebuilt = resources.flatMap((resource) => {
        if (resource.type !== SET_TYPE || !resource.urn.endsWith("-istio-crds")) {
            return [resource];
        }
        const name = `${resource.urn.split("::").pop()}-provider`;
        const urn = resource.urn.replace(/\$pulumi-nodejs:dynamic:Resource::[^:]+$/, `$${PROVIDER_TYPE}::${name}`);
        const provider: StateResource = { ...shared, urn, id: randomUUID(), parent: resource.parent };
        providers.push(name);
        return [provider, { ...resource, provider: `${urn}::${provider.id}` }];
    });
    exported.deployment.resources = rebuilt;
    return { state: JSON.stringify(exported), providers };
}
