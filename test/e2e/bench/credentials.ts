/**
 * For `npm run bench -- credentials`: moves the generated intermediates' recorded end into their renewal
 * window, as if most of their lifetime had passed, where the tls provider decides by (the state, through
 * `pulumi stack export`/`import`; secrets stay encrypted) and where the preview warns by (the annotation
 * on each cluster's `cacerts`).
 *   node build/test/e2e/bench/credentials.js expire <project dir> <stack> <hours left> <admin kubeconfig>...
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { mustKubectl, mustRun } from "../kube";

function expire(projectDir: string, stack: string, hoursLeft: number, kubeconfigs: string[]): void {
    const soon = new Date(Date.now() + hoursLeft * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const cli = ["--stack", stack, "--cwd", projectDir];
    const state = JSON.parse(mustRun("pulumi", ["stack", "export", ...cli]).stdout);
    const certs = state.deployment.resources.filter((r: any) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
    if (certs.length !== kubeconfigs.length) {
        throw new Error(`${certs.length} intermediates in the state, ${kubeconfigs.length} clusters`);
    }
    for (const cert of certs) {
        cert.outputs.validityEndTime = soon;
    }
    const file = path.join(projectDir, `.expire-${stack}.json`);
    fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    try {
        mustRun("pulumi", ["stack", "import", ...cli, "--file", file]);
    } finally {
        fs.rmSync(file, { force: true });
    }
    for (const kubeconfig of kubeconfigs) {
        mustKubectl(kubeconfig, ["annotate", "--overwrite", "secret", "cacerts", "-n", "istio-system", `istio-multicluster.pulumi.com/ca-cert-not-after=${soon}`]);
    }
}

const [command, projectDir, stack, hoursLeft, ...kubeconfigs] = process.argv.slice(2);
if (command !== "expire" || kubeconfigs.length === 0) {
    console.error("usage: credentials.js expire <project dir> <stack> <hours left> <admin kubeconfig>...");
    process.exit(2);
}
expire(projectDir, stack, Number(hoursLeft), kubeconfigs);
