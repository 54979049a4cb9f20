/** The `images` section: where Istio's and the test app's images come from, for mirrors. */
import { section, text } from "./keys";

// Defaults that upstream publishes (checked 2026-11): Istio's images stay on Docker Hub after the
// registries on GCP retire in December 2026 (see istio.ts).
export const DEFAULT_IMAGES = {
    // Where Istio's release builds push, and the hub the 1.31 charts name (istio/release-builder:
    // release/publish.sh; release/build.sh on release-1.31, #2370 "Revert default registry in helm charts
    // to docker"). Set explicitly because the 1.30 charts (release-1.30's build.sh, at least 1.30.0 to
    // 1.30.3) name registry.istio.io/release, which is retired in December 2026.
    istioHub: "docker.io/istio",
    // samples/helloworld/helloworld.yaml names these images on registry.istio.io/release (1.30, 1.31);
    // that registry is retired with gcr.io, and the same images stay on Docker Hub.
    helloworldV1: "docker.io/istio/examples-helloworld-v1:1.0",
    helloworldV2: "docker.io/istio/examples-helloworld-v2:1.0",
    // samples/curl/curl.yaml (istio 1.31.0).
    curl: "docker.io/curlimages/curl:8.16.0",
};

const image = () => text("a container image reference without spaces", /^\S+$/);

export const images = section({
    istioHub: image().default(DEFAULT_IMAGES.istioHub).meta({
        description: "registry of Istio's own images (`global.hub`); set it for a mirror, and on air-gapped sites whose local charts name another registry",
    }),
    helloworldV1: image().default(DEFAULT_IMAGES.helloworldV1).meta({ description: "test-app image, for mirrors" }),
    helloworldV2: image().default(DEFAULT_IMAGES.helloworldV2).meta({ description: "test-app image, for mirrors" }),
    curl: image().default(DEFAULT_IMAGES.curl).meta({ description: "test-app and traffic-check image, for mirrors" }),
}).prefault({});
