import { OUT_FRAC_BITS } from "../../engine/scales.js";
import { A_FRAC, sat32, shiftRound, shiftRoundBig, saturateBig, toFixed, type Scale } from "./fixed.js";

/**
 * The elementwise units of the decoder block, bit for bit (docs/numerics/elementwise.md): scaling
 * a matmul's output by its token's activation scale, the residual add, and the gate
 * (SiLU(g)·u or ReLU²(g)·u). Every input and output is an A (Q15.16 in int32) except the engine's
 * output Y (int32, OUT_FRAC_BITS = 8 fraction bits).
 */

// ---------------------------------------------------------------------------------------------
// Scale-out: A = sat32(round(Y · m · 2^(e + 8)))
// ---------------------------------------------------------------------------------------------

/**
 * The exponent k of A = Y·m·2^k: Y has OUT_FRAC_BITS fraction bits and A has A_FRAC, so the
 * token's scale m·2^e becomes Y·m·2^(e + A_FRAC − OUT_FRAC_BITS) = Y·m·2^(e+8).
 */
export const SCALE_OUT_BIAS = A_FRAC - OUT_FRAC_BITS;

/**
 * Y·m·2^k is computed as (Y·m·2^32) shifted right by t = 32 − k, rounding half up, and t is
 * clamped to [0, SCALE_OUT_MAX_SHIFT]. The clamp changes no result: |Y·m| < 2^47, so a right shift
 * by t ≥ 80 (k ≤ −48) already rounds every product to 0, and a left shift by 32 (t = 0) already
 * saturates every nonzero product. So the unit is exact for every 8-bit exponent e ∈ [−128, 127].
 */
export const SCALE_OUT_LEFT = 32;
export const SCALE_OUT_MAX_SHIFT = 80;

/** The right shift t of Y·m·2^32 for a token's exponent e (what the RTL computes once per token). */
export function scaleOutShift(e: number): number {
  const t = SCALE_OUT_LEFT - (e + SCALE_OUT_BIAS);
  return Math.min(SCALE_OUT_MAX_SHIFT, Math.max(0, t));
}

/** One element: sat32(shiftRound(y·m·2^32, t)). Widths: |y·m| < 2^31·2^16 = 2^47, so Numbers are exact. */
export function scaleOutElement(y: number, m: number, t: number): number {
  const p = y * m;
  // t ≤ 32: a left shift by 32 − t, exact (the low bits the rounding would see are zero)
  if (t <= SCALE_OUT_LEFT) return sat32(p * 2 ** (SCALE_OUT_LEFT - t));
  return sat32(shiftRound(p, t - SCALE_OUT_LEFT));
}

/** A token's vector: the engine's outputs y (8 fraction bits) times its scale s, as A values. */
export function scaleOut(y: Int32Array, s: Scale): Int32Array {
  const t = scaleOutShift(s.e);
  return y.map((v) => scaleOutElement(v, s.m, t));
}

// ---------------------------------------------------------------------------------------------
// Residual add
// ---------------------------------------------------------------------------------------------

/** h' = sat32(h + o): the residual stream plus a sublayer's output. */
export function residualAdd(h: Int32Array, o: Int32Array): Int32Array {
  if (h.length !== o.length) throw new RangeError(`residual add of ${h.length} and ${o.length} elements`);
  return h.map((v, i) => sat32(v + o[i]!));
}

// ---------------------------------------------------------------------------------------------
// Gate: act = f(g)·u
// ---------------------------------------------------------------------------------------------

/**
 * The sigmoid table: σ(x) for x ≥ 0 at points x_i = i·2^−stepBits, i = 0 … 2^indexBits, as
 * unsigned Q.frac integers; σ(x) = T[i] + round(D[i]·f / 2^(A_FRAC − stepBits)) between points
 * (f the low bits of x), σ = 1 from the table's end on, and σ(−x) = 1 − σ(x). The range
 * 2^(indexBits − stepBits) and the step were chosen by measuring (docs/numerics/elementwise.md).
 */
export interface SigmoidConfig {
  /** Fraction bits of σ (1.0 = 2^frac). */
  readonly frac: number;
  /** Points per unit of x: 2^stepBits. */
  readonly stepBits: number;
  /** Table entries: 2^indexBits (range = 2^(indexBits − stepBits)). */
  readonly indexBits: number;
}

export const SIGMOID: SigmoidConfig = { frac: 20, stepBits: 5, indexBits: 9 };

export interface SigmoidTable {
  readonly config: SigmoidConfig;
  /** σ(x_i), i < 2^indexBits. */
  readonly value: readonly number[];
  /** σ(x_{i+1}) − σ(x_i): the segment's rise (non-negative). */
  readonly rise: readonly number[];
}

/** THE sigmoid table: the spec, the RTL's ROM and the HLS array all come from this function. */
export function sigmoidTable(config: SigmoidConfig = SIGMOID): SigmoidTable {
  const n = 2 ** config.indexBits;
  const at = (i: number): number => toFixed(1 / (1 + Math.exp(-i / 2 ** config.stepBits)), config.frac, config.frac + 2);
  const points = Array.from({ length: n + 1 }, (_, i) => at(i));
  return { config, value: points.slice(0, n), rise: points.slice(1).map((v, i) => v - points[i]!) };
}

/** Bits of a table entry's rise (the widest over the table: the first segment's). */
export function riseBits(table: SigmoidTable): number {
  return Math.max(...table.rise).toString(2).length;
}

/**
 * σ(g) in Q.frac for g an A value. |g| is taken as an unsigned 32-bit number (so −2^31 has one);
 * index and interpolation fraction are its bits; the product D·f is below 2^(riseBits + 16 − stepBits) = 2^24.
 */
export function sigmoidFixed(g: number, table: SigmoidTable): number {
  const { frac, stepBits, indexBits } = table.config;
  const one = 2 ** frac;
  const fracBits = A_FRAC - stepBits;
  const x = Math.abs(g);
  const i = Math.floor(x / 2 ** fracBits);
  const s = i >= 2 ** indexBits ? one : table.value[i]! + shiftRound(table.rise[i]! * (x % 2 ** fracBits), fracBits);
  return g < 0 ? one - s : s;
}

/**
 * f(g) as an A value: SiLU = round(g·σ / 2^frac) (|g·σ| ≤ 2^31·2^20 = 2^51, exact; |f| ≤ |g|, so no
 * saturation), or ReLU² = sat32(round(max(0, g)² / 2^16)) (g² < 2^62: BigInt). ReLU² saturates
 * from g ≥ 2^23.5 in A units, i.e. g ≥ √32768 ≈ 181.02 (g² above the A range's 32768).
 */
export function activationFixed(g: number, activation: "silu" | "relu2", table: SigmoidTable): number {
  if (activation === "silu") return shiftRound(g * sigmoidFixed(g, table), table.config.frac);
  if (g <= 0) return 0;
  const r = BigInt(g);
  return saturateBig(shiftRoundBig(r * r, A_FRAC), 32);
}

/** act = sat32(round(f(g)·u / 2^16)): the product of two A values is below 2^62 (BigInt), rounded once. */
export function gateElement(g: number, u: number, activation: "silu" | "relu2", table: SigmoidTable): number {
  const f = activationFixed(g, activation, table);
  return saturateBig(shiftRoundBig(BigInt(f) * BigInt(u), A_FRAC), 32);
}

/** The gated vector f(g)·u. */
export function gate(g: Int32Array, u: Int32Array, activation: "silu" | "relu2", table: SigmoidTable = sigmoidTable()): Int32Array {
  if (g.length !== u.length) throw new RangeError(`gate of ${g.length} gate and ${u.length} up elements`);
  return g.map((v, i) => gateElement(v, u[i]!, activation, table));
}
