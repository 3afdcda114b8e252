import { UserError } from "../../util/errors.js";
import { leadingOne, toFixed, type Scale } from "./fixed.js";

/**
 * RMSNorm fused with BitNet's per-token absmax activation quantizer ("norm-quant"), bit for bit as
 * the hardware computes it (docs/numerics/norm-quant.md).
 *
 * The float meaning (src/ref/host.ts, src/ref/activations.ts): y = x·w / sqrt(mean(x²) + ε), then
 * s = max|y|/127 and q = round(y/s). The rsqrt factor cancels inside the quantizer, so q depends on
 * z = x·w alone: q_j = round(127·z_j / max|z|), an exact integer division (round half to even,
 * as the float quantizer rounds). The scale needs the rsqrt: S = max|z|·V^(−1/2)·√d/127·2^we, with
 * V = Σx² + round(ε·d·2^32) (x in A units, so Σx² is in units of 2^−32). Bypass mode (a matmul
 * input with no norm: llama's o_proj and down_proj) quantizes x itself: S = max|x|·2^−16/127.
 */

/** A norm weight vector: int16 mantissas (|m| ≤ 32767) with one shared exponent, w_j ≈ mant_j·2^exp. */
export interface NormWeights {
  readonly mant: Int16Array;
  readonly exp: number;
}

export interface NormQuantShape {
  /** The vector length. */
  readonly d: number;
  /** RMSNorm's ε (unused in bypass mode). */
  readonly eps: number;
}

export const WEIGHT_MANT_MAX = 32767;
/** The shared exponent's range: it travels in 8 bits beside the mantissas (docs). */
export const WEIGHT_EXP_MIN = -128;
export const WEIGHT_EXP_MAX = 127;

/**
 * The weight format from a model's Float32 norm weights: the smallest shared exponent whose
 * mantissas round (half up) into ±32767, so the largest weight keeps 15 significant bits.
 */
export function normWeights(w: Float32Array, what = "norm weight"): NormWeights {
  let max = 0;
  for (let j = 0; j < w.length; j++) {
    if (!Number.isFinite(w[j]!)) throw new UserError(`${what}[${j}] is ${w[j]}: expected a finite number`);
    max = Math.max(max, Math.abs(w[j]!));
  }
  let exp = max === 0 ? 0 : Math.floor(Math.log2(max)) - 14;
  while (max > 0 && Math.floor(max * 2 ** -exp + 0.5) > WEIGHT_MANT_MAX) exp++;
  while (max > 0 && Math.floor(max * 2 ** -(exp - 1) + 0.5) <= WEIGHT_MANT_MAX) exp--;
  if (exp < WEIGHT_EXP_MIN || exp > WEIGHT_EXP_MAX) {
    throw new UserError(`${what}: largest magnitude ${max} needs exponent ${exp}, expected one in [${WEIGHT_EXP_MIN}, ${WEIGHT_EXP_MAX}]`);
  }
  const mant = new Int16Array(w.length);
  for (let j = 0; j < w.length; j++) mant[j] = Math.floor(w[j]! * 2 ** -exp + 0.5);
  return { mant, exp };
}

/** The float weights a NormWeights stands for. */
export function normWeightValues(w: NormWeights): Float64Array {
  return Float64Array.from(w.mant, (m) => m * 2 ** w.exp);
}

// ---- widths (all derived from d and the mode; the RTL's localparams are the same numbers) ----

/** Magnitude bits of z = x·w: |x| ≤ 2^31, |w| ≤ 2^15 − 1 so |z| < 2^46; bypass |x| ≤ 2^31 (32 bits). */
export const magnitudeBits = (norm: boolean): number => (norm ? 46 : 32);

/** Bits of V = Σx² + E: d·2^62 plus a small ε term (ε < 1), rounded up to an even width. */
export function sumBits(d: number): number {
  const w = 63 + Math.ceil(Math.log2(d));
  return w + (w % 2);
}

/** Index bits (the table covers u = vn/2^30 ∈ [1, 4) in steps of 1/64) and interpolation bits. */
export const RSQRT_INDEX_BITS = 8;
export const RSQRT_FRAC_BITS = 12;
/** Fraction bits of the rsqrt table's values: ρ ≈ u^(−1/2)·2^17 ∈ [2^16, 2^17]. */
export const RSQRT_VALUE_FRAC = 17;
export const RSQRT_FIRST = 64;
export const RSQRT_LAST = 255;

/**
 * The rsqrt table, one entry per index i ∈ [64, 255]: f_i = round(2^17/√(i/64)) and the step to the
 * next node, δ_i = f_i − f_(i+1) (f_256 = 2^16). Interpolated: ρ = f_i − round(δ_i·frac/2^12).
 */
export function rsqrtTable(): { index: number; f: number; delta: number }[] {
  const node = (i: number): number => toFixed(1 / Math.sqrt(i / 64), RSQRT_VALUE_FRAC, 20);
  const rows = [];
  for (let i = RSQRT_FIRST; i <= RSQRT_LAST; i++) rows.push({ index: i, f: node(i), delta: node(i) - node(i + 1) });
  return rows;
}

let tableCache: { f: number; delta: number }[] | undefined;
function tableRow(i: number): { f: number; delta: number } {
  tableCache ??= rsqrtTable();
  return tableCache[i - RSQRT_FIRST]!;
}

/** The constants of one instance (the RTL's parameters): ε·d·2^32, and √d/127 (or 1/127) as Cm·2^Ce. */
export interface NormQuantConstants {
  readonly d: number;
  readonly norm: boolean;
  /** round(ε·d·2^32), added to Σx² (0 in bypass). */
  readonly epsSum: bigint;
  readonly cm: number;
  readonly ce: number;
  /** The constant part of the scale's exponent (see scaleOf). */
  readonly expBase: number;
}

export function normQuantConstants(shape: NormQuantShape, norm: boolean): NormQuantConstants {
  const { d, eps } = shape;
  if (!(Number.isInteger(d) && d >= 1 && d <= 65536)) throw new UserError(`norm-quant vector length ${d}: expected a whole number in [1, 65536]`);
  if (norm && !(eps >= 0 && eps < 1)) throw new UserError(`RMSNorm ε ${eps}: expected a number in [0, 1)`);
  const c = norm ? Math.sqrt(d) / 127 : 1 / 127;
  let ce = Math.floor(Math.log2(c)) - 15;
  let cm = toFixed(c, -ce, 20);
  if (cm >= 2 ** 16) [cm, ce] = [cm / 2, ce + 1];
  const MW = magnitudeBits(norm);
  const expBase = norm ? MW - 32 - sumBits(d) / 2 + ce : MW - 48 + ce;
  const epsSum = norm ? BigInt(Math.floor(eps * d * 2 ** 32 + 0.5)) : 0n;
  return { d, norm, epsSum, cm, ce, expBase };
}

// ---- the two halves: the per-element quantizer and the per-token scale ----

/** q = round_half_even(127·z/M) by the hardware's restoring division (an 8-bit quotient of 254·|z|/M). */
export function quantizeElement(z: bigint, M: bigint): number {
  if (M === 0n) return 0;
  const mag = z < 0n ? -z : z;
  let n = 254n * mag; // < 2^54 (norm) or 2^40 (bypass)
  let Q = 0;
  for (let k = 7; k >= 0; k--) {
    const sub = M << BigInt(k);
    if (n >= sub) {
      n -= sub;
      Q |= 1 << k;
    }
  }
  // Q = floor(2v) for v = 127|z|/M: half up is (Q+1)>>1; an exact tie (Q odd, no remainder) goes to even
  const up = (Q + 1) >> 1;
  const q = (Q & 1) === 1 && n === 0n && (up & 1) === 1 ? up - 1 : up;
  return z < 0n ? -q : q;
}

/**
 * The token's scale from V = Σx² + E (norm mode; ignored in bypass), M = max|z| and the weight
 * exponent: S = M·V^(−1/2)·Cm·2^(Ce+we) (norm) or M·Cm·2^(Ce−16) (bypass), to 16 bits.
 * Widths: V < 2^sumBits(d) (BigInt); M < 2^46; the products Mn·ρ < 2^35 and (·>>16)·Cm < 2^34.
 */
export function scaleOf(V: bigint, M: bigint, wexp: number, k: NormQuantConstants): Scale {
  if (M === 0n) return { m: 0, e: 0 };
  const MW = magnitudeBits(k.norm);
  // M left-justified in MW bits (cM shifts), its top 17 bits
  const cM = MW - 1 - leadingOne(M);
  const Mn = Number((M << BigInt(cM)) >> BigInt(MW - 17));
  let rho = 2 ** 16; // bypass: the rsqrt factor is 1
  let cv = 0;
  if (k.norm) {
    // V left-justified in VW bits by shifts of two (an even exponent), its top 32 bits vn ∈ [2^30, 2^32)
    const VW = sumBits(k.d);
    cv = VW / 2 - 1 - Math.floor(leadingOne(V) / 2);
    const vn = Number((V << BigInt(2 * cv)) >> BigInt(VW - 32));
    const i = vn >>> (32 - RSQRT_INDEX_BITS);
    const frac = (vn >>> (32 - RSQRT_INDEX_BITS - RSQRT_FRAC_BITS)) & (2 ** RSQRT_FRAC_BITS - 1);
    const row = tableRow(i);
    // δ < 2^11, frac < 2^12: the product < 2^23
    rho = row.f - Math.floor((row.delta * frac + 2 ** (RSQRT_FRAC_BITS - 1)) / 2 ** RSQRT_FRAC_BITS);
  }
  const p1 = Mn * rho; // < 2^17 · (2^17 + 1) < 2^35
  const p2 = Math.floor(p1 / 2 ** 16) * k.cm; // < 2^19 · 2^16 = 2^35
  let l2 = leadingOne(BigInt(p2));
  let m = Math.floor((p2 + 2 ** (l2 - 16)) / 2 ** (l2 - 15));
  if (m >= 2 ** 16) {
    m = 2 ** 15;
    l2++;
  }
  const e = k.expBase + (k.norm ? wexp + cv : 0) - cM + l2;
  if (e > 127) return { m: 0xffff, e: 127 };
  if (e < -128) return { m: 0, e: 0 };
  return { m, e };
}

/** One token: x (d A values) and its weights (undefined: bypass) → d int8 values and the scale. */
export function normQuant(x: Int32Array, weights: NormWeights | undefined, shape: NormQuantShape): { q: Int8Array; scale: Scale } {
  const k = normQuantConstants(shape, weights !== undefined);
  return normQuantToken(x, weights, k);
}

function normQuantToken(x: Int32Array, weights: NormWeights | undefined, k: NormQuantConstants): { q: Int8Array; scale: Scale } {
  const { d } = k;
  if (x.length !== d) throw new UserError(`norm-quant input of ${x.length} values: expected ${d}`);
  if (weights && weights.mant.length !== d) throw new UserError(`norm weights of ${weights.mant.length} values: expected ${d}`);
  const z: bigint[] = new Array<bigint>(d);
  let sum = k.epsSum;
  let M = 0n;
  for (let j = 0; j < d; j++) {
    const xj = BigInt(x[j]!);
    z[j] = weights ? xj * BigInt(weights.mant[j]!) : xj;
    sum += xj * xj;
    const a = z[j]! < 0n ? -z[j]! : z[j]!;
    if (a > M) M = a;
  }
  const q = new Int8Array(d);
  for (let j = 0; j < d; j++) q[j] = quantizeElement(z[j]!, M);
  return { q, scale: scaleOf(sum, M, weights?.exp ?? 0, k) };
}

/** Several tokens back to back (tokens·d values), as one run of the unit. */
export function normQuantTokens(
  x: Int32Array,
  tokens: number,
  weights: NormWeights | undefined,
  shape: NormQuantShape,
): { q: Int8Array; scales: Scale[] } {
  const k = normQuantConstants(shape, weights !== undefined);
  if (x.length !== tokens * k.d) throw new UserError(`norm-quant input of ${x.length} values: expected ${tokens} tokens of ${k.d}`);
  const q = new Int8Array(tokens * k.d);
  const scales: Scale[] = [];
  for (let t = 0; t < tokens; t++) {
    const r = normQuantToken(x.subarray(t * k.d, (t + 1) * k.d), weights, k);
    q.set(r.q, t * k.d);
    scales.push(r.scale);
  }
  return { q, scales };
}
