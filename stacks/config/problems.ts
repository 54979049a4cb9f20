/**
 * How a problem with the stack config reads: `<key>: got <value>; expected <what is allowed>` (or
 * `<key>: missing; ...`), with the value shown only as far as it is safe and useful.
 */
import { z } from "zod";

/**
 * How a message shows a value: `abbreviated` to 60 characters; a `path` (a file or directory) whole,
 * since its end is what tells it apart; a `secret` not at all. Multi-line text (a kubeconfig, a PEM key)
 * is never shown.
 */
export type Shown = "abbreviated" | "path" | "secret";

/** A value given where a path goes that is one (a kubeconfig in one line of JSON is not, and holds credentials). */
const isPathLike = (value: unknown) => typeof value === "string" && !/^\s*[{[]/.test(value);

/** A config value as a message shows it. */
function describeValue(value: unknown, shown: Shown): string {
    if (shown === "secret") {
        return "a value that is not shown (it is a secret)";
    }
    const text = JSON.stringify(value, (_, v) => (typeof v === "string" && v.includes("\n") ? "<multi-line text, not shown>" : v)) ?? String(value);
    return text.length > 60 && !(shown === "path" && isPathLike(value)) ? `${text.slice(0, 57)}...` : text;
}

/** What follows the key in a problem: the value (or that it is missing) and what is allowed. */
export function problem(value: unknown, allowed: string, shown: Shown = "abbreviated"): string {
    return `${value === undefined ? "missing" : `got ${describeValue(value, shown)}`}; expected ${allowed}`;
}

/** The error option of a schema: a value it refuses is reported with `allowed`. */
export const expects = (allowed: string, shown: Shown = "abbreviated") => ({
    error: (issue: { input?: unknown }) => problem(issue.input, allowed, shown),
});

/** For rules: reports `text` (what follows the key) at `path`, relative to the object the rule is on. */
export function report(ctx: z.RefinementCtx<unknown>, path: PropertyKey[], text: string): void {
    ctx.addIssue({ code: "custom", path, message: text });
}

/** `clusters[1].name`, `istio.values.istiod.global.network`: a key as the problems name it. */
export function keyOf(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}
