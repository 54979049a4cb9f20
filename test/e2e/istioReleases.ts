/**
 * The two Istio builds the upgrade e2e moves between (test/e2e/upgrade.sh): the older and the pinned
 * `istio.io/istio` module, each with its charts stamped with a release version in one Helm repository,
 * and each with its own istiod binary.
 */
import * as path from "node:path";

export interface IstioRelease {
    /** The version stamped on its charts, and so its istiod's image tag. */
    readonly version: string;
    /** Its `pilot-discovery`, built from the same module as its charts. */
    readonly istiod: string;
}

const release = (version: string | undefined, binDir: string | undefined): IstioRelease => ({ version: version ?? "", istiod: path.join(binDir ?? "", "pilot-discovery") });

export const OLDER = release(process.env.ISTIO_OLDER_RELEASE, process.env.ISTIO_OLDER_BIN_DIR);
export const NEWER = release(process.env.ISTIO_NEWER_RELEASE, process.env.ISTIO_BIN_DIR);
/** The Helm repository (`index.yaml` and the packaged charts of both releases) test/e2e/upgrade.sh made. */
export const helmRepositoryDir = process.env.ISTIO_HELM_REPOSITORY_DIR ?? "";

/** The release tag of an image (`docker.io/istio/proxyv2:<tag>`). */
export const tagOf = (image: string) => image.slice(image.lastIndexOf(":") + 1);

/** The istiod binary of the release whose image an istiod Deployment names, as a node would pull that image. */
export function istiodOf(image: string): string {
    const found = [OLDER, NEWER].find((r) => r.version === tagOf(image));
    if (found === undefined) {
        throw new Error(`no istiod for image ${image}: the releases are ${OLDER.version} and ${NEWER.version}`);
    }
    return found.istiod;
}
