import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

/** The project's own modules that `file` imports, as paths from the repository root. */
function localImports(file: string): string[] {
    const source = fs.readFileSync(file, "utf8");
    return [...source.matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) => path.join(path.dirname(file), m[1]));
}

/** Every .ts file under `dir`, in subdirectories too (stacks/config/ holds the config's sections). */
const modules = (dir: string): string[] =>
    fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f));

describe("the import graph runs index.ts → stacks/ → components/", () => {
    it("components/ import only components/", () => {
        for (const file of modules("components")) {
            assert.deepEqual(localImports(file).filter((m) => !m.startsWith("components/")), [], file);
        }
    });

    it("stacks/ import only stacks/ and components/", () => {
        assert.ok(modules("stacks").includes(path.join("stacks", "config", "clusters.ts")));
        for (const file of modules("stacks")) {
            assert.deepEqual(localImports(file).filter((m) => !/^(stacks|components)\//.test(m)), [], file);
        }
    });
});
