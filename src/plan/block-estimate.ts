import { type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { blockProgram } from "../codegen/block-program.js";
import { engineGeometry, resolveEngine, type EngineGeometry } from "../engine/config.js";
import { planMatmuls, type MatmulShape } from "../engine/tiles.js";
import { blockClockMHz, estimateBlockResources } from "../estimate/block-resources.js";
import { blockCapacity } from "../codegen/block-rtl.js";
import { modelFamily } from "../fabric/resources.js";
import { atEngineClock, describeEngineClock, type EngineClock } from "../estimate/clock.js";
import { blockProgramCycles } from "../estimate/cycles/block.js";
import { engineShapes } from "../estimate/latency.js";
import { describeArchitecture } from "../model/architecture.js";
import { type BlockShape } from "../model/block-shape.js";
import { withModel, type OpenOptions } from "../model/open.js";
import { type ModelReader } from "../model/reader.js";
import { kvUnitLayout } from "../units/decoder/kv-cache.js";
import { planBlock } from "./block-plan.js";

/** One run of a decoder block in hardware, by the exact cycle model (src/estimate/cycles/block.ts). */
export interface BlockRunEstimate {
  readonly tokens: number;
  /** Position of the run's first token: the cache holds positions 0..position−1 before it. */
  readonly position: number;
  readonly cycles: number;
  /** Cycles by unit; they sum to `cycles` (`engine` is the ternary matmuls, `sequencer` the instruction issue). */
  readonly units: Record<string, number>;
  /** The share of the block's cycles outside the ternary matmuls (1 − engine / cycles). */
  readonly nonMatmulShare: number;
  /** Block RAM (RAMB36) the block accelerator needs with buffers for this run's tokens. */
  readonly bram36: number;
  /** Whether that fits the budget's block RAM (its utilization cap); when not, the run needs prefill chunking, which the block lacks. */
  readonly fitsBram: boolean;
  readonly milliseconds: number;
}

export interface BlockEstimate {
  readonly scope: "block";
  readonly shape: BlockShape;
  /** Blocks the model runs per token (its layers); the figures are ONE block's. */
  readonly layers: number;
  readonly clockMHz: number;
  /** Decode of one token attending over `context` positions (itself included). */
  readonly decode: BlockRunEstimate & { readonly context: number };
  /** A prompt of each length from position 0, all its tokens through the block at once. */
  readonly prefill: Record<string, BlockRunEstimate>;
  /** What the figures cover and what they leave out. */
  readonly covers: string[];
}

export interface BlockEstimateOptions {
  readonly contextLength: number;
  readonly promptLengths: readonly number[];
  readonly open?: OpenOptions;
}

/**
 * The block's engine: the block applies each matmul's tensor scales on the engine (its
 * dequantization stage, src/engine/scales.ts) before scale-out, so an engine planned without it
 * gains it here; `dequantAdded` says so.
 */
export function blockEngine(geo: EngineGeometry): { geo: EngineGeometry; dequantAdded: boolean } {
  if (geo.cfg.dequant) return { geo, dequantAdded: false };
  return { geo: engineGeometry(resolveEngine({ ...geo.cfg, dequant: true }, "the decoder block's engine (dequant=true)")), dequantAdded: true };
}

/** The block's four fused matmuls (docs/block.md): q|k|v, o, gate|up, down, as the engine times them. */
function fusedMatmuls(geo: EngineGeometry, d: { hidden: number; ffn: number; kvDim: number }): MatmulShape[] {
  const { hidden, ffn, kvDim } = d;
  return engineShapes(geo, [
    { n: hidden + 2 * kvDim, k: hidden },
    { n: hidden, k: hidden },
    { n: 2 * ffn, k: hidden },
    { n: hidden, k: ffn },
  ]);
}

/**
 * The BlockShape of a model (planBlock, which refuses in one line what cannot map) for a KV cache
 * of `context` positions, its memory checked beside the block's weight images of every layer.
 */
export function planModelBlock(m: ModelReader, geo: EngineGeometry, budget: Budget, context: number): { shape: BlockShape; layers: number } {
  const arch = describeArchitecture(m);
  const { hidden, ffn, kvHeads, headDim, layers } = arch.dimensions;
  const images = planMatmuls(geo, fusedMatmuls(geo, { hidden, ffn, kvDim: kvHeads * headDim }), 1).imageBytes;
  const shape = planBlock(m, arch, budget, {
    context,
    // a token's K and V rows of every kv head, with their share of the blocks' scale beats
    kvBytesPerTokenLayer: (s) => (2 * s.kvHeads * kvUnitLayout(s).blockBytes) / kvUnitLayout(s).P,
    weightBytes: images * layers,
  });
  return { shape, layers };
}

/**
 * One decoder block of a model in hardware, cycles by unit: decode at the context and a prefill
 * of each prompt length, on the model's BlockShape (planBlock, which refuses in one line what
 * cannot map) and the budget's memory at the block engine's clock.
 */
export function estimateBlock(modelPath: string, planned: EngineGeometry, budget: Budget, opts: BlockEstimateOptions): BlockEstimate {
  const { geo, dequantAdded } = blockEngine(planned);
  const context = opts.contextLength;
  // the hardware's KV cache holds the decode context and the longest prompt
  const maxContext = Math.max(context, ...opts.promptLengths);
  const { shape, layers } = withModel(modelPath, (m) => planModelBlock(m, geo, budget, maxContext), opts.open ?? {});
  // the block's clock: the engine's, or a decoder unit's longest path where that is slower
  const clock: EngineClock = blockClockMHz(geo, shape, budget);
  const memory = memoryTiming(atEngineClock(budget, clock));
  const fused = fusedMatmuls(geo, { hidden: shape.hidden, ffn: shape.ffn, kvDim: shape.kvHeads * shape.headDim });
  const run = (tokens: number, position: number): BlockRunEstimate => {
    const plan = planMatmuls(geo, fused, tokens);
    const c = blockProgramCycles(geo, shape, blockProgram(geo, shape, plan, { position, tokens, kvAddr: 0 }), memory);
    const bram36 = estimateBlockResources(geo, shape, blockCapacity(shape, tokens), modelFamily(budget.family)).total.bram36;
    return {
      tokens,
      position,
      cycles: c.total,
      units: c.units,
      nonMatmulShare: 1 - (c.units["engine"] ?? 0) / c.total,
      milliseconds: (c.total / (clock.mhz * 1e6)) * 1e3,
      bram36,
      fitsBram: bram36 <= budget.bram36 * budget.utilizationCap,
    };
  };
  const prefill: Record<string, BlockRunEstimate> = {};
  for (const p of opts.promptLengths) prefill[String(p)] = run(p, 0);
  const decode = { ...run(1, context - 1), context };
  // a run whose buffers exceed the part's block RAM cannot run as estimated: said, not hidden
  const tooBig = [...(decode.fitsBram ? [] : [["decode", decode] as const]), ...Object.entries(prefill).filter(([, r]) => !r.fitsBram).map(([p, r]) => [`a ${p}-token prefill`, r] as const)];
  return {
    scope: "block",
    shape,
    layers,
    clockMHz: clock.mhz,
    decode,
    prefill,
    covers: [
      "ONE decoder block (a model runs one per layer): the norms and activation quantizers, the four fused ternary matmuls (q|k|v, o, gate|up, down), scale-out, RoPE, the KV cache write and read, attention, the gate and the residual adds",
      "not in the block: the embedding lookup, the final norm and the LM head; nor the host writing the program and the residual stream between blocks",
      "the sequencer runs one instruction at a time (docs/block.md): no overlap of the next matmul's weight load with the other units",
      `the clock: ${describeEngineClock(clock)}, over the engine's and every decoder unit's paths (the sequencer's own are not modelled)`,
      ...tooBig.map(
        ([what, r]) =>
          `DOES NOT FIT: ${what} needs buffers for its ${r.tokens} token${r.tokens > 1 ? "s" : ""} at once, ${r.bram36} BRAM36 in all, beyond ${budget.device}'s ${budget.bram36} (at ${100 * budget.utilizationCap}%): its figures assume a chunked prefill the block does not have yet`,
      ),
      ...(dequantAdded ? ["the engine gains its dequantization stage (dequant=true): the block applies the tensor scales on the engine"] : []),
    ],
  };
}
