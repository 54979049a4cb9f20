import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, parseStackConfig, StackConfig } from "./config";
import { stopProgram } from "./stopProgram";

// Exported by the SDK's runtime config module, but not part of its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(fullKey: string): boolean };

/**
 * Reads every `istio-multicluster:*` key of the stack config and validates it before any resource is
 * registered, logging what it warns about. Reading the whole namespace (rather than key by key) is what
 * lets typos be reported.
 */
export function loadStackConfig(): StackConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(prefix)) {
            const key = fullKey.slice(prefix.length);
            raw[key] = decode(text);
            if (isConfigSecret(fullKey)) {
                secretKeys.add(key);
            }
        }
    }
    try {
        const { config, warnings } = parseStackConfig(raw, secretKeys);
        warnings.forEach((warning) => pulumi.log.warn(warning));
        return config;
    } catch (err) {
        // Printed as the message alone, without a stack trace that would bury it.
        throw err instanceof ConfigError ? stopProgram(err.message) : err;
    }
}

/** Objects and lists arrive as JSON text; scalar keys stay the strings they were set as ("1.0" is not 1). */
function decode(text: string): unknown {
    if (!/^\s*[[{]/.test(text)) {
        return text;
    }
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
