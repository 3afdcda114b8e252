import { type DelayModel } from "../../fabric/delays.js";
import { muxSteps, PathList, type ClockPath } from "../../fabric/paths.js";
import { lutramLuts, res, type Family, type ModuleResources } from "../../fabric/resources.js";
import { type BlockShape } from "../../model/block-shape.js";
import { checkRopeHeadDim, INTERP_BITS, ropeFrequencies, sineTable, TABLE_BITS } from "../../ref/spec/rope.js";
import { UserError } from "../../util/errors.js";
import { packageVersion, renderTemplate } from "../../util/templates.js";
import { type SourceFile } from "../unit.js";
import { type DecoderUnit } from "./decoder-unit.js";

/**
 * RoPE (src/ref/spec/rope.ts, docs/numerics/rope.md) as a streaming unit: one A value a cycle in
 * and out, one position per token. A head's first half waits in one HALF-word LUTRAM and its second
 * half in another (one head in all); outputs trail inputs by HALF elements, then a 9-stage pipeline
 * computes the phase, the interpolated cos/sin and the rotation (templates/rtl/decoder/rope.v.hbs).
 */

/** Register stages from an output's issue to the output register (s1..s3, s3a, s3b, s4..s6, y). */
export const ROPE_PIPELINE = 9;

const bitsFor = (n: number): number => Math.max(1, Math.ceil(Math.log2(n)));

/** Width of the position stream: positions 0..maxContext−1. */
export function ropePosBits(shape: BlockShape): number {
  return bitsFor(shape.maxContext);
}

/** What the generated Verilog is made of: widths and the ROM contents from the spec's generators. */
function rtlContext(shape: BlockShape): Record<string, unknown> {
  checkRopeHeadDim(shape.headDim);
  if (!(Number.isInteger(shape.maxContext) && shape.maxContext >= 1)) throw new UserError(`maxContext ${shape.maxContext}: expected a whole number ≥ 1`);
  const half = shape.headDim / 2;
  const freqs = ropeFrequencies(shape.headDim, shape.ropeTheta);
  const table = sineTable(TABLE_BITS);
  const n = 2 ** TABLE_BITS;
  return {
    version: packageVersion(),
    headDim: shape.headDim,
    theta: shape.ropeTheta,
    half,
    lastIdx: shape.headDim - 1,
    idxBits: bitsFor(shape.headDim),
    slotBits: bitsFor(half),
    diffBits: bitsFor(shape.headDim + 1),
    posBits: ropePosBits(shape),
    freqBits: ropeFreqBits(shape),
    tableBits: TABLE_BITS,
    interpBits: INTERP_BITS,
    freqs: freqs.map((v, i) => ({ i, v })),
    sinPairs: Array.from({ length: n }, (_, k) => ({ k, word: table[k + 1]! * 2 ** 17 + table[k]! })),
    cosPairs: Array.from({ length: n }, (_, k) => ({ k, word: table[n - k - 1]! * 2 ** 17 + table[n - k]! })),
  };
}

/** Width of the frequency ROM: the bit length of its largest entry (pair 0, 2^32/(2π) < 2^30). */
export function ropeFreqBits(shape: BlockShape): number {
  const max = Math.max(...ropeFrequencies(shape.headDim, shape.ropeTheta));
  return Math.max(1, Math.floor(Math.log2(max)) + 1);
}

export function ropeRtl(shape: BlockShape): SourceFile {
  return { name: "trilut_rope.v", content: renderTemplate("rtl/decoder/rope.v.hbs", rtlContext(shape)) };
}

/**
 * Exact cycles of RoPE over `tokens` tokens of `heads` heads each (q: heads, k: kvHeads), inputs
 * and positions offered from cycle 0 and the output always ready: input j is taken in cycle j
 * (no stall: a slot is freed in the cycle it is overwritten), output j is issued in cycle
 * j + headDim/2 (it needs x_{j+HALF}, taken that cycle, through the bypass) and leaves the
 * pipeline ROPE_PIPELINE cycles later. Back-to-back tokens add no bubble.
 */
export function ropeCycles(shape: Pick<BlockShape, "headDim">, heads: number, tokens = 1): number {
  checkRopeHeadDim(shape.headDim);
  const elements = tokens * heads * shape.headDim;
  if (elements === 0) return 0;
  return elements + shape.headDim / 2 + ROPE_PIPELINE;
}

/** The HLS function trilut_rope for `heads` heads a token (q: shape.heads, k: shape.kvHeads). */
export function ropeHls(shape: BlockShape, heads: number = shape.heads): SourceFile {
  checkRopeHeadDim(shape.headDim);
  const table = sineTable(TABLE_BITS);
  const content = renderTemplate("hls/decoder/rope.cpp.hbs", {
    version: packageVersion(),
    headDim: shape.headDim,
    theta: shape.ropeTheta,
    heads,
    half: shape.headDim / 2,
    tableBits: TABLE_BITS,
    interpBits: INTERP_BITS,
    tableSize: table.length,
    freqList: ropeFrequencies(shape.headDim, shape.ropeTheta).join(", "),
    sineList: table.join(", "),
  });
  return { name: "trilut_rope.cpp", content };
}

/**
 * Distinct non-constant bit columns of the frequency ROM: yosys keeps one LUT (and one register of
 * f1) per distinct column, folding constant columns and merging equal ones (at headDim 6 the three
 * entries leave 6 of 30 columns; from headDim 10 on all 29–30 differ).
 */
export function ropeFreqColumns(shape: BlockShape): number {
  const freqs = ropeFrequencies(shape.headDim, shape.ropeTheta);
  const columns = new Set<string>();
  for (let b = 0; b < ropeFreqBits(shape); b++) {
    const col = freqs.map((f) => Math.floor(f / 2 ** b) % 2).join("");
    if (col.includes("0") && col.includes("1")) columns.add(col);
  }
  return columns.size;
}

/**
 * The module's resources (one instance), calibrated against yosys on headDim 6 and 96
 * (test/decoder-rope.test.ts):
 * - DSP48E2: 8 — the phase pos·freq (two: the 30-bit frequency passes the 27-bit port), the two
 *   32 × 18 rotation products (two each), the two interpolation products (one each).
 * - BRAM: the two quarter-wave pair ROMs (256 × 34, read through a register) are block ROMs, one
 *   RAMB18 each: one BRAM36 in all.
 * - LUTRAM: mem_a and mem_b (HALF × 32 each, asynchronous read), plus 80 SRL16E that delay the
 *   operands a, b, the flags and the interpolation's entries through the pipeline.
 * - LUT: 473 fixed (interpolation, quadrant, rounding, saturation, handshake, the ROMs' addressing:
 *   the index counters' width did not show in the fit) + the frequency ROM, a LUT per distinct
 *   column per 64 entries. FF: 351 fixed (245.5 before the interpolation took three stages) + 3 per index bit (in_idx, out_idx, diff) + 3 per
 *   position bit (in_pos, out_pos, p1) + f1's distinct columns. Carry: yosys's stat counts none.
 * 7-series (DSP48E1, RAMB18E1, RAM32M/RAM64M): fitted separately on the same two shapes (LUT 329
 * and 388, FF 219 and 261, LUTRAM 116 and 156).
 */
export function ropeResources(shape: BlockShape, family: Family): ModuleResources {
  const half = shape.headDim / 2;
  const cols = ropeFreqColumns(shape);
  const romLuts = ROPE_LUT_PER_COLUMN[family] * cols * 2 ** Math.max(0, bitsFor(half) - 6);
  const indexFf = 3 * bitsFor(shape.headDim + 1) + 3 * ropePosBits(shape) + cols;
  const srl = ROPE_SRL[family];
  const mem = 2 * lutramLuts(32, half, family);
  return res({
    lut: Math.round(ROPE_FIXED_LUT[family] + romLuts),
    lutram: mem + srl,
    ff: Math.round(ROPE_FIXED_FF[family] + indexFf),
    carry: 0,
    bram36: 1,
    dsp: 8,
  });
}
const ROPE_FIXED_LUT: Record<Family, number> = { "ultrascale+": 473, "7series": 313 };
const ROPE_LUT_PER_COLUMN: Record<Family, number> = { "ultrascale+": 1, "7series": 2.5 };
// 7-series: the DSP48E1 mapping keeps fewer pipeline registers in fabric
const ROPE_FIXED_FF: Record<Family, number> = { "ultrascale+": 351, "7series": 169.5 };
const ROPE_SRL: Record<Family, number> = { "ultrascale+": 80, "7series": 68 };

/** The register-to-register paths of trilut_rope (stage by stage, as the template's comment lists them). */
export function ropePaths(shape: BlockShape, m: DelayModel): ClockPath[] {
  const idx = bitsFor(shape.headDim);
  const p = new PathList();
  p.add("trilut_rope", "issue: slot index, buffer read, bypass", "ff", ["lut", { carry: idx }, "lutram", "lut"], "ff");
  p.add("trilut_rope", "input handshake: slot free, buffer write", "ff", ["lut", { carry: idx + 1 }, "lut", "lut"], "lutram");
  p.add("trilut_rope", "frequency ROM", "ff", ["lut", { carry: idx }, ...muxSteps(shape.headDim / 2, m)], "ff");
  p.add("trilut_rope", "phase pos·freq mod 2^32", "ff", ["dsp", "dsp-cascade"], "ff");
  // the pair ROMs are block ROMs addressed straight from the phase register
  p.add("trilut_rope", "quarter-wave ROM address", "ff", [], "bram");
  // the interpolation in three stages (one 5.8 ns path when it was one): the entries' difference
  // (18 bits), its product by the fraction in a DSP, the sum with the entry and the rounding
  // constant in one adder (interpBits + 18 bits)
  p.add("trilut_rope", "interpolation: entry difference", "bram", ["lut", { carry: 18 }], "ff");
  p.add("trilut_rope", "interpolation: difference · fraction", "ff", ["dsp"], "ff");
  p.add("trilut_rope", "interpolation: entry + rounded product", "ff", ["lut", { carry: INTERP_BITS + 18 }], "ff");
  p.add("trilut_rope", "quadrant and operands", "ff", ["lut", { carry: 18 }, "lut"], "ff");
  p.add("trilut_rope", "rotation products", "ff", ["dsp", "dsp-cascade"], "ff");
  p.add("trilut_rope", "sum, round half up, saturate", "ff", ["lut", { carry: 52 }, "lut", { carry: 36 }, "lut"], "ff");
  return p.paths;
}

export const rope: DecoderUnit = {
  name: "rope",
  summary:
    "RoPE on q and k, one A value a cycle: a pair's phase pos·f mod 2^32 (f a 32-bit fraction of a turn from a ROM), " +
    "cos/sin from a 257-entry quarter-wave table with linear interpolation (16 fraction bits), one rounding per output.",
  has: () => true,
  rtl: (shape) => [ropeRtl(shape)],
  resources: (shape, family) => [{ module: "trilut_rope", instances: 1, resources: ropeResources(shape, family) }],
  paths: (shape, m) => ropePaths(shape, m),
  cycles: "per vector of tokens × heads × headDim elements: elements + headDim/2 (the half head a pair waits for) + 9 (the pipeline): ropeCycles",
  cycleFigures: (shape) => ({ pipeline: ROPE_PIPELINE, pairWait: shape.headDim / 2, buffer: shape.headDim }),
  hls: (shape) => ropeHls(shape),
};
