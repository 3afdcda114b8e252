import { type Budget } from "../budget/budget.js";
import { memoryTiming } from "../budget/memory.js";
import { blockProgram, encodeProgram, PROGRAM_ITEM_BITS } from "../codegen/block-program.js";
import { BLOCK_TOP, blockCapacity, generateBlockRtl, type BlockCapacity } from "../codegen/block-rtl.js";
import { type EngineGeometry } from "../engine/config.js";
import { encodeIndices } from "../engine/pack.js";
import { fixScales } from "../engine/scales.js";
import { planImage, planMatmuls } from "../engine/tiles.js";
import { blockClockMHz } from "../estimate/block-resources.js";
import { atEngineClock, type EngineClock } from "../estimate/clock.js";
import { blockProgramCycles } from "../estimate/cycles/block.js";
import { describeArchitecture } from "../model/architecture.js";
import { type BlockShape } from "../model/block-shape.js";
import { type ModelReader } from "../model/reader.js";
import { blockSpec } from "../ref/spec/block.js";
import { blockInputsFromModel, embeddingRowsA, layerCache, modelKvCache, TernaryWeights } from "../ref/spec/model.js";
import { type NormWeights } from "../ref/spec/norm-quant.js";
import { regionOffset } from "../ref/spec/kv-cache.js";
import { kvUnitLayout } from "../units/decoder/kv-cache.js";
import { Rng } from "../util/random.js";
import { UserError } from "../util/errors.js";
import { blockEngine, planModelBlock } from "../plan/block-estimate.js";
import { itemsOf, signedOf, simulateUnit, type UnitDesign, type UnitRun } from "./unit-harness.js";

export interface BlockSimOptions {
  readonly layer: number;
  /** Decode: one token after `context` prompt tokens in the KV cache; prefill: `tokens` prompt tokens from position 0. */
  readonly mode: "decode" | "prefill";
  readonly tokens: number;
  readonly context: number;
  /** Seeds the prompt's token ids. */
  readonly seed: number;
  /** Random valid/ready gaps on every stream and memory port, from this seed (the harness's ~30%). */
  readonly backpressureSeed?: number | undefined;
}

export interface BlockSimResult {
  readonly shape: BlockShape;
  readonly tokens: number;
  readonly position: number;
  /** The residual stream out against blockSpec, value by value. */
  readonly match: boolean;
  readonly mismatches: number;
  /** The KV cache image after the run against blockSpec's, byte by byte. */
  readonly kvMatch: boolean;
  readonly kvMismatches: number;
  readonly cycles: number;
  readonly predictedCycles: number;
  /** The cycle model's cycles by unit (they sum to predictedCycles). */
  readonly units: Record<string, number>;
  readonly clock: EngineClock;
  readonly dequantAdded: boolean;
  readonly seconds: number;
}

/** Norm weights as the `nw` stream carries them: (exponent << 16) | mantissa, 24 bits, once per token. */
function normWords(v: NormWeights, tokens: number): number[] {
  return Array.from({ length: tokens * v.mant.length }, (_, i) => ((v.exp & 0xff) << 16) | (v.mant[i % v.mant.length]! & 0xffff));
}

/**
 * Runs decoder block `layer` of a model in Verilator (the block accelerator, src/codegen/block-rtl.ts)
 * on the inputs the model's own forward pass gives it in the number spec: seeded prompt token ids,
 * their embedding rows through layers 0..layer−1 (blockSpec), the layer's KV cache holding the
 * prompt in decode. The residual stream out and the KV cache image are checked against blockSpec
 * bit for bit, the cycles against the block's exact model.
 */
export async function simulateModelBlock(model: ModelReader, planned: EngineGeometry, budget: Budget, opts: BlockSimOptions): Promise<BlockSimResult> {
  const { geo, dequantAdded } = blockEngine(planned);
  const arch = describeArchitecture(model);
  const { layers, vocab, hidden } = arch.dimensions;
  if (!(Number.isInteger(opts.layer) && opts.layer >= 0 && opts.layer < layers)) throw new UserError(`--block ${opts.layer}: the model has blocks 0..${layers - 1}`);
  const decode = opts.mode === "decode";
  const position = decode ? opts.context : 0;
  const tokens = decode ? 1 : opts.tokens;
  // the KV cache (and the hardware's row buffers) hold exactly the positions the run reaches
  const maxContext = position + tokens + Number(process.env["XCTX"] ?? 0);
  planModelBlock(model, geo, budget, maxContext);
  const weights = new TernaryWeights(model, arch);
  const blocks = Array.from({ length: opts.layer + 1 }, (_, l) => blockInputsFromModel(model, arch, l, maxContext, weights));
  const { shape, weights: w } = blocks[opts.layer]!;
  const cache = modelKvCache(shape, opts.layer + 1);
  const rng = new Rng(opts.seed);
  const ids = (count: number): number[] => Array.from({ length: count }, () => rng.int(0, vocab - 1));
  // the residual stream entering block `layer` for the given ids at a position, caches written on the way
  const through = (tokenIds: number[], at: number, upTo: number): Int32Array => {
    let h = embeddingRowsA(model, arch, tokenIds);
    for (let l = 0; l < upTo; l++) h = blockSpec(blocks[l]!.shape, blocks[l]!.weights, h, at, tokenIds.length, layerCache(cache, l));
    return h;
  };
  // decode: the prompt fills every cache up to this layer's, then the decoded token arrives
  if (decode && position > 0) through(ids(position), 0, opts.layer + 1);
  const h = through(ids(tokens), position, opts.layer);
  const initial = cache.image.slice();
  const kvAddr = regionOffset(cache.layout, opts.layer, 0, 0);
  const expected = blockSpec(shape, w, h, position, tokens, layerCache(cache, opts.layer));

  const matrices = [w.qkv, w.o, w.gateUp, w.down];
  const plan = planMatmuls(geo, matrices.map((m) => ({ n: m.planes[0]!.n, k: m.planes[0]!.k, scales: fixScales(m) })), tokens);
  const image = planImage(geo, matrices.map((m) => encodeIndices(geo, m.planes[0]!)), plan);
  const program = blockProgram(geo, shape, plan, { position, tokens, kvAddr });
  const clock = blockClockMHz(geo, shape, budget);
  const timing = memoryTiming(atEngineClock(budget, clock));
  const model_ = blockProgramCycles(geo, shape, program, timing);
  const kv = kvUnitLayout(shape);
  if (kv.regionBytes !== cache.layout.regionBytes) throw new Error("the model's KV cache and the block's KV units lay a region out differently");
  const norms = [w.attnNorm, ...(shape.subNorms ? [w.attnSubNorm!] : []), w.ffnNorm, ...(shape.subNorms ? [w.ffnSubNorm!] : [])];
  const design = blockDesign(geo, shape, blockCapacity(shape, tokens));
  const run: UnitRun = {
    inputs: { prog: itemsOf(encodeProgram(geo, program), PROGRAM_ITEM_BITS), xin: [], ain: itemsOf(h, 32), nw: itemsOf(norms.flatMap((v) => normWords(v, tokens)), 24) },
    expect: { out: expected.length },
    memories: { w: { image: new Uint8Array(image.buffer), timing }, kv: { image: initial, timing } },
    ...(opts.backpressureSeed !== undefined ? { backpressure: { seed: opts.backpressureSeed } } : {}),
    // the model's cycles with room for backpressure
    maxCycles: Math.max(1_000_000, 4 * model_.total),
  };
  const started = performance.now();
  const r = await simulateUnit(design, run);
  const seconds = (performance.now() - started) / 1e3;
  const out = r.outputs["out"]!.map((it) => signedOf(it.data, 32));
  let mismatches = Math.abs(out.length - expected.length);
  for (let i = 0; i < Math.min(out.length, expected.length); i++) if (out[i] !== expected[i]) mismatches++;
  const got = r.memories["kv"]!;
  let kvMismatches = Math.abs(got.length - cache.image.length);
  for (let i = 0; i < Math.min(got.length, cache.image.length); i++) if (got[i] !== cache.image[i]) kvMismatches++;
  if (hidden * tokens !== expected.length) throw new Error("blockSpec returned a residual stream of the wrong length");
  return {
    shape,
    tokens,
    position,
    match: mismatches === 0,
    mismatches,
    kvMatch: kvMismatches === 0,
    kvMismatches,
    cycles: r.cycles,
    predictedCycles: model_.total,
    units: model_.units,
    clock,
    dequantAdded,
    seconds,
  };
}

/** The block accelerator as the unit harness runs it: its streams and its two memory ports. */
export function blockDesign(geo: EngineGeometry, shape: BlockShape, cap: BlockCapacity): UnitDesign {
  return {
    top: BLOCK_TOP,
    sources: generateBlockRtl(geo, shape, cap),
    inputs: [
      { name: "prog", width: PROGRAM_ITEM_BITS },
      { name: "xin", width: 8 },
      { name: "ain", width: 32 },
      { name: "nw", width: 24 },
    ],
    outputs: [{ name: "out", width: 32, last: true }],
    memories: [
      { name: "w", beatBytes: geo.beatBytes },
      { name: "kv", beatBytes: kvUnitLayout(shape).beatBytes },
    ],
  };
}
