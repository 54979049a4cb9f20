/** The kinds of key the sections of the stack config are made of, and how a rule across keys is declared. */
import { z } from "zod";
import { expects, problem, Shown } from "./problems";

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS1123_LABEL_ALLOWED =
    "a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)";

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Options of a rule across keys of one object: it runs once `keys` are valid, whatever the other keys hold. */
export function onceValid(...keys: string[]) {
    return {
        when: (payload: z.core.ParsePayload) => isObject(payload.value) && !payload.issues.some((i) => keys.includes(String(i.path?.[0]))),
    };
}

/** A string matching `pattern`, or any non-empty string. */
export function text(allowed: string, pattern?: RegExp, shown: Shown = "abbreviated") {
    const s = z.string(expects(allowed, shown));
    return pattern ? s.regex(pattern, expects(allowed, shown)) : s.min(1, expects(allowed, shown));
}

/** An object with exactly these keys: any other key is reported as a typo. */
export function section<T extends z.ZodRawShape>(shape: T) {
    const keys = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (issue) => (issue.code === "unrecognized_keys" ? `no such key (allowed keys: ${keys})` : problem(issue.input, `an object with the keys ${keys}`)),
    });
}

/**
 * Like `section`, for values that are secret: no problem shows a value, not even a misspelt key's.
 * The file may hold the whole object encrypted.
 */
export function secretSection<T extends z.ZodRawShape>(shape: T) {
    const keys = Object.keys(shape).join(", ");
    return z
        .object(shape, expects(`an object with the keys ${keys}`, "secret"))
        .catchall(z.unknown().refine(() => false, expects(`no such key (allowed keys: ${keys})`, "secret")))
        .meta({ secret: true, additionalProperties: false });
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/;

/** A PEM certificate; `allowed` says which. */
export const pemCertificate = (allowed: string) => text(`a PEM certificate (${allowed})`, PEM_CERT);

/** A supplied CA's intermediates: one `{cert, key}` per cluster, each signed by `root`. */
export const intermediatesByCluster = (root: string) =>
    z.record(
        z.string().meta({ title: "cluster" }),
        section({
            cert: text(`a PEM certificate signed by ${root}`, PEM_CERT).meta({ secret: true, description: "the cluster's intermediate CA certificate" }),
            key: text("a PEM private key", PEM_KEY, "secret").meta({ secret: true, description: "its private key" }),
        }),
        expects("an object with one {cert, key} entry per cluster"),
    );

export const wholeNumber = (min: number, max: number) => {
    const allowed = expects(`a whole number from ${min} to ${max}`);
    return z.int(allowed).min(min, allowed).max(max, allowed);
};
export const flag = () => z.boolean(expects("true or false"));

/**
 * A rule across keys, kept beside the section whose keys it concerns and applied where the sections are
 * assembled: the check, and `onceValid(<the keys it reads>)`.
 */
export type Rule<T> = readonly [check: (value: T, ctx: z.RefinementCtx<unknown>) => void, options: ReturnType<typeof onceValid>];

/**
 * Values that must be set as secrets: a top-level key holding any of `fields` must be one. Pulumi tells
 * secrets apart per top-level key; `pulumi config set --secret --path <key>.<field>` makes the whole key one.
 */
export interface SecretOnly {
    readonly key: string;
    readonly fields: readonly string[];
    readonly problem: string;
}
