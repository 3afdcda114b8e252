import { type TritMatrix } from "../model/types.js";
import { UserError } from "../util/errors.js";

/**
 * Scales around the integer core. A scaled ternary matmul is W ≈ Σ_p diag(α_p)·T_p + μ·1ᵀ: one or
 * two trit-planes (PTQTP uses two), a scale per row and plane (a per-tensor scale is the same value
 * in every row), and an optional per-row offset μ (PT²-LLM's asymmetric α·T + μ, applied as μ·Σx).
 *
 * The engine's dequantization stage works in fixed point, defined here once:
 * - every α and μ of a matmul becomes a signed 16-bit mantissa m = round(s · 2^F) (half up), F the
 *   largest exponent for which all of them fit;
 * - a row's output is round((Σ_p y_p·m_p + Σx·m_μ) / 2^shift), shift = F − OUT_FRAC_BITS, rounding
 *   half up (add 2^(shift−1), then an arithmetic shift right) and saturating to int32;
 * so the output holds the scaled value with OUT_FRAC_BITS fraction bits. The reference below and
 * the RTL (hw/trilut_compute.v) compute exactly this.
 */
export interface ScaledMatmul {
  /** One or two trit-planes of the same shape. */
  readonly planes: readonly TritMatrix[];
  /** Per plane, n row scales. */
  readonly alpha: readonly Float32Array[];
  /** n row offsets, for α·T + μ. */
  readonly mu?: Float32Array | undefined;
}

/** Fraction bits of a dequantized output: value = output / 2^OUT_FRAC_BITS. */
export const OUT_FRAC_BITS = 8;
const MANTISSA_MAX = 32767;

export interface FixedScales {
  readonly fracBits: number;
  readonly shift: number;
  /** Per plane, n mantissas. */
  readonly m: Int16Array[];
  readonly mu: Int16Array | undefined;
  readonly pair: boolean;
  readonly asym: boolean;
}

export function fixScales(s: ScaledMatmul): FixedScales {
  const n = s.planes[0]!.n;
  if (s.planes.length < 1 || s.planes.length > 2) throw new UserError(`a scaled matmul has one or two trit-planes, not ${s.planes.length}`);
  for (const p of s.planes) if (p.n !== n || p.k !== s.planes[0]!.k) throw new UserError("the two trit-planes must have the same shape");
  const arrays = [...s.alpha, ...(s.mu ? [s.mu] : [])];
  for (const a of arrays) if (a.length !== n) throw new UserError(`expected ${n} row scales, got ${a.length}`);
  let maxAbs = 0;
  for (const a of arrays) for (const v of a) {
    if (!Number.isFinite(v)) throw new UserError(`scale ${v} is not a finite number`);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  let fracBits = 62;
  if (maxAbs > 0) {
    fracBits = Math.min(62, Math.floor(Math.log2(MANTISSA_MAX / maxAbs)));
    while (fracBits > 0 && Math.floor(maxAbs * 2 ** fracBits + 0.5) > MANTISSA_MAX) fracBits--;
  }
  const shift = fracBits - OUT_FRAC_BITS;
  if (shift < 0 || shift > 63) throw new UserError(`scales up to ${maxAbs} cannot be dequantized with ${OUT_FRAC_BITS} output fraction bits`);
  const fix = (a: Float32Array): Int16Array => Int16Array.from(a, (v) => Math.floor(v * 2 ** fracBits + 0.5));
  return { fracBits, shift, m: s.alpha.map(fix), mu: s.mu ? fix(s.mu) : undefined, pair: s.planes.length === 2, asym: s.mu !== undefined };
}

/**
 * The dequantization the engine performs, in the reference: ys[p] are the integer results of plane
 * p (tokens × n), sumX[t] the sum of token t's activations.
 */
export function dequantize(ys: readonly Int32Array[], sumX: readonly number[], f: FixedScales, n: number, tokens: number): Int32Array {
  const out = new Int32Array(tokens * n);
  const half = f.shift > 0 ? 2 ** (f.shift - 1) : 0;
  const div = 2 ** f.shift;
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < n; r++) {
      let total = 0; // |terms| < 2^47: exact in a double
      ys.forEach((y, p) => (total += y[t * n + r]! * f.m[p]![r]!));
      if (f.mu) total += sumX[t]! * f.mu[r]!;
      const v = Math.floor((total + half) / div);
      out[t * n + r] = v > 0x7fffffff ? 0x7fffffff : v < -0x80000000 ? -0x80000000 : v;
    }
  }
  return out;
}

/**
 * What a plan needs to know of a matmul's scales when only its timing matters (the latency model):
 * one row scale per row, so the dequantization sweep and its scale words are counted.
 */
export const ROW_SCALES_FOR_TIMING: FixedScales = { fracBits: OUT_FRAC_BITS, shift: 0, m: [], mu: undefined, pair: false, asym: false };

/** The rows the integer core computes: plane rows interleaved (row 2r plane 0, 2r + 1 plane 1). */
export function coreMatrix(s: ScaledMatmul): TritMatrix {
  if (s.planes.length === 1) return s.planes[0]!;
  const [a, b] = s.planes as [TritMatrix, TritMatrix];
  const trits = new Int8Array(2 * a.n * a.k);
  for (let r = 0; r < a.n; r++) {
    trits.set(a.trits.subarray(r * a.k, (r + 1) * a.k), 2 * r * a.k);
    trits.set(b.trits.subarray(r * b.k, (r + 1) * b.k), (2 * r + 1) * a.k);
  }
  return { n: 2 * a.n, k: a.k, trits };
}

export function sumActivations(x: Int8Array, k: number, tokens: number): number[] {
  return Array.from({ length: tokens }, (_, t) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += x[t * k + j]!;
    return s;
  });
}
