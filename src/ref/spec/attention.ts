import { leadingOne, sat32, saturate, type Scale, shiftRound, shiftRoundBig, toFixed } from "./fixed.js";

/**
 * The attention core's bit-exact reference (docs/numerics/attention.md): one query head's
 * out = Σ_u softmax_u(q·k_u / sqrt(headDim)) · v_u over cached rows 0..L−1, in integers only.
 *
 * 1. q (A values) is shifted right by sq = max(0, lead(max|q|) − 14) with half-up rounding and
 *    saturated to int16: one shift per head, no divider, ≤ 2^-15 relative error on the largest q.
 * 2. score in log2 units, Q15.16 (int32): x_u = (q16·k8_u) · g_u · 2^E_u where
 *    g_u = round(m_k · C / 2^16), C = log2(e)/sqrt(headDim) as a 16-bit mantissa with CF fraction
 *    bits, E_u = sq + e_k − CF + 16; saturated to int32. log2(e) folded in, so exp becomes 2^x.
 * 3. two-pass softmax (the scores are buffered: maxContext × 32 bits): d_u = max x − x_u ≥ 0,
 *    t = round(d_u / 2^6) (2^-10 units), P_u = round(EXP[t mod 1024] / 2^⌊t/1024⌋) with
 *    EXP[f] = round(2^15 · 2^(−f/1024)): probabilities in UQ1.15, the row of the max is exactly 2^15.
 * 4. per V row, w_u = min(2^26 − 1, round(P_u · m_v · 2^(e_v + 7))): P_u times the row's scale in
 *    units of 2^-22 (G = 6 guard bits under A's 2^-16), then acc_i += w_u · v8_ui (exact).
 * 5. one reciprocal per head, R = ⌊2^(lz+24) / ΣP⌋ with lz = lead(ΣP) (a 25-step restoring
 *    divider), and out_i = sat32(round(acc_i · R / 2^(lz+15))).
 */

/** Fraction bits of the scores x (log2 units): the same Q15.16 as A. */
export const SCORE_FRAC = 16;
/** Bits of the exp table's index: 2^-f for f in 2^-EXP_INDEX_BITS steps. */
export const EXP_INDEX_BITS = 10;
/** Fraction bits of the unnormalized probabilities P (UQ1.15). */
export const P_FRAC = 15;
/** Guard bits of the weighted V sum under A's 16 fraction bits. */
export const V_GUARD = 6;
/** w = P · (V row scale) saturates to this many unsigned bits (one DSP48E2 port of 27 signed). */
export const W_BITS = 26;
/** Bits of the reciprocal of ΣP: R ∈ (2^23, 2^24]. */
export const RECIP_BITS = 24;
/** q is carried as int16 into the q·k dot products. */
export const Q_BITS = 16;

/** One cached row of a kv head: headDim int8 values and its scale (real value = v · m · 2^e). */
export interface KvRow {
  readonly values: ArrayLike<number>;
  readonly scale: Scale;
}

/** The score constant log2(e)/sqrt(headDim) as an unsigned 16-bit mantissa c and its fraction bits. */
export function scoreConstant(headDim: number): { readonly c: number; readonly frac: number } {
  const x = Math.LOG2E / Math.sqrt(headDim);
  const frac = 15 - Math.floor(Math.log2(x));
  // x·2^frac ∈ [2^15, 2^16); rounding can reach 2^16 only at the top, which 17 bits hold
  return { c: toFixed(x, frac, 18), frac };
}

/** EXP[f] = round(2^15 · 2^(−f / 2^EXP_INDEX_BITS)), f = 0 .. 2^EXP_INDEX_BITS − 1 (16 bits, EXP[0] = 2^15). */
export function expTable(): number[] {
  const n = 2 ** EXP_INDEX_BITS;
  return Array.from({ length: n }, (_, f) => toFixed(2 ** (-f / n), P_FRAC, 17));
}

const EXP = expTable();

/** q quantized for the dot products: the shift sq and the int16 values. */
export function quantizeQuery(q: ArrayLike<number>): { readonly shift: number; readonly q16: number[] } {
  let maxAbs = 0;
  for (let i = 0; i < q.length; i++) maxAbs = Math.max(maxAbs, Math.abs(q[i]!));
  const shift = Math.max(0, leadingOne(BigInt(maxAbs)) - (Q_BITS - 2));
  return { shift, q16: Array.from({ length: q.length }, (_, i) => saturate(shiftRound(q[i]!, shift), Q_BITS)) };
}

/** v · 2^e, rounded half up for e < 0 (BigInt: e may be large either way). */
function scaleBig(v: bigint, e: number): bigint {
  return e >= 0 ? v << BigInt(e) : shiftRoundBig(v, -e);
}

/** One score x_u (Q15.16 log2 units) of the int16 query against a K row. */
export function score(q16: readonly number[], qShift: number, k: KvRow, headDim: number): number {
  const { c, frac } = scoreConstant(headDim);
  let dot = 0; // |q16·k8| < 2^15 · 2^7 · headDim < 2^30 for headDim ≤ 256
  for (let i = 0; i < headDim; i++) dot += q16[i]! * k.values[i]!;
  const g = shiftRound(k.scale.m * c, 16); // 16 × 17 bits < 2^33 before the shift; g ≤ 2^17
  const e = qShift + k.scale.e - frac + 16;
  const prod = dot * g; // |prod| < 2^47
  // a power-of-two multiply is exact in float64, so a left shift saturates correctly at any e; a
  // right shift by ≥ 48 rounds |prod| < 2^47 to 0, so the hardware clamps it to 48
  return e >= 0 ? sat32(prod * 2 ** e) : sat32(shiftRound(prod, Math.min(-e, 48)));
}

/** P = 2^(−d) in UQ1.15 for d = max − x ≥ 0 (Q.16), via the table on EXP_INDEX_BITS fraction bits and a shift. */
export function probability(d: number): number {
  const t = shiftRound(d, SCORE_FRAC - EXP_INDEX_BITS); // d < 2^33: exact
  const n = Math.floor(t / 2 ** EXP_INDEX_BITS);
  const f = t % 2 ** EXP_INDEX_BITS;
  return n > P_FRAC + 1 ? 0 : shiftRound(EXP[f]!, n); // n ≥ 17 rounds 2^15 away entirely
}

/** w = P · (row scale) in units of 2^-(16+V_GUARD), saturated to W_BITS unsigned bits. */
export function weight(p: number, s: Scale): number {
  const w = scaleBig(BigInt(p * s.m), s.e + 16 + V_GUARD - P_FRAC); // P·m < 2^31
  const max = 2n ** BigInt(W_BITS) - 1n;
  return Number(w > max ? max : w);
}

/** The reciprocal of ΣP: R = ⌊2^(lz+RECIP_BITS) / sum⌋, lz = lead(sum) (sum ≥ 2^15). */
export function reciprocal(sum: number): { readonly r: number; readonly lz: number } {
  const lz = leadingOne(BigInt(sum));
  return { r: Number((1n << BigInt(lz + RECIP_BITS)) / BigInt(sum)), lz };
}

/** Intermediate values of one head, for tests and the error report. */
export interface HeadTrace {
  readonly qShift: number;
  readonly scores: number[];
  readonly probabilities: number[];
  readonly sum: number;
  readonly acc: number[];
  readonly recip: number;
}

/**
 * One query head over rows 0..L−1 (L = k.length = v.length ≥ 1): headDim A values.
 * Widths: |acc_i| < 2^26 · 2^7 · L < 2^49 for L ≤ 2^16 (Numbers exact); acc·R is BigInt.
 */
export function attendHead(q: ArrayLike<number>, k: readonly KvRow[], v: readonly KvRow[], trace?: (t: HeadTrace) => void): number[] {
  const headDim = q.length;
  const L = k.length;
  if (L < 1 || v.length !== L) throw new RangeError(`attention over ${L} K rows and ${v.length} V rows: expected L ≥ 1 of each`);
  const { shift, q16 } = quantizeQuery(q);
  const scores = k.map((row) => score(q16, shift, row, headDim));
  const max = Math.max(...scores);
  const acc = new Array<number>(headDim).fill(0);
  const probabilities: number[] = [];
  let sum = 0;
  for (let u = 0; u < L; u++) {
    const p = probability(max - scores[u]!);
    probabilities.push(p);
    sum += p;
    const w = weight(p, v[u]!.scale);
    for (let i = 0; i < headDim; i++) acc[i]! += w * v[u]!.values[i]!;
  }
  const { r, lz } = reciprocal(sum);
  trace?.({ qShift: shift, scores, probabilities, sum, acc, recip: r });
  const s = lz + RECIP_BITS - (P_FRAC - V_GUARD);
  return acc.map((a) => sat32(Number(shiftRoundBig(BigInt(a) * BigInt(r), s)))); // < 2^73 / 2^30
}

/** The KV cache of one layer as the attention core reads it: rows[kvHead][position]. */
export interface KvCacheView {
  readonly k: readonly (readonly KvRow[])[];
  readonly v: readonly (readonly KvRow[])[];
}

/**
 * Attention of one token at context length L (its own position L − 1 included): q is heads ×
 * headDim A values; query head h reads kv head ⌊h / (heads / kvHeads)⌋ (grouped-query attention).
 * A prefill's query at position p calls this with L = p + 1 (the causal mask).
 */
export function attendToken(q: ArrayLike<number>, heads: number, kvHeads: number, cache: KvCacheView, L: number): number[] {
  const headDim = q.length / heads;
  const group = heads / kvHeads;
  const out: number[] = [];
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    const qh = Array.prototype.slice.call(q, h * headDim, (h + 1) * headDim) as number[];
    out.push(...attendHead(qh, cache.k[kvh]!.slice(0, L), cache.v[kvh]!.slice(0, L)));
  }
  return out;
}
