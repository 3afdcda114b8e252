/**
 * The integer primitives of trilut's hardware number spec (docs/numerics.md). Every non-matmul unit
 * is written in these terms, so its reference (src/ref/spec/*), RTL and HLS compute the same bits.
 *
 * - A, the activation format: a signed 32-bit integer a standing for a / 2^16 (Q15.16). Every value
 *   a unit hands to another unit (the residual stream, norm inputs, q/k/v, attention outputs,
 *   gate/up, their product) is an A, saturated to the int32 range when it is written.
 * - Rounding is one rule everywhere: a right shift by s rounds half up, floor((v + 2^(s−1)) / 2^s),
 *   the same rule as the engine's dequantization (src/engine/scales.ts). In RTL: add 2^(s−1), then
 *   an arithmetic shift.
 * - Compile-time constants (tables, frequencies, epsilons, weights) are computed in float64 by the
 *   generator and rounded half up to integers once, by `toFixed`; the reference, the RTL and the
 *   HLS then use the same integers.
 *
 * Numbers below are exact while |v| < 2^53; a spec function that can exceed that uses the BigInt
 * forms (each function states its widths in a comment).
 */

/** Fraction bits of the activation format A. */
export const A_FRAC = 16;
export const INT32_MAX = 0x7fffffff;
export const INT32_MIN = -0x80000000;

/** Saturates to a signed integer of `bits` bits. */
export function saturate(v: number, bits: number): number {
  const max = 2 ** (bits - 1) - 1;
  const min = -(2 ** (bits - 1));
  return v > max ? max : v < min ? min : v;
}

/** Saturates to int32 (an A value). */
export function sat32(v: number): number {
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
}

/** Right shift by s ≥ 0, rounding half up: floor((v + 2^(s−1)) / 2^s). Exact for |v| < 2^53. */
export function shiftRound(v: number, s: number): number {
  if (!(Number.isInteger(s) && s >= 0)) throw new RangeError(`shift ${s}: expected a whole number ≥ 0`);
  if (s === 0) return v;
  return Math.floor((v + 2 ** (s - 1)) / 2 ** s);
}

/** shiftRound for BigInt (any width); `>>` on BigInt is an arithmetic (floor) shift. */
export function shiftRoundBig(v: bigint, s: number): bigint {
  if (!(Number.isInteger(s) && s >= 0)) throw new RangeError(`shift ${s}: expected a whole number ≥ 0`);
  if (s === 0) return v;
  return (v + (1n << BigInt(s - 1))) >> BigInt(s);
}

/** Saturates a BigInt to a signed integer of `bits` bits and returns a Number (bits ≤ 53). */
export function saturateBig(v: bigint, bits: number): number {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const min = -(1n << BigInt(bits - 1));
  return Number(v > max ? max : v < min ? min : v);
}

/** A compile-time constant: round(x · 2^frac), half up, saturated to `bits` signed bits. */
export function toFixed(x: number, frac: number, bits: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`constant ${x} is not a finite number`);
  return saturate(Math.floor(x * 2 ** frac + 0.5), bits);
}

/** An A value from a float (compile-time conversions: embeddings, test inputs). */
export function toA(x: number): number {
  return toFixed(x, A_FRAC, 32);
}

/** The float an A value stands for. */
export function fromA(a: number): number {
  return a / 2 ** A_FRAC;
}

/**
 * Position of the leading one of v > 0 (floor(log2 v)), as a priority encoder computes it;
 * −1 for 0. Exact for any BigInt.
 */
export function leadingOne(v: bigint): number {
  if (v < 0n) throw new RangeError("leadingOne of a negative value");
  return v === 0n ? -1 : v.toString(2).length - 1;
}

/**
 * A per-token scale S: an unsigned 16-bit mantissa m and a signed exponent e, standing for m · 2^e;
 * normalized (2^15 ≤ m < 2^16) unless it is zero (m = 0). The activation quantizer produces one per
 * token; the dequantization of a matmul's output multiplies by it; the KV cache stores one per
 * token and KV head. In RTL: 16 bits of mantissa and an 8-bit two's-complement exponent.
 */
export interface Scale {
  readonly m: number;
  readonly e: number;
}

export const SCALE_MANTISSA_BITS = 16;
export const SCALE_EXPONENT_BITS = 8;

/** The float a scale stands for. */
export function scaleValue(s: Scale): number {
  return s.m * 2 ** s.e;
}

/** Packs a scale into one 24-bit word: exponent (two's complement) in bits 23..16, mantissa below. */
export function packScale(s: Scale): number {
  return ((s.e & 0xff) << 16) | (s.m & 0xffff);
}

export function unpackScale(w: number): Scale {
  const e = (w >> 16) & 0xff;
  return { m: w & 0xffff, e: e >= 128 ? e - 256 : e };
}
