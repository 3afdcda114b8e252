import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Budget } from "../budget/budget.js";
import { BLOCK_TOP, blockBuffers, blockCapacity, generateBlockRtl, type BlockBuffer, type BlockCapacity } from "../codegen/block-rtl.js";
import { type EngineGeometry } from "../engine/config.js";
import { type BlockShape } from "../model/block-shape.js";
import { type ModelReader } from "../model/reader.js";
import { describeArchitecture } from "../model/architecture.js";
import { defaultContextLength } from "../model/workload.js";
import { type SourceFile } from "../units/unit.js";
import { blockEngine, planModelBlock } from "../plan/block-estimate.js";

/** The whole decoder block accelerator of a model (templates/rtl/block/trilut_block.v.hbs). */
export interface BlockAccelerator {
  readonly top: string;
  readonly shape: BlockShape;
  readonly capacity: BlockCapacity;
  /** The engine inside it: the planned one, with its dequantization stage added when it had none. */
  readonly geo: EngineGeometry;
  readonly dequantAdded: boolean;
  readonly buffers: BlockBuffer[];
  readonly files: SourceFile[];
}

/**
 * The block accelerator for a model on a planned engine: its shape from planBlock (one-line
 * refusals) with a KV cache of the model's context (at most 1024, as the estimate's default), and
 * buffers for one token a run: decode, and a prefill token by token (its bits are the same).
 */
export function blockAccelerator(model: ModelReader, planned: EngineGeometry, budget: Budget): BlockAccelerator {
  const { geo, dequantAdded } = blockEngine(planned);
  const { shape } = planModelBlock(model, geo, budget, defaultContextLength(describeArchitecture(model)));
  const capacity = blockCapacity(shape, 1);
  return { top: BLOCK_TOP, shape, capacity, geo, dequantAdded, buffers: blockBuffers(geo, shape, capacity), files: generateBlockRtl(geo, shape, capacity) };
}

/** Writes the accelerator's Verilog into DIR/rtl/block/ (a complete file set: its engine included); returns the paths. */
export function writeBlockRtl(dir: string, block: BlockAccelerator): string[] {
  mkdirSync(join(dir, "rtl", "block"), { recursive: true });
  return block.files.map((f) => {
    writeFileSync(join(dir, "rtl", "block", f.name), f.content);
    return `rtl/block/${f.name}`;
  });
}
