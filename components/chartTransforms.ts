import * as pulumi from "@pulumi/pulumi";
import { REPAIR_EDITS_ON_UP } from "./ownership";

const VALIDATING_WEBHOOK_CONFIGURATION = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration";
const MUTATING_WEBHOOK_CONFIGURATION = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration";

/**
 * A webhook configuration created by a run that was killed before recording it is taken over by the
 * next `pulumi up` (server-side apply under that run's new field manager). Against the killed run's
 * manager, that apply fails with a conflict on the webhooks' `rules` (an atomic list) even when every
 * value is the same, and so does every later run: the fault suite shows it whenever the killed run had
 * created the validators. Applied with force, the object is taken over. The charts render neither
 * `caBundle` nor anything else istiod writes, so the force takes nothing from istiod.
 */
export const takeOverWebhooks: pulumi.ResourceTransform = ({ type, props, opts }) =>
    type === VALIDATING_WEBHOOK_CONFIGURATION || type === MUTATING_WEBHOOK_CONFIGURATION
        ? { props: { ...props, metadata: { ...props.metadata, annotations: { ...props.metadata?.annotations, ...REPAIR_EDITS_ON_UP } } }, opts }
        : undefined;

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

/**
 * The objects of a revision tag (`istio-revision-tag-<tag>` and `istiod-revision-tag-<tag>`), rendered
 * by the chart of the revision the tag points to. When the tag moves, the object passes to another
 * revision's chart under another Pulumi name: as a new resource, Pulumi would create (take over) the
 * object and then delete it with the old resource. Aliased to its name under each other revision's
 * chart, it is the same resource, updated in place: the preview shows the tag's `istio.io/rev` and its
 * webhooks' service change from one revision to the other.
 */
export function revisionTagFollows(chart: string, otherCharts: readonly { readonly name: string; readonly urn: pulumi.Input<string> }[]): pulumi.ResourceTransform {
    return ({ name, props, opts }) => {
        if (props.metadata?.labels?.["istio.io/tag"] === undefined || !name.startsWith(`${chart}:`)) {
            return undefined;
        }
        const object = name.slice(chart.length);
        const aliases = otherCharts.map((other) => ({ name: `${other.name}${object}`, parent: other.urn }));
        return { props, opts: { ...opts, aliases: [...(opts.aliases ?? []), ...aliases] } };
    };
}

/**
 * The `base` chart's validator of the default revision (`istiod-default-validator`) names that
 * revision's istiod in its webhooks, which Pulumi leaves to istiod (leaveWebhooksToIstiod): when
 * `defaultRevision` changes, only its `istio.io/rev` label would. Replaced on that label, it is
 * created again for the new revision, deleted first: created first, it would be applied over the old
 * object of the same name, whose fields the old resource and istiod own (a server-side-apply conflict).
 */
export const replaceDefaultValidatorOnRevision: pulumi.ResourceTransform = ({ type, props, opts }) =>
    type === VALIDATING_WEBHOOK_CONFIGURATION && props.metadata?.name === "istiod-default-validator"
        ? { props, opts: { ...opts, replaceOnChanges: [...(opts.replaceOnChanges ?? []), 'metadata.labels["istio.io/rev"]'], deleteBeforeReplace: true } }
        : undefined;
