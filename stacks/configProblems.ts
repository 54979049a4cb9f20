/**
 * Collects every problem found in the stack config, so one run reports all of them in one message,
 * each naming the key, the value it had and what is allowed.
 */

export type RawObject = Record<string, unknown>;

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Renders a config value for an error message; long or multi-line strings (kubeconfigs, PEMs) are abbreviated. */
export function describeValue(value: unknown): string {
    if (value === undefined) {
        return "nothing";
    }
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function isObject(value: unknown): value is RawObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class Problems {
    private readonly list: string[] = [];

    /** `key` had `value`, but `allowed` describes what it may be. */
    add(key: string, value: unknown, allowed: string): void {
        this.list.push(
            value === undefined ? `${key}: missing; expected ${allowed}` : `${key}: got ${describeValue(value)}; expected ${allowed}`,
        );
    }

    /** Two keys that each are fine alone but not together. */
    conflict(message: string): void {
        this.list.push(message);
    }

    /** Reports keys of `obj` that are not in `known` (typos). */
    unknownKeys(prefix: string, obj: RawObject, known: readonly string[]): void {
        for (const key of Object.keys(obj)) {
            if (!known.includes(key)) {
                this.add(`${prefix}${key}`, obj[key], `no such key (allowed keys: ${known.join(", ")})`);
            }
        }
    }

    get empty(): boolean {
        return this.list.length === 0;
    }

    throwIfAny(): void {
        if (!this.empty) {
            throw new ConfigError(this.list);
        }
    }
}
