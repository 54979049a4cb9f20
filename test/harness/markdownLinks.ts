/**
 * The relative links of Markdown pages, checked as GitHub renders them: the file a link names must
 * exist, and its `#anchor` must be the anchor GitHub gives one of that page's headings.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The lines of `page` outside fenced code blocks (a `# comment` in a YAML block is no heading, a `[x](y)` in one no link). */
function proseLines(page: string): string[] {
    let fence: string | undefined;
    return page.split("\n").filter((line) => {
        const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
        if (marker && (fence === undefined || marker.startsWith(fence))) {
            fence = fence === undefined ? marker : undefined;
            return false;
        }
        return fence === undefined;
    });
}

/**
 * GitHub's anchor for a heading (github-slugger): the heading's text without Markdown, lowercased,
 * every character but letters, digits, `_`, `-` and spaces dropped, spaces turned into `-`.
 */
export function slug(heading: string): string {
    return heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors of a page's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
export function anchors(page: string): Set<string> {
    const seen = new Map<string, number>();
    const result = new Set<string>();
    for (const line of proseLines(page)) {
        const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
        if (heading === undefined) {
            continue;
        }
        const base = slug(heading);
        const count = seen.get(base) ?? 0;
        result.add(count === 0 ? base : `${base}-${count}`);
        seen.set(base, count + 1);
    }
    return result;
}

/** The targets of a page's links and images that stay in the repository (no `https:`, `mailto:`, ...). */
export function relativeLinks(page: string): string[] {
    return proseLines(page).flatMap((line) => {
        const prose = line.replace(/`+[^`]*`+/g, "");
        const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
        const reference = /^\s*\[[^\]]+\]:\s*<?([^\s>]+)/.exec(prose)?.[1];
        return [...inline, ...(reference ? [reference] : [])].filter((target) => !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target));
    });
}

export interface LinkReport {
    /** Every page checked: the pages given and the Markdown pages their links reach. */
    readonly pages: string[];
    readonly links: number;
    /** `<page>: <target> ...` for each link that leads nowhere. */
    readonly problems: string[];
}

/** Checks the relative links of `pages` (paths from the current directory) and of every Markdown page they reach. */
export function checkLinks(pages: string[]): LinkReport {
    const queue = [...pages.map((p) => path.normalize(p))];
    const checked: string[] = [];
    const problems: string[] = [];
    let links = 0;
    while (queue.length > 0) {
        const page = queue.shift()!;
        if (checked.includes(page)) {
            continue;
        }
        checked.push(page);
        for (const target of relativeLinks(fs.readFileSync(page, "utf8"))) {
            links++;
            const [file, anchor] = target.split("#", 2) as [string, string | undefined];
            const resolved = file === "" ? page : path.normalize(path.join(path.dirname(page), decodeURIComponent(file)));
            if (!fs.existsSync(resolved)) {
                problems.push(`${page}: ${target} names no file (${resolved})`);
                continue;
            }
            const isPage = resolved.endsWith(".md") && fs.statSync(resolved).isFile();
            if (isPage) {
                queue.push(resolved);
            }
            if (anchor !== undefined && !(isPage && anchors(fs.readFileSync(resolved, "utf8")).has(decodeURIComponent(anchor)))) {
                problems.push(`${page}: ${target} names no heading of ${resolved}`);
            }
        }
    }
    return { pages: checked, links, problems };
}
