import * as pulumi from "@pulumi/pulumi";

/**
 * For the objects whose out-of-band edit breaks the mesh without an error (`cacerts`, the remote
 * secrets, the Gateways that expose services and istiod): the provider applies them server-side with
 * force, so a `pulumi up` after someone edited one (the refresh before it shows the edit) takes the
 * edited fields back from that field manager instead of stopping with a conflict. Istio's webhook
 * configurations carry it too, for another reason (chartTransforms.ts, takeOverWebhooks).
 */
export const REPAIR_EDITS_ON_UP: Readonly<Record<string, string>> = { "pulumi.com/patchForce": "true" };

/** The annotation that names the stack an object belongs to, where taking over another's would do harm. */
export const STACK_ANNOTATION = "istio-multicluster.pulumi.com/stack";

/** This stack, as `STACK_ANNOTATION` records it: `<project>/<stack>`. */
export function stackIdentity(): string {
    return `${pulumi.getProject()}/${pulumi.getStack()}`;
}
