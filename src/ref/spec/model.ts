import { type ModelArchitecture } from "../../model/architecture.js";
import { blockShape, type BlockShape } from "../../model/block-shape.js";
import { type ModelReader } from "../../model/reader.js";
import { decoderTensorNames } from "../../model/tensor-names.js";
import { type TernaryTensor } from "../../model/types.js";
import { modelWorkload, type MatmulRole, type Workload } from "../../model/workload.js";
import { fixScales, scaledMatmul, tensorScales, type ScaledMatmul } from "../../engine/scales.js";
import { UserError } from "../../util/errors.js";
import { blockSpec, type BlockCache, type BlockWeights } from "./block.js";
import { scaleOut } from "./elementwise.js";
import { toA } from "./fixed.js";
import { kvLayout, regionOffset, type KvLayout } from "./kv-cache.js";
import { normQuant, normWeights } from "./norm-quant.js";

/**
 * A whole model in the number spec: the inputs `blockSpec` takes, built from a model file, and a
 * run of every layer through it (docs/numerics.md). Nothing here computes in floats except the
 * one-time conversions of the model's stored values: norm weights to the norm-quant unit's format
 * (normWeights), embedding rows to A (toA), matmul scales to the engine's fixed point (fixScales,
 * inside blockSpec and the LM head).
 */

/** The memory beat the KV cache image is laid out for (the KV units' default, 128 bytes). */
export const MODEL_KV_BEAT_BYTES = 128;

/** A model's ternary matmuls by layer and role, read once. */
export class TernaryWeights {
  private readonly workload: Workload;
  constructor(
    private readonly model: ModelReader,
    arch: ModelArchitecture,
  ) {
    this.workload = modelWorkload(arch, model.listTensors(), { contextLength: 1 });
  }
  /** The tensor of (layer, role), or undefined when it is not ternary (e.g. a float LM head). */
  tensor(layer: number | undefined, role: MatmulRole): TernaryTensor | undefined {
    const w = this.workload.matmuls.find((m) => m.layer === layer && m.role === role);
    if (!w) throw new UserError(`${this.model.path}: layer ${layer} has no ${role} matmul`);
    return w.ternary ? this.model.readTernary(w.name) : undefined;
  }
  require(layer: number, role: MatmulRole): TernaryTensor {
    const t = this.tensor(layer, role);
    if (!t) throw new UserError(`${this.model.path}: layer ${layer}'s ${role} matmul is not ternary: the block accelerator runs ternary matmuls only`);
    return t;
  }
}

/**
 * Stored scales of one tensor as n rows × `groups` column groups of `groupSize` (0: one group): a
 * per-tensor scale is repeated over the groups, so tensors with and without TQ block scales fuse.
 */
function scalesIn(s: ScaledMatmul, groupSize: number): Float32Array {
  const { n, k } = s.planes[0]!;
  const own = s.groupSize ?? 0;
  if (own === groupSize) return s.alpha[0]!;
  if (own !== 0) throw new UserError(`fused matmul: scale groups of ${own} and ${groupSize} columns do not fuse`);
  const groups = Math.ceil(k / groupSize);
  const out = new Float32Array(n * groups);
  for (let r = 0; r < n; r++) out.fill(s.alpha[0]![r]!, r * groups, (r + 1) * groups);
  return out;
}

/**
 * Fuses tensors sharing their input into one matmul: `rowOrder(i)` gives, for output row i of the
 * fused matrix, the part and the part's row. Every scale keeps its stored value (per row, or per
 * row and TQ block); fixScales later picks one exponent for all of them (docs/block.md).
 */
function fuse(parts: readonly ScaledMatmul[], rows: number, rowOf: (i: number) => { part: number; row: number }): ScaledMatmul {
  const k = parts[0]!.planes[0]!.k;
  for (const p of parts) {
    if (p.planes.length !== 1 || p.mu) throw new UserError("fused matmul: the block fuses single-plane symmetric matmuls only");
    if (p.planes[0]!.k !== k) throw new UserError(`fused matmul: parts of ${p.planes[0]!.k} and ${k} columns share no input`);
  }
  const groupSize = Math.max(...parts.map((p) => p.groupSize ?? 0));
  const groups = groupSize > 0 ? Math.ceil(k / groupSize) : 1;
  const alphas = parts.map((p) => scalesIn(p, groupSize));
  const trits = new Int8Array(rows * k);
  const alpha = new Float32Array(rows * groups);
  for (let i = 0; i < rows; i++) {
    const { part, row } = rowOf(i);
    trits.set(parts[part]!.planes[0]!.trits.subarray(row * k, (row + 1) * k), i * k);
    alpha.set(alphas[part]!.subarray(row * groups, (row + 1) * groups), i * groups);
  }
  return { planes: [{ n: rows, k, trits }], alpha: [alpha], ...(groupSize > 0 ? { groupSize } : {}) };
}

/** q | k | v stacked: rows of q, then k, then v. */
export function fuseQkv(q: ScaledMatmul, k: ScaledMatmul, v: ScaledMatmul): ScaledMatmul {
  const ns = [q, k, v].map((p) => p.planes[0]!.n);
  return fuse([q, k, v], ns[0]! + ns[1]! + ns[2]!, (i) => (i < ns[0]! ? { part: 0, row: i } : i < ns[0]! + ns[1]! ? { part: 1, row: i - ns[0]! } : { part: 2, row: i - ns[0]! - ns[1]! }));
}

/** gate | up interleaved: row 2i is gate row i, row 2i + 1 up row i. */
export function fuseGateUp(gate: ScaledMatmul, up: ScaledMatmul): ScaledMatmul {
  const n = gate.planes[0]!.n;
  if (up.planes[0]!.n !== n) throw new UserError(`gate (${n} rows) and up (${up.planes[0]!.n} rows) must have one shape`);
  return fuse([gate, up], 2 * n, (i) => ({ part: i % 2, row: i >> 1 }));
}

/** The inputs of `blockSpec` for one layer of a model. */
export interface ModelBlockInputs {
  readonly shape: BlockShape;
  readonly weights: BlockWeights;
}

function checkActivation(model: ModelReader, arch: ModelArchitecture): void {
  // blockShape maps any other activation to SiLU: refuse it here rather than compute the wrong gate
  if (arch.activation !== "silu" && arch.activation !== "relu2") {
    throw new UserError(`${model.path}: hidden_act "${arch.activation}" is not one the block accelerator has (silu, relu2)`);
  }
}

/**
 * The block inputs of `layer`: its fused q|k|v and interleaved gate|up matmuls and its o and down
 * matmuls with their stored scales (tensorScales), its norm weights in norm-quant's format, and the
 * block shape for a KV cache of `maxContext` positions.
 */
export function blockInputsFromModel(model: ModelReader, arch: ModelArchitecture, layer: number, maxContext: number, weights = new TernaryWeights(model, arch)): ModelBlockInputs {
  checkActivation(model, arch);
  const { layers } = arch.dimensions;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < layers)) throw new UserError(`layer ${layer}: the model has layers 0..${layers - 1}`);
  const names = decoderTensorNames(arch.source);
  const scaled = (role: MatmulRole): ScaledMatmul => tensorScales(weights.require(layer, role));
  const norm = (name: string) => normWeights(model.readFloat(name), name);
  return {
    shape: blockShape(model, arch, maxContext),
    weights: {
      qkv: fuseQkv(scaled("q"), scaled("k"), scaled("v")),
      o: scaled("o"),
      gateUp: fuseGateUp(scaled("gate"), scaled("up")),
      down: scaled("down"),
      attnNorm: norm(names.attnNorm(layer)),
      ffnNorm: norm(names.ffnNorm(layer)),
      ...(arch.subNorms ? { attnSubNorm: norm(names.attnSubNorm(layer)), ffnSubNorm: norm(names.ffnSubNorm(layer)) } : {}),
    },
  };
}

/** The embedding rows of `ids` in A (tokens × hidden), each value rounded once by toA. */
export function embeddingRowsA(model: ModelReader, arch: ModelArchitecture, ids: readonly number[]): Int32Array {
  const { hidden, vocab } = arch.dimensions;
  const embed = model.readFloat(decoderTensorNames(arch.source).embed);
  const out = new Int32Array(ids.length * hidden);
  ids.forEach((id, t) => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw new UserError(`token id ${id} outside the vocabulary 0..${vocab - 1}`);
    for (let j = 0; j < hidden; j++) out[t * hidden + j] = toA(embed[id * hidden + j]!);
  });
  return out;
}

/** A KV cache image for every layer of a model, laid out as the KV units lay out one layer. */
export interface ModelKvCache {
  readonly image: Uint8Array;
  readonly layout: KvLayout;
}

export function modelKvCache(shape: BlockShape, layers: number): ModelKvCache {
  const layout = kvLayout({ headDim: shape.headDim, kvHeads: shape.kvHeads, layers, maxContext: shape.maxContext, beatBytes: MODEL_KV_BEAT_BYTES });
  return { image: new Uint8Array(layout.totalBytes), layout };
}

/** What blockSpec gets for one layer: the model's image, with the layer's regions. */
export function layerCache(cache: ModelKvCache, layer: number): BlockCache {
  return { image: cache.image, layout: cache.layout, layerAddr: regionOffset(cache.layout, layer, 0, 0) };
}

export interface SpecModelOptions {
  /** The prompt: one prefill of all its tokens at positions 0.. */
  readonly tokens: readonly number[];
  /** Tokens decoded after the prompt, one step each, the KV cache persisting. */
  readonly decode?: readonly number[];
  /** KV cache positions (default: prompt + decode steps). */
  readonly maxContext?: number;
}

export interface SpecModelRun {
  /** The residual stream after the last layer, every position (prompt, then decode steps) × hidden, in A. */
  readonly hidden: Int32Array;
  /** The LM head's output in A (positions × vocab) when the head is ternary; otherwise undefined. */
  readonly logits: Int32Array | undefined;
}

/**
 * The model in the number spec: the prompt's embedding rows (A) through every layer's blockSpec as
 * one prefill, then each decode token alone at its position over the same KV cache; then, when the
 * LM head is ternary, the final norm (norm-quant with output_norm), the engine's scaled matmul and
 * scale-out give the logits in A.
 */
export function runSpecModel(model: ModelReader, arch: ModelArchitecture, opts: SpecModelOptions): SpecModelRun {
  const { hidden, layers } = arch.dimensions;
  const decode = opts.decode ?? [];
  const total = opts.tokens.length + decode.length;
  if (opts.tokens.length === 0) throw new UserError("a spec run needs at least one prompt token");
  const maxContext = opts.maxContext ?? total;
  if (total > maxContext) throw new UserError(`${total} positions do not fit a context of ${maxContext}`);
  const weights = new TernaryWeights(model, arch);
  const blocks = Array.from({ length: layers }, (_, l) => blockInputsFromModel(model, arch, l, maxContext, weights));
  const cache = modelKvCache(blocks[0]!.shape, layers);

  const out = new Int32Array(total * hidden);
  const step = (ids: readonly number[], position: number): void => {
    let h = embeddingRowsA(model, arch, ids);
    for (let l = 0; l < layers; l++) h = blockSpec(blocks[l]!.shape, blocks[l]!.weights, h, position, ids.length, layerCache(cache, l));
    out.set(h, position * hidden);
  };
  step(opts.tokens, 0);
  decode.forEach((id, i) => step([id], opts.tokens.length + i));
  return { hidden: out, logits: specLmHead(model, arch, weights, out, total) };
}

/** Final norm, then the ternary LM head on the engine, scaled out to A; undefined for a float head. */
function specLmHead(model: ModelReader, arch: ModelArchitecture, weights: TernaryWeights, h: Int32Array, tokens: number): Int32Array | undefined {
  const head = weights.tensor(undefined, "lm_head");
  if (!head) return undefined;
  const { hidden } = arch.dimensions;
  const eps = blockShape(model, arch, 1).eps;
  const outputNorm = decoderTensorNames(arch.source).outputNorm;
  const norm = normWeights(model.readFloat(outputNorm), outputNorm);
  const s = tensorScales(head);
  const f = fixScales(s);
  const n = head.n;
  const logits = new Int32Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    const x = normQuant(h.subarray(t * hidden, (t + 1) * hidden), norm, { d: hidden, eps });
    logits.set(scaleOut(scaledMatmul(s, f, x.q, 1), x.scale), t * n);
  }
  return logits;
}
