import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";
import { type PathStep } from "../fabric/delays.js";
import { adderSteps, muxSteps, PathList } from "../fabric/paths.js";
import { familyCarry, lutramLuts, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { treeStages } from "./adder-tree.js";
import { hw, type HardwareUnit } from "./unit.js";

/**
 * The lookup datapath (trilut_compute): one pass of a tile's steps over its row groups. Per row
 * group (P rows a cycle) it reads the bank word, looks up T entries per row (negating on the
 * mirrored sign bit), hands them to the lane's adder tree and accumulates the sum into the row's
 * int32 partial sum; with `drain` it then streams the sums out, P lanes a beat. A baseline engine
 * has no tables: each weight's 2-bit code selects +x, −x or 0.
 */

/**
 * trilut_compute's own cells (tables, trees and the partial-sum memory are submodules, the
 * dequantization stage is ./dequant.ts):
 * - FF structural: the looked-up register (P·N·EW, N = T or T·G), plus fitted control:
 *   33.5·P − 7 + 6·(CW + RGW) (per lane the accumulator bypass; counters of CW and RGW bits);
 * - LUT fitted: 140 + 62.5·P (per lane the 32-bit accumulate, its clear and bypass multiplexers;
 *   the control); mirrored encodings add the sign, 2·EW per looked-up entry (structural-fitted:
 *   a conditional negation); a baseline adds the ±activation select, 8.85 per weight per lane
 *   plus 8.9 per activation (fitted);
 * - LUTRAM: the row-group pipeline as SRL16E, one per RGW bit; a baseline's two activation
 *   halves as RAM32M16 ({@link lutramLuts}, T·G·8 bits);
 * - carry: 4·P + 22 (the 32-bit accumulators, 4 CARRY8 each, and counters); the sign adds one
 *   chain of EW bits per entry; a baseline 2 per activation (fitted).
 */
export function compute(geo: EngineGeometry, family: Family): ModuleResources {
  const { P, T, G, encoding, kind } = geo.cfg;
  const EW = geo.entryBits;
  const baseline = kind === "baseline";
  const laneN = baseline ? T * G : T;
  const CW = ceilLog2(geo.cfg.bufferDepth + 1);
  const RGW = ceilLog2(geo.maxGroups + 1);
  let lut = 140 + 62.5 * P;
  let carry8 = 4 * P + 22;
  let lutramCells = RGW;
  if (!baseline && encoding === "mirrored") {
    lut += 2 * EW * P * T;
    carry8 += P * T * Math.ceil(EW / 8);
  }
  if (baseline) {
    lut += 8.85 * P * T * G + 8.9 * T * G;
    carry8 += 2 * T * G;
    lutramCells += lutramLuts(T * G * 8, 2, family);
  }
  const ff = P * laneN * EW + Math.round(33.5 * P - 7 + 6 * (CW + RGW));
  return res({
    lut: Math.round(lut),
    ff,
    lutram: lutramCells,
    carry: familyCarry(carry8, family),
  });
}

/**
 * A build starts when a table half is free: the step counter plus one (a CW-bit chain) compared
 * with the next (entering that chain's top), then the handshake fans out to the step's registers.
 */
export function buildStartSteps(geo: EngineGeometry): PathStep[] {
  const CW = ceilLog2(geo.cfg.bufferDepth + 1);
  return [...adderSteps(CW + 1), "lut", { carry: 4 }, "lut", "lut"];
}

/**
 * Stages of the lookup pipeline besides the adder tree's (trilut_compute's PIPE = 3 + TREE_STAGES,
 * the stage at which a row group's partial sum is written): the weight buffer read, the table read,
 * the looked-up register.
 */
export const LOOKUP_STAGES = 3;
/** Cycles from the last partial-sum write to the pass's end: the engine sees an empty pipeline the cycle after and leaves on the next. */
export const PASS_EXIT = 2;

/** The lookup pipeline's latency: the cycles from a row group's issue to its partial sum's write. */
export function lookupPipeline(geo: EngineGeometry): number {
  return LOOKUP_STAGES + treeStages(geo);
}

export const lookup: HardwareUnit = {
  name: "lookup",
  summary:
    "Per row group, P rows a cycle: the bank word's indices look up T table entries per row (or select ±activations " +
    "in a baseline engine), the lane's adder tree sums them, and the sum accumulates into the row's int32 partial sum.",
  has: () => true,
  rtl: () => hw("trilut_compute.v"),
  resources: (geo, family) => [{ module: "trilut_compute", instances: 1, resources: compute(geo, family) }],
  paths: (geo, m) => {
    const p = new PathList();
    const EW = geo.entryBits;
    // lookup: the bank word addresses a table copy (distributed RAM; banks of 64 entries past 64)
    if (geo.cfg.kind === "baseline") {
      p.add("trilut_compute", "±activation select", "ff", ["lutram", ...adderSteps(EW)], "ff");
    } else {
      const depth = 2 ** (geo.entryAddressBits + 1);
      const sign: PathStep[] = geo.cfg.encoding === "mirrored" ? adderSteps(EW) : [];
      p.add("trilut_compute", "table lookup", "ff", ["lutram", ...(depth > 64 ? muxSteps(depth / 64, m) : []), ...sign], "ff");
    }
    // accumulate: the partial sum out of block RAM, the forwarding select, the 32-bit add, into the
    // forwarding register (its write back into the RAM is ./partial-sums.ts's path)
    p.add("trilut_compute", "accumulate (forwarded)", "bram", ["lut", ...adderSteps(32)], "ff");
    p.add("trilut_compute", "build start", "ff", buildStartSteps(geo), "ff");
    return p.paths;
  },
  cycles:
    "the pass recurrence (src/estimate/cycles): a step's lookups issue once its tables are complete, one row group a " +
    `cycle; the lookup pipeline's latency (${LOOKUP_STAGES} stages: buffer read, table read, register; then the adder ` +
    `tree) and ${PASS_EXIT} cycles to leave end a pass`,
  cycleFigures: (geo) => ({ pipeline: lookupPipeline(geo), passExit: PASS_EXIT }),
  hls: {
    summary: "run_pass(): per step, the row groups' lookups accumulated into the partial sums; a baseline engine's activations pass through precompute()",
    parts: [
      { partial: "lookup-activations", slot: "step_build", when: (geo) => geo.cfg.kind === "baseline" },
      { partial: "lookup", slot: "pass" },
    ],
  },
};
