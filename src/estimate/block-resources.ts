import { type BlockBuffer, blockBuffers, type BlockCapacity } from "../codegen/block-rtl.js";
import { type EngineGeometry } from "../engine/config.js";
import { type Budget } from "../budget/budget.js";
import { delayModel, type DelayModel, pathDelay } from "../fabric/delays.js";
import { addInto, type Family, modelFamily, type ModuleResources, res } from "../fabric/resources.js";
import { type BlockShape } from "../model/block-shape.js";
import { DECODER_UNITS } from "../units/decoder/units.js";
import { enginePaths, engineTotal } from "../units/engine.js";
import { engineClockMHz, type EngineClock } from "./clock.js";

/**
 * The whole block accelerator's resources: the matmul engine, each decoder unit (its own
 * calibrated function), the block's buffers, and the sequencer's control logic around them.
 */
export interface BlockResources {
  readonly engine: ModuleResources;
  readonly units: { readonly name: string; readonly resources: ModuleResources }[];
  readonly buffers: BlockBuffer[];
  /** The sequencer (trilut_block's own cells), its address walkers and prefetch registers. */
  readonly control: ModuleResources;
  readonly total: ModuleResources;
}

/**
 * The sequencer's own cells, as yosys mapped trilut_block for the test's llama-shaped block
 * (hidden 32, T = 8, P = 4): one data point, so the figure is a constant, not a fit. Its logic is
 * the instruction decoder and the per-instruction counters, whose width grows only with log2 of
 * the buffer depths.
 */
const SEQUENCER = res({ lut: 1909, ff: 1115, lutram: 16 });
/** An address walker (trilut_block_walk): a counter pair and its compare, ~100 LUT / 85 FF (yosys). */
const WALKER = res({ lut: 100, ff: 85, carry: 12 });
/** Six walkers: read and write over the vector, residual and up buffers. */
const WALKERS = 6;

/**
 * A prefetch buffer (trilut_block_prefetch) of W bits: two W-bit registers and a select, as yosys
 * maps it: W + 8 LUTs and 2·W + 3 flip-flops (exact on its four widths in the llama block: 32, 33,
 * 88 and 192 bits).
 */
function prefetch(width: number): ModuleResources {
  return res({ lut: width + 8, ff: 2 * width + 3, carry: 1 });
}

export function estimateBlockResources(geo: EngineGeometry, shape: BlockShape, cap: BlockCapacity, family: Family = "ultrascale+"): BlockResources {
  const engine = engineTotal(geo, family);
  const units = DECODER_UNITS.filter((u) => u.has(shape)).map((u) => {
    const total = res({});
    for (const share of u.resources(shape, family)) addInto(total, share.resources, share.instances);
    return { name: u.name, resources: total };
  });
  const buffers = blockBuffers(geo, shape, cap);
  const control = res({});
  addInto(control, SEQUENCER, 1);
  addInto(control, WALKER, WALKERS);
  // the int8 feeder (an x beat), the result, vector and residual readers (33 bits: a value and its
  // last flag), the up reader (32), and the K and V row prefetches
  for (const width of [geo.actBeatBits, 33, 33, 33, 32, 8 * shape.headDim + 24, 8 * shape.headDim + 24]) addInto(control, prefetch(width), 1);
  const total = res({});
  addInto(total, engine, 1);
  for (const u of units) addInto(total, u.resources, 1);
  addInto(total, control, 1);
  for (const b of buffers) addInto(total, res({ bram36: b.bram36, lutram: b.lutram, ff: b.ff }), 1);
  return { engine, units, buffers, control, total };
}

export interface BlockClockPath {
  readonly unit: string;
  readonly module: string;
  readonly what: string;
  readonly ns: number;
}

/**
 * Every register-to-register path of the block accelerator the analytic model knows: the engine's
 * and each decoder unit's, longest first. The sequencer's own paths are not modelled (yosys puts
 * none of them among the longest: its critical path is a unit's).
 */
export function blockPaths(geo: EngineGeometry, shape: BlockShape, m: DelayModel): BlockClockPath[] {
  const family = m.family;
  const paths: BlockClockPath[] = enginePaths(geo, family).map((p) => ({ unit: "engine", module: p.module, what: p.what, ns: pathDelay(p.shape, m).ns }));
  for (const u of DECODER_UNITS) {
    if (!u.has(shape)) continue;
    for (const p of u.paths(shape, m)) paths.push({ unit: u.name, module: p.module, what: p.what, ns: pathDelay(p.shape, m).ns });
  }
  return paths.sort((a, b) => b.ns - a.ns);
}

/**
 * The block accelerator's clock: the engine's (min of the budget and its estimate) unless a
 * decoder unit's longest path is slower, in which case that path sets it and is named.
 */
export function blockClockMHz(geo: EngineGeometry, shape: BlockShape, budget: Budget): EngineClock {
  const engine = engineClockMHz(geo, budget);
  const m = delayModel(modelFamily(budget.family));
  const unit = blockPaths(geo, shape, m).find((p) => p.unit !== "engine");
  if (!unit) return engine;
  const unitMHz = Math.floor(10000 / unit.ns) / 10;
  if (unitMHz >= engine.mhz) return engine;
  return { mhz: unitMHz, limitedBy: "estimate", estimateMHz: unitMHz, budgetMHz: engine.budgetMHz, criticalPath: `${unit.what} in ${unit.module} (${unit.unit})` };
}
