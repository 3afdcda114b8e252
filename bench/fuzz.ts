/**
 * Fuzz stress run: many more seeded mutations per input kind than the test suite's, with outcome
 * counts, rates and the slowest case. Model files get byte mutations (fuzz-harness); budgets,
 * engine configs, sweep and verify specs get structural ones (fuzz-specs).
 * Run: `npm run bench:fuzz` or `node dist/bench/fuzz.js [cases per kind] [seed]`.
 */
import { fuzz, fuzzTargets, type FuzzOutcome } from "../test/fuzz-harness.js";
import { fuzzSpecs, specTargets } from "../test/fuzz-specs.js";

const cases = Number(process.argv[2] ?? 10000);
const seed = Number(process.argv[3] ?? 1);
const TIME_LIMIT_MS = 2000;
if (!(Number.isInteger(cases) && cases > 0 && Number.isInteger(seed))) {
  console.error("usage: node dist/bench/fuzz.js [cases per kind] [seed]");
  process.exit(2);
}

const kinds: { name: string; run: () => FuzzOutcome }[] = [
  ...fuzzTargets().map((t) => ({ name: t.name, run: () => fuzz(t, cases, seed, TIME_LIMIT_MS) })),
  ...specTargets().map((t) => ({ name: t.name, run: () => fuzzSpecs(t, cases, seed, TIME_LIMIT_MS) })),
];

let failed = 0;
console.log(`fuzz stress: ${cases} cases per input kind, seed ${seed}, time limit ${TIME_LIMIT_MS} ms per case\n`);
console.log(`${"input kind".padEnd(24)} ${"cases".padStart(7)} ${"accepted".padStart(9)} ${"rejected".padStart(9)} ${"failures".padStart(9)} ${"cases/s".padStart(8)} ${"slowest ms".padStart(11)}  slowest case`);
for (const kind of kinds) {
  const r = kind.run();
  failed += r.failures.length;
  console.log(
    `${kind.name.padEnd(24)} ${String(r.cases).padStart(7)} ${String(r.read).padStart(9)} ${String(r.rejected).padStart(9)} ${String(r.failures.length).padStart(9)} ` +
      `${Math.round(r.cases / r.seconds).toString().padStart(8)} ${r.slowestMs.toFixed(1).padStart(11)}  ${r.slowest.slice(0, 100)}`,
  );
  for (const f of r.failures.slice(0, 3)) console.log(`  ${f.split("\n").slice(0, 3).join(" | ")}`);
}
console.log(`\n${failed} failures`);
process.exitCode = failed > 0 ? 1 : 0;
