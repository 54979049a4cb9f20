import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { anchors, checkLinks, slug } from "./harness/markdownLinks";

const docs = () =>
    fs
        .readdirSync("docs")
        .filter((f) => f.endsWith(".md"))
        .map((f) => path.join("docs", f));

describe("links between README.md and docs/", () => {
    it("every relative link leads to a file that exists, and every #anchor to a heading of it", () => {
        const report = checkLinks(["README.md", ...docs()]);
        assert.deepEqual(report.problems, []);
        // Not vacuous: the pages were read, the toolchain's README reached through a link.
        assert.ok(report.links >= 40, `only ${report.links} links`);
        assert.ok(report.pages.includes(path.join("test", "e2e", "toolchain", "README.md")), report.pages.join(", "));
    });

    it("README.md links every page of docs/", () => {
        const linked = checkLinks(["README.md"]).pages;
        assert.deepEqual(docs().filter((page) => !linked.includes(page)), []);
    });
});

describe("the link check", () => {
    it("gives headings GitHub's anchors", () => {
        assert.equal(slug("`pulumi up` or `pulumi destroy` was killed"), "pulumi-up-or-pulumi-destroy-was-killed");
        assert.equal(slug("End-to-end test: `npm run test:e2e`"), "end-to-end-test-npm-run-teste2e");
        assert.equal(slug("Why the npm scripts: admin credentials on disk"), "why-the-npm-scripts-admin-credentials-on-disk");
        assert.equal(slug("The [diagram](x.md) of `istio_system`, v1.31!"), "the-diagram-of-istio_system-v131");
        assert.deepEqual([...anchors("# A\n\n## Drift\n\n```yaml\n# not a heading\n```\n\n## Drift\n")], ["a", "drift", "drift-1"]);
    });

    it("reports a missing file, a missing heading and an anchor into a file that is no page; not links in code", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "links-"));
        try {
            fs.writeFileSync(path.join(dir, "other.md"), "# Other\n\n## Drift\n");
            fs.writeFileSync(path.join(dir, "data.txt"), "");
            const page = path.join(dir, "page.md");
            fs.writeFileSync(
                page,
                [
                    "# Page",
                    "[ok](other.md#drift) [ok](#page) [ok](data.txt) [web](https://example.com/x.md#nowhere)",
                    "[gone](missing.md) [no heading](other.md#drift-1) [no page](data.txt#top) [self](#nowhere)",
                    "`[in code](missing-too.md)`",
                    "```",
                    "[in a block](missing-too.md)",
                    "```",
                ].join("\n"),
            );
            const report = checkLinks([page]);
            const other = path.join(dir, "other.md");
            const data = path.join(dir, "data.txt");
            assert.deepEqual(report.problems, [
                `${page}: missing.md names no file (${path.join(dir, "missing.md")})`,
                `${page}: other.md#drift-1 names no heading of ${other}`,
                `${page}: data.txt#top names no heading of ${data}`,
                `${page}: #nowhere names no heading of ${page}`,
            ]);
            assert.equal(report.links, 7);
            assert.deepEqual(report.pages, [page, other]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
