import { type EngineGeometry } from "../engine/config.js";
import { ceilLog2 } from "../engine/encoding.js";
import { pathDelay, type PathStep } from "../fabric/delays.js";
import { adderSteps, PathList } from "../fabric/paths.js";
import { carryCells, res, type Family, type ModuleResources } from "../fabric/resources.js";
import { hw, type HardwareUnit } from "./unit.js";

/**
 * One lane's adder tree (trilut_adder_tree, P instances): the T looked-up entries (T·G
 * ±activations in a baseline engine) summed into one, widening a bit per level, with a pipeline
 * register every `treeLevelsPerStage` levels and after the last.
 */

/**
 * LUTs yosys spends on a k-operand sum of w-bit operands, merged into one $macc between pipeline
 * registers (fitted): 2 operands w (one LUT per bit of a carry-chain adder), 3 operands 2w (a
 * ternary adder), 4 operands 4.5w + 1 (a compressor and an adder), 8 operands 22.1w and 16
 * operands 69.7w (yosys compresses wide sums in LUTs: fitted at w = 10 on trees of 3 and 4 levels
 * per stage); between those linear in k, beyond 16 extrapolated at 5.95w per operand.
 */
export function maccLuts(k: number, w: number): number {
  if (k <= 1) return 0;
  if (k === 2) return w;
  if (k === 3) return 2 * w;
  const points: [number, number][] = [[4, 4.5], [8, 22.1], [16, 69.7]];
  const extra = k === 4 ? 1 : 0;
  for (let i = 1; i < points.length; i++) {
    const [k0, a0] = points[i - 1]!;
    const [k1, a1] = points[i]!;
    if (k <= k1) return (a0 + ((a1 - a0) * (k - k0)) / (k1 - k0)) * w + extra;
  }
  return (69.7 + 5.95 * (k - 16)) * w;
}

/**
 * trilut_adder_tree: N inputs of IW bits, widening by a bit per level, a register every
 * LEVELS_PER_STAGE levels and after the last. Walked stage by stage: each stage sums groups of up
 * to 2^L operands into one (LUT fitted, {@link maccLuts}; carry structural: one chain of the
 * group's output width); FF structural: the registered nodes.
 */
export function adderTree(N: number, IW: number, levelsPerStage: number, family: Family): ModuleResources {
  const levels = ceilLog2(N);
  let lut = 0;
  let ff = 0;
  let carry = 0;
  let n = N;
  let w = IW;
  for (let l = 0; l < levels; ) {
    const L = Math.min(levelsPerStage, levels - l);
    const span = 2 ** L;
    const groups = Math.ceil(n / span);
    for (let g = 0; g < groups; g++) {
      const k = Math.min(span, n - g * span);
      lut += maccLuts(k, w);
      if (k > 1) carry += carryCells(w + L, family);
    }
    n = groups;
    w += L;
    l += L;
    ff += n * w; // the register after the stage
  }
  return res({ lut: Math.round(lut), ff, carry });
}

/**
 * One adder-tree stage summing k operands of w bits into one (fitted on yosys's $macc mapping): up
 * to three operands are one LUT and a carry chain (a ternary adder); four are first compressed by
 * a LUT and a MUXF; each further halving adds a LUT and a slice's three MUXFs (fitted on 8 and 16
 * operands, within one MUXF on 16).
 */
export function treeStageSteps(k: number, w: number): PathStep[] {
  if (k <= 1) return [];
  const L = ceilLog2(k);
  const compress: PathStep[] = [];
  if (k > 3) {
    for (let l = 3; l <= L; l++) compress.push("lut", "muxf", "muxf", "muxf");
    compress.push("lut", "muxf");
  }
  return [...compress, ...adderSteps(w + L)];
}

/** Values each lane's tree sums: T entries, or T·G ±activations in a baseline engine. */
const laneInputs = (geo: EngineGeometry): number => (geo.cfg.kind === "baseline" ? geo.cfg.T * geo.cfg.G : geo.cfg.T);

/** Pipeline stages of a lane's adder tree (treeLevelsPerStage levels each). */
export function treeStages(geo: EngineGeometry): number {
  return geo.treeStages;
}

export const adderTreeUnit: HardwareUnit = {
  name: "adder tree",
  summary: "Per lane, the T looked-up entries summed in a pipelined tree, a register every treeLevelsPerStage levels.",
  has: () => true,
  rtl: () => hw("trilut_adder_tree.v"),
  resources: (geo, family) => [
    { module: "trilut_adder_tree", instances: geo.cfg.P, resources: adderTree(laneInputs(geo), geo.entryBits, geo.cfg.treeLevelsPerStage, family) },
  ],
  paths: (geo, m) => {
    // each stage sums up to 2^L operands; the widest stage is the slowest
    let n = laneInputs(geo);
    let w = geo.entryBits;
    let worst: PathStep[] = [];
    let worstNs = -1;
    for (let l = 0; l < geo.treeLevels; ) {
      const L = Math.min(geo.cfg.treeLevelsPerStage, geo.treeLevels - l);
      const steps = treeStageSteps(Math.min(2 ** L, n), w);
      const ns = pathDelay({ start: "ff", steps, end: "ff" }, m).ns;
      if (ns > worstNs) [worst, worstNs] = [steps, ns];
      n = Math.ceil(n / 2 ** L);
      w += L;
      l += L;
    }
    const L = geo.cfg.treeLevelsPerStage;
    const p = new PathList();
    p.add("trilut_adder_tree", `adder tree stage (${L} level${L === 1 ? "" : "s"})`, "ff", worst, "ff");
    return p.paths;
  },
  cycles: "geo.treeStages pipeline stages of the lookup pipeline's fixed latency",
  cycleFigures: (geo) => ({ stages: treeStages(geo) }),
  hls: {
    summary: "lane_sum(): one lane's T lookups (T·G ±activations in a baseline engine) summed; HLS pipelines the sum itself",
    parts: [{ partial: "adder-tree", slot: "lanes" }],
  },
};
