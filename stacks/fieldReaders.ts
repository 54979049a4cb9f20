import { isObject, Problems, RawObject } from "./configProblems";

/** Field readers: each returns the value when it is valid, records a problem and returns undefined otherwise. */

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS1123_LABEL_ALLOWED =
    "a DNS-1123 label (lowercase letters, digits and '-', 1-63 characters, starting and ending with a letter or digit)";

/** Kubernetes label values: the network name ends up in `topology.istio.io/network`. */
export const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE_ALLOWED =
    "a Kubernetes label value (letters, digits, '-', '_' and '.', 1-63 characters, starting and ending with a letter or digit)";

export function readString(
    problems: Problems,
    key: string,
    value: unknown,
    allowed: string,
    valid: (s: string) => boolean = (s) => s.length > 0,
): string | undefined {
    if (typeof value === "string" && valid(value)) {
        return value;
    }
    problems.add(key, value, allowed);
    return undefined;
}

export function readOptionalString(
    problems: Problems,
    key: string,
    value: unknown,
    allowed: string,
    valid?: (s: string) => boolean,
): string | undefined {
    return value === undefined ? undefined : readString(problems, key, value, allowed, valid);
}

export function readBoolean(problems: Problems, key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) {
        return fallback;
    }
    if (typeof value === "boolean") {
        return value;
    }
    problems.add(key, value, "true or false");
    return fallback;
}

export function readInteger(problems: Problems, key: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) {
        return fallback;
    }
    if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) {
        return value;
    }
    problems.add(key, value, `a whole number from ${min} to ${max}`);
    return fallback;
}

/** An optional nested object; a present non-object is a problem, absence is an empty object. */
export function readSection(problems: Problems, key: string, value: unknown, known: readonly string[]): RawObject {
    if (value === undefined) {
        return {};
    }
    if (!isObject(value)) {
        problems.add(key, value, `an object with the keys ${known.join(", ")}`);
        return {};
    }
    problems.unknownKeys(`${key}.`, value, known);
    return value;
}

export function isHttpsUrl(s: string): boolean {
    try {
        const url = new URL(s);
        return url.protocol === "https:" && url.hostname.length > 0;
    } catch {
        return false;
    }
}
