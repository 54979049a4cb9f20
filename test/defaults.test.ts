import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deployMesh } from "../stacks/mesh";
import { DEFAULT_IMAGES, DEFAULT_ISTIO_VERSION, OFFICIAL_ISTIO_CHART_REPO, parseStackConfig } from "../stacks/config";
import { fakeState } from "./harness/fakeCluster";
import { runWithMocks } from "./harness/mockRuntime";
import { parseImageReference, SEMVER } from "./harness/references";
import { TWO_CLUSTERS_TWO_NETWORKS } from "./harness/scenarios";

/**
 * Where Istio stopped publishing: istio/istio#61467 and the 1.31 upgrade notes retire these in
 * December 2026 (charts move to blob.istio.io and oci://ghcr.io/istio/release/charts, images stay on
 * Docker Hub).
 */
const RETIRED = ["gcr.io/istio-release", "istio-release.storage.googleapis.com", "registry.istio.io"];

const TEST_APP_IMAGES = [DEFAULT_IMAGES.helloworldV1, DEFAULT_IMAGES.helloworldV2, DEFAULT_IMAGES.curl];

describe("the grammars the defaults are held to", () => {
    it("reject what is not an image reference or a version", () => {
        for (const bad of ["docker.io/Istio/pilot:1.0", "docker.io/istio/pilot:", "docker.io/istio/pilot:1 .0", "docker.io//pilot", "https://docker.io/istio/pilot"]) {
            assert.equal(parseImageReference(bad), undefined, bad);
        }
        assert.deepEqual(parseImageReference("istio/pilot:1.31.1"), { registry: undefined, repository: "istio/pilot", tag: "1.31.1", digest: undefined });
        for (const bad of ["1.31", "v1.31.1", "1.31.01", "latest"]) {
            assert.doesNotMatch(bad, SEMVER);
        }
    });
});

describe("the program's defaults", () => {
    it("name an Istio release as a MAJOR.MINOR.PATCH semantic version", () => {
        const match = SEMVER.exec(DEFAULT_ISTIO_VERSION);
        assert.ok(match, `${DEFAULT_ISTIO_VERSION} is not a semantic version`);
        assert.equal(match[4], undefined, "a pre-release is not a default");
        assert.equal(match[5], undefined, "build metadata is not a default");
    });

    it("name test-app images by registry, repository and tag", () => {
        for (const image of TEST_APP_IMAGES) {
            const reference = parseImageReference(image);
            assert.ok(reference, `${image} is not an image reference`);
            assert.ok(reference.registry, `${image} names no registry`);
            assert.ok(reference.tag && reference.tag !== "latest", `${image} is not pinned to a tag`);
        }
    });

    it("name an Istio hub that makes image references of Istio's images", () => {
        for (const image of ["pilot", "proxyv2"]) {
            const reference = parseImageReference(`${DEFAULT_IMAGES.istioHub}/${image}:${DEFAULT_ISTIO_VERSION}`);
            assert.ok(reference?.registry, `${DEFAULT_IMAGES.istioHub} is not a hub with a registry`);
        }
    });

    it("name an https chart repository", () => {
        const url = new URL(OFFICIAL_ISTIO_CHART_REPO);
        assert.equal(url.protocol, "https:");
    });

    it("point at none of the locations Istio retires", () => {
        for (const value of [OFFICIAL_ISTIO_CHART_REPO, DEFAULT_IMAGES.istioHub, ...TEST_APP_IMAGES]) {
            for (const retired of RETIRED) {
                assert.ok(!value.includes(retired), `${value} is on ${retired}`);
            }
        }
    });

    it("give istiod (and through its injector, proxies and gateways) the default hub, unless one is configured", async () => {
        const hubs = async (images: Record<string, string>) => {
            const { resources } = await runWithMocks(() => deployMesh(parseStackConfig({ ...TWO_CLUSTERS_TWO_NETWORKS, images }).config), fakeState);
            return resources.filter((r) => r.name.endsWith("-istiod")).map((r) => r.inputs.values.global.hub);
        };
        assert.deepEqual(await hubs({}), [DEFAULT_IMAGES.istioHub, DEFAULT_IMAGES.istioHub]);
        assert.deepEqual(await hubs({ istioHub: "mirror.example.com/istio" }), ["mirror.example.com/istio", "mirror.example.com/istio"]);
    });
});
