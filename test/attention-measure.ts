// The error table of docs/numerics/attention.md: npx tsc -p tsconfig.json && node dist/test/attention-measure.js
import { attendHead } from "../src/ref/spec/attention.js";
import { fromA } from "../src/ref/spec/fixed.js";
import { attendFloat, dequantRow, randomQuery, randomRows, rng } from "./attention-fixtures.js";

for (const d of [64, 96]) for (const L of [1, 17, 100, 1024]) for (const [sq, skv] of [[1, 1], [3, 1], [1, 0.05]]) {
  let maxE = 0, sumE = 0, n = 0;
  for (let t = 0; t < 8; t++) {
    const r = rng(t * 1000 + L + d);
    const q = randomQuery(r, d, sq!);
    const k = randomRows(r, L, d, skv!), v = randomRows(r, L, d, skv!);
    const out = attendHead(q, k, v).map(fromA);
    const ref = attendFloat(q.map(fromA), k.map(dequantRow), v.map(dequantRow));
    const norm = Math.max(...ref.map(Math.abs));
    for (let i = 0; i < d; i++) { const e = Math.abs(out[i]! - ref[i]!) / norm; maxE = Math.max(maxE, e); sumE += e; n++; }
  }
  console.log(`d=${d} L=${L} sq=${sq} skv=${skv} max ${maxE.toExponential(2)} mean ${(sumE / n).toExponential(2)}`);
}
