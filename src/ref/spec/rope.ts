import { UserError } from "../../util/errors.js";
import { sat32, shiftRound, toFixed } from "./fixed.js";

/**
 * RoPE in the hardware number spec (docs/numerics/rope.md). For each head, pair (i, i + d/2) of
 * an A vector turns by the angle pos·θ^(−2i/d) (Hugging Face's rotate_half convention:
 * a' = a·c − b·s, b' = a·s + b·c), computed in integers only:
 * - the frequency of pair i is an unsigned fraction of a turn, f_i = round(θ^(−2i/d)/(2π) · 2^32)
 *   (a ROM, from `ropeFrequencies`);
 * - the phase is the low 32 bits of pos·f_i: a whole number of turns drops out exactly, so the
 *   angle wraps without error at any position;
 * - the top 2 phase bits pick the quadrant, the next TABLE_BITS index a quarter-wave sine table
 *   (2^TABLE_BITS + 1 entries, `sineTable`), the next INTERP_BITS interpolate linearly between two
 *   entries (the rest of the phase is dropped); cos reads the same table mirrored;
 * - coefficients c, s are signed 18-bit with COEF_FRAC = 16 fraction bits (±1.0 = ±65536);
 * - a' = sat32(shiftRound(a·c − b·s, 16)), b' = sat32(shiftRound(a·s + b·c, 16)): one rounding.
 */

/** Fraction bits of a pair's frequency (in turns per position) and of the phase. */
export const PHASE_BITS = 32;
/** log2 of the quarter-wave table's segments (measured: docs/numerics/rope.md). */
export const TABLE_BITS = 8;
/** Phase bits below the table index that interpolate between two entries. */
export const INTERP_BITS = 12;
/** Fraction bits of the cos/sin coefficients (signed, COEF_BITS wide: ±1.0 fits). */
export const COEF_FRAC = 16;
export const COEF_BITS = 18;

/** The numerics' widths, so the error measurement can try others; the hardware uses ROPE_NUMERICS. */
export interface RopeNumerics {
  readonly tableBits: number;
  readonly interpBits: number;
}
export const ROPE_NUMERICS: RopeNumerics = { tableBits: TABLE_BITS, interpBits: INTERP_BITS };

/** RoPE needs pairs: refuses an odd (or non-positive) head dimension with one line. */
export function checkRopeHeadDim(headDim: number): void {
  if (!(Number.isInteger(headDim) && headDim >= 2 && headDim % 2 === 0)) {
    throw new UserError(`head dimension ${headDim}: RoPE rotates pairs (i, i + headDim/2), so it needs an even head dimension ≥ 2`);
  }
}

/**
 * The ROM of pair frequencies, one per pair i < headDim/2: round(θ^(−2i/d)/(2π) · 2^32), an
 * unsigned 32-bit fraction of a turn (θ^(−2i/d) ≤ 1, so every entry is below 2^32/(2π) < 2^30).
 * The one generator of these integers for the spec, the RTL and the HLS.
 */
export function ropeFrequencies(headDim: number, theta: number): number[] {
  checkRopeHeadDim(headDim);
  if (!(Number.isFinite(theta) && theta > 1)) throw new UserError(`rope theta ${theta}: expected a number > 1`);
  return Array.from({ length: headDim / 2 }, (_, i) => toFixed(theta ** ((-2 * i) / headDim) / (2 * Math.PI), PHASE_BITS, PHASE_BITS + 1));
}

/** The quarter-wave table: sin(k/2^tableBits · π/2) with COEF_FRAC fraction bits, k = 0..2^tableBits. */
export function sineTable(tableBits = TABLE_BITS): number[] {
  const n = 2 ** tableBits;
  return Array.from({ length: n + 1 }, (_, k) => toFixed(Math.sin(((k / n) * Math.PI) / 2), COEF_FRAC, COEF_BITS));
}

/** The phase of pair frequency f at position pos: (pos·f) mod 2^32, exact (BigInt: pos·f may pass 2^53). */
export function ropePhase(pos: number, freq: number): number {
  return Number((BigInt(pos) * BigInt(freq)) & 0xffffffffn);
}

/** Linear interpolation between entries k and k+1 at frac / 2^bits, rounded half up. |Δ| < 2^15, frac < 2^bits: exact. */
function interpolate(t0: number, t1: number, frac: number, bits: number): number {
  return t0 + shiftRound((t1 - t0) * frac, bits);
}

/**
 * cos and sin of a phase (a 32-bit fraction of a turn) as signed COEF_FRAC fixed point: the
 * quadrant from the top 2 bits; sin and cos of the rest from the quarter-wave table, cos at the
 * mirrored index (cos r = sin(quarter − r): entry 2^T − k, interpolated the same way).
 */
export function ropeCosSin(phase: number, table: readonly number[], num: RopeNumerics = ROPE_NUMERICS): { c: number; s: number } {
  const n = 2 ** num.tableBits;
  const quadrant = Math.floor(phase / 2 ** (PHASE_BITS - 2));
  const rest = phase % 2 ** (PHASE_BITS - 2);
  const k = Math.floor(rest / 2 ** (PHASE_BITS - 2 - num.tableBits));
  const frac = Math.floor(rest / 2 ** (PHASE_BITS - 2 - num.tableBits - num.interpBits)) % 2 ** num.interpBits;
  const s = interpolate(table[k]!, table[k + 1]!, frac, num.interpBits);
  const c = interpolate(table[n - k]!, table[n - k - 1]!, frac, num.interpBits);
  switch (quadrant) {
    case 0: return { c, s };
    case 1: return { c: -s, s: c };
    case 2: return { c: -c, s: -s };
    default: return { c: s, s: -c };
  }
}

/** One pair rotated: a, b are A values, c, s COEF_FRAC coefficients. |a·c| < 2^31·2^16: sums < 2^49, exact. */
export function rotatePair(a: number, b: number, c: number, s: number): [number, number] {
  return [sat32(shiftRound(a * c - b * s, COEF_FRAC)), sat32(shiftRound(a * s + b * c, COEF_FRAC))];
}

/**
 * RoPE of one token's vector of `heads` heads × headDim A values at position pos, as the hardware
 * computes it. Returns a new array.
 */
export function ropeSpec(x: ArrayLike<number>, heads: number, headDim: number, pos: number, theta: number, num: RopeNumerics = ROPE_NUMERICS): Int32Array {
  checkRopeHeadDim(headDim);
  if (x.length !== heads * headDim) throw new UserError(`rope input of ${x.length} values: expected heads ${heads} × headDim ${headDim}`);
  if (!(Number.isInteger(pos) && pos >= 0)) throw new UserError(`rope position ${pos}: expected a whole number ≥ 0`);
  const freqs = ropeFrequencies(headDim, theta);
  const table = sineTable(num.tableBits);
  const half = headDim / 2;
  const out = new Int32Array(x.length);
  for (let i = 0; i < half; i++) {
    const { c, s } = ropeCosSin(ropePhase(pos, freqs[i]!), table, num);
    for (let h = 0; h < heads; h++) {
      const base = h * headDim;
      const [a2, b2] = rotatePair(x[base + i]!, x[base + i + half]!, c, s);
      out[base + i] = a2;
      out[base + i + half] = b2;
    }
  }
  return out;
}

