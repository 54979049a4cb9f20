import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { externalAddressOf } from "../components/istiodExposure";

const ID = "istio-system/istio-eastwestgateway";

describe("the address remotes reach a primary's istiod on", () => {
    it("is the load balancer's IP, as the guides read it", () => {
        const service = { spec: { externalIPs: ["10.1.1.1"] }, status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }, { ip: "203.0.113.8" }] } } };
        assert.equal(externalAddressOf(service, ID), "203.0.113.7");
    });

    it("is the load balancer's hostname where it gives one instead of an IP", () => {
        assert.equal(externalAddressOf({ status: { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } } }, ID), "lb.example.com");
    });

    it("is the first external IP without a load balancer (kind nodes, istio.values.gateway.service.externalIPs)", () => {
        assert.equal(externalAddressOf({ spec: { externalIPs: ["172.18.0.3", "172.18.0.4"] }, status: { loadBalancer: {} } }, ID), "172.18.0.3");
    });

    it("is refused, naming the Service, when there is none", () => {
        assert.throws(() => externalAddressOf({ spec: {}, status: { loadBalancer: { ingress: [] } } }, ID), {
            message:
                "the east-west gateway Service istio-system/istio-eastwestgateway has no external address (no load-balancer ingress, no externalIPs), so remotes cannot reach istiod",
        });
    });
});
