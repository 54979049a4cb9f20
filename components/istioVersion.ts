/** MAJOR, MINOR and PATCH of an Istio version (`1.31.0`, `1.31.0-beta.1`; a prerelease gives its version's). */
export function versionCore(version: string): [number, number, number] {
    const [major, minor, patch] = version.split(/[.-]/).slice(0, 3).map(Number);
    return [major, minor, patch];
}

/** Orders two versions by MAJOR.MINOR.PATCH (a prerelease as its version): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
    const [x, y] = [versionCore(a), versionCore(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}
