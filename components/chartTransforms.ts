import * as pulumi from "@pulumi/pulumi";

const HELM_RESOURCE_POLICY = "helm.sh/resource-policy";
const VALIDATING_WEBHOOK_CONFIGURATION = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration";

/**
 * Applies `keepCrds` to the objects the `base` chart marks `helm.sh/resource-policy: keep` (its
 * CRDs), which the kubernetes provider otherwise turns into retainOnDelete.
 */
export function retainOnDeleteFromConfig(keep: boolean): pulumi.ResourceTransform {
    return ({ props, opts }) => {
        if (props.metadata?.annotations?.[HELM_RESOURCE_POLICY] !== "keep") {
            return undefined;
        }
        return { props, opts: { ...opts, retainOnDelete: keep } };
    };
}

/**
 * Both charts render a validator that istiod takes over: `base` the default revision's
 * (`istiod-default-validator`), `istiod` its own (`istio-validator-<namespace>`). Each is created failing
 * open; once istiod runs, its webhook controller owns the webhooks' `failurePolicy` (Fail once it
 * serves) and `caBundle`. Helm's charts stop setting `failurePolicy` on upgrades for this reason.
 * Rendered as a Pulumi resource, the object would otherwise show a diff back to Ignore after every
 * start of istiod (and at every refresh) and fail every update with a server-side-apply conflict
 * against `pilot-discovery`. So Pulumi leaves the webhook list as istiod keeps it (a new chart
 * version's webhook rules reach the object by replacing it: `pulumi up --target-replace <urn>`).
 */
export const leaveWebhooksToIstiod: pulumi.ResourceTransform = ({ type, props, opts }) =>
    type === VALIDATING_WEBHOOK_CONFIGURATION
        ? { props, opts: { ...opts, ignoreChanges: [...(opts.ignoreChanges ?? []), "webhooks"] } }
        : undefined;
