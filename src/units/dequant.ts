import { type EngineGeometry } from "../engine/config.js";
import { type PathStep } from "../fabric/delays.js";
import { PathList } from "../fabric/paths.js";
import { res, type Family, type ModuleResources } from "../fabric/resources.js";
import { psumMem } from "./partial-sums.js";
import { type HardwareUnit } from "./unit.js";

/**
 * The dequantization stage (engines with `dequant`), inside trilut_compute's DEQUANT generate
 * block: after each column group's steps, a sweep over the row groups reads their scale words and
 * adds each row's exact 64-bit total y·m + y'·m' + Σx·mu to a second partial-sum memory; the last
 * sweep writes round(total / 2^shift), half up, saturated to int32 (src/engine/scales.ts).
 */

/**
 * The stage's cells: per lane the 64-bit total y·m + y'·m' + Σx·mu, rounding shift and
 * saturation; once, the Σx adder over T·G activations and the step sums. DSP structural: a
 * 32 × 16 signed product needs two DSP48E2 (27 × 18: the 32-bit operand splits in two), and each
 * lane has two, y·m and Σx·mu (the partner product y'·m' of an even lane is the odd lane's y·m,
 * which yosys shares): 4 per lane. LUT, LUTRAM, FF and carry fitted on P = 2 and 4 at T·G = 24:
 * 1297 + 781.5·P LUTs (the 64-bit adders, shifter and comparators per lane, partial products
 * outside the DSPs, the Σx adder), 59 + 32·P LUTRAM (the scale-word pipeline), 70 FF, 11 + 28·P
 * carry. On 7-series (DSP48E1, 25 × 18: still two per product) fitted separately: 599 + 695.5·P
 * LUTs, 59 LUTRAM, 67 + 31.5·P FF (the scale words in flip-flops), 22 + 39·P CARRY4.
 */
export function dequantStage(geo: EngineGeometry, family: Family): ModuleResources {
  const { P } = geo.cfg;
  if (family === "7series") {
    // fitted on P = 2 and 4 with yosys -family xc7: fewer LUTs, and the scale-word pipeline in
    // flip-flops rather than shift registers
    return res({ lut: Math.round(599 + 695.5 * P), lutram: 59, ff: Math.round(67 + 31.5 * P), carry: 22 + 39 * P, dsp: 4 * P });
  }
  return res({
    lut: Math.round(1297 + 781.5 * P),
    lutram: 59 + 32 * P,
    ff: 70,
    carry: 11 + 28 * P,
    dsp: 4 * P,
  });
}

/**
 * The stage, combinational between the partial sum's block RAM read and its write (fitted on
 * yosys's mapping at P = 4): the forwarding select, the 32 × 16 product in DSPs and its two
 * halves' sum, the 64-bit total of four terms (a compressor and a long chain), the rounding shift
 * (64-way: LUT and MUXF levels), the saturation compare and select.
 */
const DEQUANT_STEPS: Record<"ultrascale+" | "7series", PathStep[]> = {
  "ultrascale+": [
    "lut", "dsp", "lut", { carry: 4 }, "lut", "lut", "lut", "lut", { carry: 4 }, "lut", { carry: 48 },
    "lut", "muxf", "muxf", "muxf", "lut", "lut", "lut", "muxf", { carry: 12 }, "lut", "lut",
  ],
  // DSP48E1 (25 × 18): the product takes two DSPs, the second on the first's cascade
  "7series": [
    "lut", "dsp", "dsp-cascade", "lut", "lut", "lut", "lut", { carry: 4 }, "lut", { carry: 48 },
    "lut", "lut", "lut", "muxf", "muxf", "lut", "lut", "muxf", { carry: 8 }, "lut", "lut",
  ],
};

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
  paths: (_geo, m) => {
    const p = new PathList();
    p.add("trilut_psum_mem", "dequantize (product, sum, round, saturate)", "bram", DEQUANT_STEPS[m.family], "bram");
    p.add("trilut_compute", "dequantize (forwarded)", "bram", DEQUANT_STEPS[m.family], "ff");
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
