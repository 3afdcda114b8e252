/**
 * Fuzz stress run: many more seeded mutations per format than the test suite's 2,000, with
 * outcome counts and rates. Run: `npm run build && node dist/bench/fuzz.js [cases] [seed]`.
 */
import { fuzz, fuzzTargets } from "../test/fuzz-harness.js";

const cases = Number(process.argv[2] ?? 20000);
const seed = Number(process.argv[3] ?? 1);
let failed = 0;
console.log(`fuzz stress: ${cases} mutations per format, seed ${seed}\n`);
console.log(`${"format".padEnd(24)} ${"read".padStart(7)} ${"rejected".padStart(9)} ${"failures".padStart(9)} ${"cases/s".padStart(8)} ${"slowest ms".padStart(11)}`);
for (const target of fuzzTargets()) {
  const r = fuzz(target, cases, seed, 2000);
  failed += r.failures.length;
  console.log(
    `${target.name.padEnd(24)} ${String(r.read).padStart(7)} ${String(r.rejected).padStart(9)} ${String(r.failures.length).padStart(9)} ` +
      `${Math.round(r.cases / r.seconds).toString().padStart(8)} ${r.slowestMs.toFixed(1).padStart(11)}`,
  );
  for (const f of r.failures.slice(0, 3)) console.log(`  ${f.split("\n")[0]}`);
}
process.exitCode = failed > 0 ? 1 : 0;
