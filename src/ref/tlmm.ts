import { type EngineGeometry } from "../engine/config.js";
import { decodeIndex, entryPattern } from "../engine/encoding.js";
import { type PackedIndices } from "../engine/pack.js";

/**
 * The table-lookup algorithm exactly as the RTL performs it: per step of T·G activations build T
 * tables (entry e = the sum under trit pattern e), then per row look up each group's stored index
 * (negating for a mirrored sign bit), sum the T entries and accumulate. Padding columns are zero
 * activations against zero-index groups. Cross-checked against the plain kernel in tests.
 */
export function tableLookupMatmul(geo: EngineGeometry, w: PackedIndices, x: Int8Array, k: number, tokens: number): Int32Array {
  const { G, T, encoding } = geo.cfg;
  const E = geo.entries;
  const patterns = Array.from({ length: E }, (_, e) => entryPattern(e, G, encoding));
  const decoded = Array.from({ length: 1 << geo.indexBits }, (_, idx) => decodeIndex(idx, G, encoding));
  const tables = new Int32Array(T * E);
  const y = new Int32Array(tokens * w.rows);
  for (let m = 0; m < tokens; m++) {
    for (let s = 0; s < w.steps; s++) {
      for (let t = 0; t < T; t++) {
        const col = s * geo.stepActivations + t * G;
        for (let e = 0; e < E; e++) {
          let sum = 0;
          for (let i = 0; i < G; i++) {
            const xi = col + i < k ? x[m * k + col + i]! : 0;
            sum += patterns[e]![i]! * xi;
          }
          tables[t * E + e] = sum;
        }
      }
      for (let r = 0; r < w.rows; r++) {
        let rowSum = 0;
        for (let t = 0; t < T; t++) {
          const { entry, negate } = decoded[w.data[(r * w.steps + s) * T + t]!]!;
          const v = tables[t * E + entry]!;
          rowSum += negate ? -v : v;
        }
        y[m * w.rows + r] = (y[m * w.rows + r]! + rowSum) | 0;
      }
    }
  }
  return y;
}
