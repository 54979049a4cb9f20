import * as fs from "node:fs";
import * as path from "node:path";

/** The token of the kubernetes provider's `helm template` invoke (what renderBaseCrds calls). */
export const HELM_TEMPLATE = "kubernetes:helm:template";

/** Two of the base chart's CRDs, enough to tell a set from a single CRD. */
export const FAKE_BASE_CRDS = ["gateways.networking.istio.io", "virtualservices.networking.istio.io"];

/**
 * What the kubernetes provider's `helm template` answers for the `base` chart, under mocks: the fake CRDs
 * (less those `base.excludedCRDs` lists), labelled with the chart's version as Helm labels them, and one
 * object that is not a CRD. The version is the one asked for, or a local chart's own.
 */
export function fakeHelmTemplate(inputs: { jsonOpts: string }): { result: object[] } {
    const opts = JSON.parse(inputs.jsonOpts);
    const version: string = opts.path ? /^version: (.*)$/m.exec(fs.readFileSync(path.join(opts.path, "Chart.yaml"), "utf8"))![1] : opts.version;
    const excluded: string[] = opts.values?.base?.excludedCRDs ?? [];
    const crds = FAKE_BASE_CRDS.filter((name) => !excluded.includes(name)).map((name) => ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name, labels: { "helm.sh/chart": `base-${version}`, "app.kubernetes.io/instance": opts.release_name } },
        spec: { group: name.split(".").slice(1).join(".") },
    }));
    return { result: [...crds, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "istio-reader-service-account", namespace: opts.namespace } }] };
}
