import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { leaveWebhooksToIstiod, takeOverWebhooks } from "../components/chartTransforms";
import { awaitLoadBalancerAddress } from "../components/eastWestGateway";

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
        const serviceAccount: pulumi.ResourceTransformArgs = {
            custom: true,
            type: "kubernetes:core/v1:ServiceAccount",
            name: "cluster1-istio-base:istio-system/istio-reader-service-account",
            props: { metadata: { name: "istio-reader-service-account" } },
            opts: {},
        };
        assert.equal(await leaveWebhooksToIstiod(serviceAccount), undefined);
    });
});

describe("the webhook configurations a killed run may have created", () => {
    const webhookConfiguration = (kind: string, name: string, annotations?: Record<string, string>): pulumi.ResourceTransformArgs => ({
        custom: true,
        type: `kubernetes:admissionregistration.k8s.io/v1:${kind}`,
        name: `cluster1-istiod:${name}`,
        props: { metadata: { name, ...(annotations ? { annotations } : {}) }, webhooks: [{ name: "rev.validation.istio.io", rules: [{ operations: ["CREATE"] }] }] },
        opts: { ignoreChanges: ["webhooks"] },
    });

    for (const [kind, name] of [
        ["ValidatingWebhookConfiguration", "istiod-default-validator"],
        ["MutatingWebhookConfiguration", "istio-sidecar-injector"],
    ]) {
        it(`${kind} ${name} is applied with force, so that the next up takes it over`, async () => {
            const transformed = await takeOverWebhooks(webhookConfiguration(kind, name, { "pulumi.com/skipAwait": "true" }));
            assert.deepEqual(transformed?.props.metadata.annotations, { "pulumi.com/skipAwait": "true", "pulumi.com/patchForce": "true" });
            assert.deepEqual(transformed?.props.webhooks, webhookConfiguration(kind, name).props.webhooks, "the webhooks as rendered");
            assert.deepEqual(transformed?.opts, { ignoreChanges: ["webhooks"] });
        });
    }

    it("is given the annotation also when the chart renders none", async () => {
        const transformed = await takeOverWebhooks(webhookConfiguration("ValidatingWebhookConfiguration", "istio-validator-istio-system"));
        assert.deepEqual(transformed?.props.metadata.annotations, { "pulumi.com/patchForce": "true" });
    });

    it("leaves every other object to server-side apply without force", async () => {
        const configMap: pulumi.ResourceTransformArgs = { custom: true, type: "kubernetes:core/v1:ConfigMap", name: "cluster1-istiod:istio-system/istio", props: { metadata: { name: "istio" } }, opts: {} };
        assert.equal(await takeOverWebhooks(configMap), undefined);
    });
});

describe("the east-west gateway's Service when remotes read its address", () => {
    const serviceArgs = (name: string): pulumi.ResourceTransformArgs => ({
        custom: true,
        type: "kubernetes:core/v1:Service",
        name: `cluster1-istio-eastwestgateway:istio-system/${name}`,
        props: { metadata: { name, annotations: { "pulumi.com/skipAwait": "true" } }, spec: { type: "LoadBalancer" } },
        opts: {},
    });

    it("is awaited until its load balancer has an address, and for nothing else, even when the chart's workloads are not", async () => {
        const transformed = await awaitLoadBalancerAddress(serviceArgs("istio-eastwestgateway"));
        assert.deepEqual(transformed?.props.metadata.annotations, { "pulumi.com/skipAwait": "false", "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress}" });
    });

    it("leaves every other object of the chart as it is", async () => {
        assert.equal(await awaitLoadBalancerAddress(serviceArgs("other")), undefined);
        assert.equal(await awaitLoadBalancerAddress({ ...serviceArgs("istio-eastwestgateway"), type: "kubernetes:apps/v1:Deployment" }), undefined);
    });
});
