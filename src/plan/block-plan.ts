import { basename } from "node:path";
import { type Budget } from "../budget/budget.js";
import { type ModelArchitecture } from "../model/architecture.js";
import { blockShape, type BlockShape } from "../model/block-shape.js";
import { type ModelReader } from "../model/reader.js";
import { blockNormTensors, decoderTensorNames } from "../model/tensor-names.js";
import { UserError } from "../util/errors.js";

/** Activations the decoder's gate unit has in hardware. */
const GATES = ["silu", "relu2"] as const;

export interface BlockPlanOptions {
  /** The longest context the hardware holds (KV cache entries). */
  readonly context: number;
  /** Bytes one token's K and V take in the cache, per layer (from the KV cache format). */
  readonly kvBytesPerTokenLayer: (shape: BlockShape) => number;
  /** Bytes of the weight images in memory. */
  readonly weightBytes: number;
}

/**
 * The decoder block a model maps to, or one line saying why it cannot: an activation the gate has
 * no hardware for, a head dimension RoPE cannot rotate, query heads that do not group over the KV
 * heads, a missing or mis-sized norm weight, or a context whose KV cache (with the weights) does not
 * fit the budget's memory.
 */
export function planBlock(model: ModelReader, arch: ModelArchitecture, budget: Budget, opts: BlockPlanOptions): BlockShape {
  const file = basename(model.path);
  const { hidden, ffn, heads, kvHeads, headDim, layers } = arch.dimensions;
  if (!(GATES as readonly string[]).includes(arch.activation)) {
    throw new UserError(`${file}: activation "${arch.activation}" has no gate unit in hardware; expected one of ${GATES.join(", ")}`);
  }
  if (headDim % 2 !== 0) {
    throw new UserError(`${file}: head dimension ${headDim} (hidden ${hidden} / ${heads} heads) is odd; RoPE rotates pairs, so it must be even`);
  }
  if (!(kvHeads >= 1 && heads % kvHeads === 0)) {
    throw new UserError(`${file}: ${heads} query heads do not group over ${kvHeads} KV heads; expected heads to be a multiple of KV heads`);
  }
  if (!(Number.isInteger(opts.context) && opts.context >= 1)) {
    throw new UserError(`context ${opts.context}: expected a whole number of tokens ≥ 1`);
  }
  const names = decoderTensorNames(arch.source);
  const listed = new Map(model.listTensors().map((t) => [t.name, t]));
  for (let l = 0; l < layers; l++) {
    for (const want of blockNormTensors(names, l, { hidden, ffn }, arch.subNorms)) {
      const t = listed.get(want.name);
      if (!t) throw new UserError(`${file}: norm weight ${want.name} is missing; expected a vector of ${want.length} values`);
      const length = t.shape.reduce((a, b) => a * b, 1);
      if (length !== want.length) throw new UserError(`${file}: norm weight ${want.name} has ${length} values; expected ${want.length}`);
    }
  }
  const shape = blockShape(model, arch, opts.context);
  if (budget.memoryGB !== undefined) {
    const kv = opts.kvBytesPerTokenLayer(shape) * opts.context * layers;
    const capacity = budget.memoryGB * 1e9;
    if (kv + opts.weightBytes > capacity) {
      throw new UserError(
        `context ${opts.context}: the KV cache (${(kv / 1e9).toFixed(2)} GB) and the weights (${(opts.weightBytes / 1e9).toFixed(2)} GB) ` +
          `exceed ${budget.device}'s ${budget.memoryGB} GB of memory; expected a shorter context`,
      );
    }
  }
  return shape;
}
