/**
 * For `npm run bench -- upgrade`: serves the Helm repository test/e2e/toolchain/release-charts.sh made
 * (test/e2e/helmRepository.ts) and prints its URL once it listens; exits when killed or when the
 * shell that started it is gone (the bench's exit trap belongs to the control planes).
 *   node build/test/e2e/bench/helmRepository.js <repository dir>
 */
import { serveHelmRepository } from "../helmRepository";

const [dir] = process.argv.slice(2);
if (dir === undefined) {
    console.error("usage: helmRepository.js <repository dir>");
    process.exit(2);
}
const parent = process.ppid;
serveHelmRepository(dir).then((repository) => {
    console.log(repository.url);
    setInterval(() => process.ppid !== parent && process.exit(0), 1000);
});
