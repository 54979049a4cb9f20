import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { baseRoleValues, injectorBeforeIstiodValues, istiodRoleValues, mergeValues } from "../components/helmValues";

describe("chart values by control-plane role (Istio's primary-remote guides, Helm tabs)", () => {
    it("leave a primary without remotes as the multi-primary guides install it", () => {
        const role = { type: "primary", servesRemotes: false } as const;
        assert.deepEqual(baseRoleValues(role), {});
        assert.deepEqual(istiodRoleValues(role, "cluster1", "network1"), {});
    });

    it("make a primary with remotes an external istiod for them (global.externalIstiod)", () => {
        const role = { type: "primary", servesRemotes: true } as const;
        assert.deepEqual(baseRoleValues(role), {});
        assert.deepEqual(istiodRoleValues(role, "cluster1", "network1"), { global: { externalIstiod: true } });
    });

    it("install a remote's base and istiod in the remote profile, pointed at its primary", () => {
        const role = { type: "remote", primary: "cluster1", discoveryAddress: "203.0.113.7" } as const;
        assert.deepEqual(baseRoleValues(role), { profile: "remote" });
        assert.deepEqual(istiodRoleValues(role, "cluster2", "network2"), {
            profile: "remote",
            global: { remotePilotAddress: "203.0.113.7", configCluster: true },
            istiodRemote: { injectionPath: "/inject/cluster/cluster2/net/network2" },
        });
    });

    it("merge under the program's common values and the stack's extra values", () => {
        const role = { type: "remote", primary: "cluster1", discoveryAddress: "203.0.113.7" } as const;
        const common = { global: { meshID: "mesh1", network: "network2" } };
        const extra = { global: { logAsJson: true } };
        assert.deepEqual(mergeValues(mergeValues(common, istiodRoleValues(role, "cluster2", "network2")), extra), {
            profile: "remote",
            global: { meshID: "mesh1", network: "network2", remotePilotAddress: "203.0.113.7", configCluster: true, logAsJson: true },
            istiodRemote: { injectionPath: "/inject/cluster/cluster2/net/network2" },
        });
    });

    it("order istiod's Deployment after the sidecar injector's ConfigMap of its revision, where the chart renders one", () => {
        const dependsOn = (values: Record<string, unknown>) =>
            (injectorBeforeIstiodValues(values, "istio-system").deploymentAnnotations as Record<string, string> | undefined)?.["config.kubernetes.io/depends-on"];
        assert.equal(dependsOn({}), "/namespaces/istio-system/ConfigMap/istio-sidecar-injector");
        assert.equal(dependsOn({ revision: "1-31" }), "/namespaces/istio-system/ConfigMap/istio-sidecar-injector-1-31");
        assert.equal(
            dependsOn({ deploymentAnnotations: { "config.kubernetes.io/depends-on": "/namespaces/istio-system/Secret/extra" } }),
            "/namespaces/istio-system/Secret/extra,/namespaces/istio-system/ConfigMap/istio-sidecar-injector",
        );
        assert.deepEqual(injectorBeforeIstiodValues({ profile: "remote" }, "istio-system"), {});
        assert.deepEqual(injectorBeforeIstiodValues({ global: { omitSidecarInjectorConfigMap: true } }, "istio-system"), {});
    });
});
