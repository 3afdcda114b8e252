import { type EngineGeometry } from "../engine/config.js";
import { type DelayModel } from "../fabric/delays.js";
import { adderSteps, muxSteps, PathList } from "../fabric/paths.js";
import { treeStageSteps } from "./adder-tree.js";
import { res, type Family, type ModuleResources } from "../fabric/resources.js";
import { psumMem } from "./partial-sums.js";
import { type HardwareUnit } from "./unit.js";

/**
 * The dequantization stage (engines with `dequant`), inside trilut_compute's DEQUANT generate
 * block: after each column group's steps, a sweep over the row groups reads their scale words and
 * adds each row's exact 64-bit total y·m + y'·m' + Σx·mu to a second partial-sum memory; the last
 * sweep writes round(total / 2^shift), half up, saturated to int32 (src/engine/scales.ts). The
 * stage is a pipeline of DEQUANT_LATENCY registers after the partial sum's read.
 */

/**
 * The stage's cells: per lane the pipelined 64-bit total y·m + y'·m' + Σx·mu, rounding shift and
 * saturation; once, the two-stage Σx adder over T·G activations and the step sums. DSP
 * structural: each 32 × 16 signed product is split by the RTL into two 17 × 16 ones, one DSP48
 * each, and each lane has two products, y·m and Σx·mu (the partner product y'·m' of an even lane
 * is the odd lane's y·m, read from its register): 4 per lane. LUT, LUTRAM, FF and carry fitted on
 * P = 2 and 4 at T·G = 24 with yosys (the pipelined stage): 568 + 771.5·P LUTs (the 48- and 64-bit
 * adders, the two-step shifter and saturation per lane, the Σx adder), 77 + 31·P LUTRAM (the
 * scale-word and row-group pipelines as shift registers), 226 + 601·P FF (per lane the pipeline's
 * registers: y, the products' halves, two 48-bit and four 64-bit sums, the shifted value, the
 * result), 19 + 39·P carry. On 7-series fitted separately: 402 + 727·P LUTs, 77 − P LUTRAM,
 * 188 + 407.5·P FF, 26 + 63.5·P CARRY4.
 */
export function dequantStage(geo: EngineGeometry, family: Family): ModuleResources {
  const { P } = geo.cfg;
  if (family === "7series") {
    return res({ lut: Math.round(402 + 727 * P), lutram: 77 - P, ff: Math.round(188 + 407.5 * P), carry: Math.round(26 + 63.5 * P), dsp: 4 * P });
  }
  return res({ lut: Math.round(568 + 771.5 * P), lutram: 77 + 31 * P, ff: 226 + 601 * P, carry: 19 + 39 * P, dsp: 4 * P });
}

/** The Σx adder's two stages: chunks of `chunk` activations (half the levels), then `chunks` chunk sums of `chunkBits`. */
export function xSumStages(geo: EngineGeometry): { chunk: number; chunks: number; chunkBits: number } {
  const n = geo.cfg.T * geo.cfg.G;
  const levels = n > 1 ? Math.ceil(Math.log2(n)) : 0;
  const first = Math.ceil(levels / 2);
  const chunk = 2 ** first;
  return { chunk, chunks: Math.ceil(n / chunk), chunkBits: 8 + first };
}

/**
 * The pipelined stage's register-to-register paths (trilut_compute's DEQUANT block, shapes as
 * yosys maps them at P = 2 and 4): each is one DSP, one adder of up to 64 bits, a shifter step or
 * the saturation, so none is longer than the engine's control paths.
 */
function dequantPaths(geo: EngineGeometry, m: DelayModel, p: PathList): void {
  const x = xSumStages(geo);
  // Σx: chunks of the step's activations, then the chunks, into the step's LUTRAM word
  p.add("trilut_compute", "dequantize: Σx chunks", "ff", treeStageSteps(x.chunk, 8), "ff");
  p.add("trilut_compute", "dequantize: Σx of the chunks", "ff", treeStageSteps(x.chunks, x.chunkBits), "lutram");
  // the row sum (forwarded) into the stage's register, then a 17 × 16 product per DSP
  p.add("trilut_compute", "dequantize: row sum in", "bram", ["lut"], "ff");
  p.add("trilut_compute", "dequantize: 17 × 16 product", "ff", ["dsp"], "ff");
  p.add("trilut_compute", "dequantize: product halves", "ff", adderSteps(48), "ff");
  p.add("trilut_compute", "dequantize: + partner, + half", "ff", ["lut", ...adderSteps(64)], "ff");
  p.add("trilut_compute", "dequantize: four-term sum", "ff", adderSteps(64), "ff");
  // the column groups' accumulator: block RAM read, 64-bit add, written back (and registered)
  p.add("trilut_psum_mem", "dequantize: + earlier column groups", "bram", ["lut", ...adderSteps(64)], "bram");
  p.add("trilut_compute", "dequantize: total", "bram", ["lut", ...adderSteps(64)], "ff");
  // the rounding shift in two steps of an 8:1 select each, then the saturation compare and select
  p.add("trilut_compute", "dequantize: coarse shift", "ff", muxSteps(8, m), "ff");
  p.add("trilut_compute", "dequantize: fine shift, saturate", "ff", [...muxSteps(8, m), ...adderSteps(32), "lut"], "ff");
  // the result enters the partial sums through their adder: the row-sum select before it, and on
  // the read side the zero and forwarding selects, one LUT more than an integer engine's
  p.add("trilut_psum_mem", "dequantize: result through the accumulator", "ff", ["lut", "lut", ...adderSteps(32)], "bram");
  p.add("trilut_psum_mem", "accumulate (dequantizing engine)", "bram", ["lut", "lut", ...adderSteps(32)], "bram");
}

/** Cycles a dequantization sweep spends per row group (it reads the group's scale words, one group a cycle). */
export const SWEEP_CYCLES_PER_GROUP = 1;
/**
 * Register stages of the pipelined stage (trilut_compute's DQ) between the partial sum's read and
 * the dequantized result's write: the last sweep's result is written this many cycles after the
 * lookup pipeline's own write would be, which delays a dequantizing pass's end by as much.
 */
export const DEQUANT_LATENCY = 8;

export const dequant: HardwareUnit = {
  name: "dequantization",
  summary:
    "Scales applied in fixed point: per row and column group, two trit-planes and the α·T + μ offset (as μ·Σx), " +
    "each row's exact 64-bit total rounded once to int32 with 8 fraction bits.",
  has: (geo) => geo.cfg.dequant,
  // in trilut_compute.v (its DEQUANT generate block) and a second trilut_psum_mem: no file of its own
  rtl: () => [],
  resources: (geo, family) => [
    { module: "trilut_compute", instances: 1, resources: dequantStage(geo, family) },
    { module: "trilut_psum_mem#2", instances: 1, resources: psumMem(geo.cfg.P * 64, geo.maxGroups) },
  ],
  paths: (geo, m) => {
    const p = new PathList();
    dequantPaths(geo, m, p);
    return p.paths;
  },
  cycles:
    "a sweep over the row groups after each column group's steps (one cycle per row group), in the pass recurrence; " +
    `the last sweep's results are written ${DEQUANT_LATENCY} cycles after the lookup pipeline's write (the stage's registers), which ends a dequantizing pass as much later`,
  cycleFigures: () => ({ sweepPerGroup: SWEEP_CYCLES_PER_GROUP, latency: DEQUANT_LATENCY }),
  hls: {
    summary: "dequantize() (round half up, saturate), the scale sweep after each column group in run_pass(), and the 64-bit totals",
    parts: [
      { partial: "dequant", slot: "dequantize" },
      { partial: "dequant-sweep", slot: "step_end" },
      { partial: "dequant-storage", slot: "tile_storage" },
    ],
  },
};
