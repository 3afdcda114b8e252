import { type KvRow } from "../src/ref/spec/attention.js";
import { toA } from "../src/ref/spec/fixed.js";

/** A seeded xorshift generator with Gaussian draws (test data only). */
export function rng(seed: number): { uniform(): number; gauss(): number } {
  let s = (seed * 2654435761) >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return { uniform, gauss: () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform()) };
}

/** A row quantized the way the KV cache stores it: absmax → int8, scale m·2^e = absmax/127 (normalized). */
export function quantizeRow(x: readonly number[]): KvRow {
  const absmax = Math.max(...x.map(Math.abs));
  if (absmax === 0) return { values: x.map(() => 0), scale: { m: 0, e: 0 } };
  const s = absmax / 127;
  let e = Math.floor(Math.log2(s)) - 15;
  let m = Math.round(s / 2 ** e);
  if (m >= 2 ** 16) [m, e] = [m / 2, e + 1];
  const sv = m * 2 ** e;
  return { values: x.map((v) => Math.max(-127, Math.min(127, Math.round(v / sv)))), scale: { m, e } };
}

export const dequantRow = (r: KvRow): number[] => Array.from(r.values, (v) => v * r.scale.m * 2 ** r.scale.e);

/** Random rows with realistic scales: unit Gaussians times per-channel gains, a few outlier channels. */
export function randomRows(r: ReturnType<typeof rng>, L: number, headDim: number, sigma: number): KvRow[] {
  const gain = Array.from({ length: headDim }, (_, i) => (i % 17 === 3 ? 6 : 0.5 + r.uniform()));
  return Array.from({ length: L }, () => quantizeRow(Array.from({ length: headDim }, (_, i) => sigma * gain[i]! * r.gauss())));
}

/** A query as A values (real values N(0, sigma²)). */
export function randomQuery(r: ReturnType<typeof rng>, headDim: number, sigma: number): number[] {
  return Array.from({ length: headDim }, () => toA(sigma * r.gauss()));
}

/** float64 attention of one head (the accuracy reference, as src/ref/host.ts computes it). */
export function attendFloat(q: readonly number[], k: readonly number[][], v: readonly number[][]): number[] {
  const d = q.length;
  const s = k.map((row) => row.reduce((a, x, i) => a + x * q[i]!, 0) / Math.sqrt(d));
  const max = Math.max(...s);
  const p = s.map((x) => Math.exp(x - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return Array.from({ length: d }, (_, i) => v.reduce((a, row, u) => a + p[u]! * row[i]!, 0) / sum);
}
