import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { leaveWebhooksToIstiod, retainOnDeleteFromConfig } from "../components/chartTransforms";

/** What the kubernetes provider passes for a chart object it marks retainOnDelete (`keep` policy). */
function transformArgs(annotations: Record<string, string> | undefined): pulumi.ResourceTransformArgs {
    return {
        custom: true,
        type: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        name: "cluster1-istio-base:gateways.networking.istio.io",
        props: { metadata: { name: "gateways.networking.istio.io", annotations } },
        opts: { retainOnDelete: true },
    };
}

describe("Helm's keep policy on the objects of the base chart", () => {
    it("is overridden so that pulumi destroy removes the CRDs unless istio.keepCrds is set", async () => {
        const keep = { "helm.sh/resource-policy": "keep" };
        const dropped = await retainOnDeleteFromConfig(false)(transformArgs(keep));
        assert.equal(dropped?.opts.retainOnDelete, false);
        const kept = await retainOnDeleteFromConfig(true)(transformArgs(keep));
        assert.equal(kept?.opts.retainOnDelete, true);
    });

    it("leaves objects without the policy alone", async () => {
        assert.equal(await retainOnDeleteFromConfig(false)(transformArgs(undefined)), undefined);
        assert.equal(await retainOnDeleteFromConfig(false)(transformArgs({ other: "keep" })), undefined);
    });
});

describe("the validating webhooks of the base and istiod charts", () => {
    const validators = [
        { chart: "cluster1-istio-base", name: "istiod-default-validator", webhook: "validation.istio.io" },
        { chart: "cluster1-istiod", name: "istio-validator-istio-system", webhook: "rev.validation.istio.io" },
    ];
    for (const { chart, name, webhook } of validators) {
        it(`${name} is left to istiod, which owns its failurePolicy and caBundle once it runs`, async () => {
            const transformed = await leaveWebhooksToIstiod({
                custom: true,
                type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
                name: `${chart}:${name}`,
                props: { metadata: { name }, webhooks: [{ name: webhook, failurePolicy: "Ignore" }] },
                opts: { ignoreChanges: ["metadata.annotations"] },
            });
            assert.deepEqual(transformed?.opts.ignoreChanges, ["metadata.annotations", "webhooks"]);
            assert.equal(transformed?.props.webhooks[0].failurePolicy, "Ignore", "created failing open, as the chart renders it");
        });
    }

    it("does not touch the chart's other objects", async () => {
        assert.equal(await leaveWebhooksToIstiod(transformArgs({ "helm.sh/resource-policy": "keep" })), undefined);
    });
});
