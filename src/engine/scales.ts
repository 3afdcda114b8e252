import { type TernaryTensor, type TritMatrix } from "../model/types.js";
import { UserError } from "../util/errors.js";
import { modeFieldMax } from "./descriptor.js";

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
  /** Per plane, a scale per row and column group: n × groups values, row-major. */
  readonly alpha: readonly Float32Array[];
  /** Offsets for α·T + μ, shaped like each alpha. */
  readonly mu?: Float32Array | undefined;
  /** Columns per scale group (TQ blocks: 256, PTQTP: 128); absent: one group of all k columns. */
  readonly groupSize?: number | undefined;
}

/**
 * A tensor's stored scales as the engine applies them: one scale per tensor when uniform, else
 * the TQ formats' per-256-weight block scales, which run along each row: n rows × k/256 column
 * groups of 256.
 */
export function tensorScales(t: TernaryTensor): ScaledMatmul {
  if (t.scale.uniform) return { planes: [t], alpha: [new Float32Array(t.n).fill(t.scale.tensorScale)] };
  const groups = t.k / 256;
  if (!Number.isInteger(groups) || t.scale.blockScales.length !== t.n * groups) {
    throw new UserError(`${t.name}: ${t.scale.blockScales.length} block scales do not cover ${t.n} rows of ${t.k / 256} blocks`);
  }
  return { planes: [t], alpha: [Float32Array.from(t.scale.blockScales)], groupSize: 256 };
}

/** Fraction bits of a dequantized output: value = output / 2^OUT_FRAC_BITS. */
export const OUT_FRAC_BITS = 8;
const MANTISSA_MAX = 32767;

export interface FixedScales {
  readonly fracBits: number;
  readonly shift: number;
  /** Per plane, n × groups mantissas (row-major). */
  readonly m: Int16Array[];
  readonly mu: Int16Array | undefined;
  readonly pair: boolean;
  readonly asym: boolean;
  /** Columns per group (0: one group of all columns) and the number of groups. */
  readonly groupSize: number;
  readonly groups: number;
}

export function fixScales(s: ScaledMatmul): FixedScales {
  const { n, k } = s.planes[0]!;
  if (s.planes.length < 1 || s.planes.length > 2) throw new UserError(`a scaled matmul has one or two trit-planes, not ${s.planes.length}`);
  for (const p of s.planes) if (p.n !== n || p.k !== k) throw new UserError("the two trit-planes must have the same shape");
  const groupSize = s.groupSize ?? 0;
  if (!(Number.isInteger(groupSize) && groupSize >= 0)) throw new UserError(`scale group size ${groupSize}: expected a whole number of columns`);
  const groups = groupSize > 0 ? Math.ceil(k / groupSize) : 1;
  const arrays = [...s.alpha, ...(s.mu ? [s.mu] : [])];
  for (const a of arrays) if (a.length !== n * groups) throw new UserError(`expected ${n} rows × ${groups} groups of scales, got ${a.length}`);
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
  if (shift < 0 || shift > modeFieldMax("shift")) throw new UserError(`scales up to ${maxAbs} cannot be dequantized with ${OUT_FRAC_BITS} output fraction bits`);
  const fix = (a: Float32Array): Int16Array => Int16Array.from(a, (v) => Math.floor(v * 2 ** fracBits + 0.5));
  return {
    fracBits,
    shift,
    m: s.alpha.map(fix),
    mu: s.mu ? fix(s.mu) : undefined,
    pair: s.planes.length === 2,
    asym: s.mu !== undefined,
    groupSize,
    groups,
  };
}

/**
 * The scaled matmul the engine performs, in the reference: per column group the integer kernel
 * of each plane and the group's activation sum, the exact total over groups of Σ_p y·m + Σx·m_μ,
 * then one rounding (tokens × n results).
 */
export function scaledMatmul(s: ScaledMatmul, f: FixedScales, x: Int8Array, tokens: number): Int32Array {
  const { n, k } = s.planes[0]!;
  const width = f.groupSize > 0 ? f.groupSize : k;
  const totals = new Float64Array(tokens * n); // |totals| < 2^53: exact
  for (let b = 0; b < f.groups; b++) {
    const [lo, hi] = [b * width, Math.min(k, (b + 1) * width)];
    for (let t = 0; t < tokens; t++) {
      const xs = x.subarray(t * k + lo, t * k + hi);
      let sumX = 0;
      for (const v of xs) sumX += v;
      for (let r = 0; r < n; r++) {
        let total = 0;
        s.planes.forEach((plane, p) => {
          const row = plane.trits.subarray(r * k + lo, r * k + hi);
          let y = 0;
          for (let j = 0; j < row.length; j++) y += row[j]! * xs[j]!;
          total += y * f.m[p]![r * f.groups + b]!;
        });
        if (f.mu) total += sumX * f.mu[r * f.groups + b]!;
        totals[t * n + r] += total;
      }
    }
  }
  const half = f.shift > 0 ? 2 ** (f.shift - 1) : 0;
  const div = 2 ** f.shift;
  return Int32Array.from(totals, (total) => {
    const v = Math.floor((total + half) / div);
    return v > 0x7fffffff ? 0x7fffffff : v < -0x80000000 ? -0x80000000 : v;
  });
}

/**
 * What a plan needs to know of a matmul's scales when only its timing matters (the latency model):
 * one row scale per row, so the dequantization sweep and its scale words are counted.
 */
export const ROW_SCALES_FOR_TIMING: FixedScales = {
  fracBits: OUT_FRAC_BITS,
  shift: 0,
  m: [],
  mu: undefined,
  pair: false,
  asym: false,
  groupSize: 0,
  groups: 1,
};

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
