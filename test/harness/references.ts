/**
 * The grammars the program's defaults must follow: container image references as the distribution
 * project defines them (github.com/distribution/reference, `reference.go`), and Semantic Versioning
 * 2.0.0 (semver.org) for Helm chart versions.
 */

const ALPHA_NUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageReference {
    /** The registry, when the reference names one (the first component has a `.` or `:`, or is `localhost`). */
    readonly registry?: string;
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

/** Parses an image reference; undefined when it is not one. */
export function parseImageReference(reference: string): ImageReference | undefined {
    const match = REFERENCE.exec(reference);
    if (!match || reference.length > 255) {
        return undefined;
    }
    const [, domain, path, tag, digest] = match;
    // Like docker: "istio/pilot" is a path on the default registry, "docker.io/istio/pilot" names one.
    const isRegistry = domain !== undefined && (domain.includes(".") || domain.includes(":") || domain === "localhost");
    return {
        registry: isRegistry ? domain : undefined,
        repository: isRegistry || domain === undefined ? path : `${domain}/${path}`,
        tag,
        digest,
    };
}

/** Semantic Versioning 2.0.0, as semver.org gives it. */
export const SEMVER =
    /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
