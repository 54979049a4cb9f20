import assert from "node:assert/strict";
import { ConfigError, parseStackConfig, StackConfigInput } from "../../stacks/config";

/** The problems the config schema reports for `raw`, none when it is valid. */
export function problemsOf(raw: StackConfigInput): string[] {
    try {
        parseStackConfig(raw);
        return [];
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return [...err.problems];
    }
}
