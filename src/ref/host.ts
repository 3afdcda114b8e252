import { type ModelArchitecture } from "../model/architecture.js";
import { type ModelReader } from "../model/reader.js";
import { type TernaryTensor } from "../model/types.js";
import { modelWorkload, type MatmulRole } from "../model/workload.js";
import { fixScales, OUT_FRAC_BITS, scaledMatmul, tensorScales, type ScaledMatmul } from "../engine/scales.js";
import { UserError } from "../util/errors.js";
import { modelNumber } from "../model/block-shape.js";
import { decoderTensorNames } from "../model/tensor-names.js";
import { quantizeActivations } from "./activations.js";

/**
 * The host model: a decoder's forward pass in the reference, so the engine's matmuls see the
 * activations a real model gives them. Everything between the matmuls (embeddings, RMSNorm,
 * per-token activation quantization, RoPE, causal attention over a KV cache, SiLU or ReLU² gating,
 * BitNet's sub-norms, residuals) runs here in double precision; each matmul is the integer
 * kernel followed by the engine's fixed-point dequantization (src/engine/scales.ts) with the
 * tensor's stored scales (per tensor, or TQ's per-256-weight blocks), times the activation scale. Every matmul call is recorded: its int8 input and the scaled matmul, which is
 * what the engine is given when it runs the same block.
 */
export interface MatmulCall {
  readonly name: string;
  readonly role: MatmulRole;
  /** undefined for the LM head. */
  readonly layer: number | undefined;
  readonly tokens: number;
  /** tokens × k int8 input. */
  readonly x: Int8Array;
  readonly matmul: ScaledMatmul;
}

export interface HostRun {
  /** Calls recorded for the requested layers, in the order a block makes them. */
  readonly calls: MatmulCall[];
  /** The residual stream after the last layer run (tokens × hidden). */
  readonly hidden: Float64Array;
  /** With `lmHead` and a ternary head: its output for the recorded tokens (tokens × vocab). */
  readonly logits?: Float64Array | undefined;
}

export interface HostOptions {
  /** Token ids of the run. */
  readonly tokens: readonly number[];
  /** Layers whose matmul calls are recorded (the pass runs up to the last of them). */
  readonly record: readonly number[];
  /** Tokens before `tokens` already in the KV cache (decode after a prompt); their ids. */
  readonly prefix?: readonly number[];
  /** Also record the LM head's call (after every layer and the final norm), when it is ternary. */
  readonly lmHead?: boolean;
}

function rmsNorm(x: Float64Array, weight: Float32Array, tokens: number, eps: number): Float64Array {
  const d = weight.length;
  const out = new Float64Array(tokens * d);
  for (let t = 0; t < tokens; t++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[t * d + j]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) out[t * d + j] = x[t * d + j]! * inv * weight[j]!;
  }
  return out;
}

/** Rotates pairs (i, i + d/2) of every head by position · θ^(−2i/d), as Hugging Face's rotate_half. */
function rope(x: Float64Array, tokens: number, heads: number, headDim: number, firstPos: number, theta: number): void {
  const half = headDim / 2;
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = (firstPos + t) * theta ** ((-2 * i) / headDim);
        const [c, s] = [Math.cos(angle), Math.sin(angle)];
        const [a, b] = [x[base + i]!, x[base + i + half]!];
        x[base + i] = a * c - b * s;
        x[base + i + half] = a * s + b * c;
      }
    }
  }
}

export function runHostModel(model: ModelReader, arch: ModelArchitecture, opts: HostOptions): HostRun {
  const { hidden, ffn, heads, kvHeads, headDim, vocab, layers } = arch.dimensions;
  // the gate below computes SiLU or ReLU² only: any other activation would be silently replaced
  if (arch.activation !== "silu" && arch.activation !== "relu2") {
    throw new UserError(`${model.path}: hidden_act "${arch.activation}" is not supported by the host model (silu, relu2)`);
  }
  const names = decoderTensorNames(arch.source);
  const eps = modelNumber(model, arch.name, "attention.layer_norm_rms_epsilon", "rms_norm_eps", 1e-5);
  const theta = modelNumber(model, arch.name, "rope.freq_base", "rope_theta", 10000);
  const workload = modelWorkload(arch, model.listTensors(), { contextLength: 1 });
  const lastLayer = opts.lmHead ? layers - 1 : Math.max(...opts.record);
  if (!(lastLayer < layers)) throw new UserError(`layer ${lastLayer}: the model has layers 0..${layers - 1}`);
  const ids = [...(opts.prefix ?? []), ...opts.tokens];
  for (const id of ids) if (!(Number.isInteger(id) && id >= 0 && id < vocab)) throw new UserError(`token id ${id} outside the vocabulary 0..${vocab - 1}`);
  const T = ids.length;
  const first = T - opts.tokens.length; // positions [first, T) are recorded; the prefix fills the cache

  const embed = model.readFloat(names.embed);
  let h: Float64Array = new Float64Array(T * hidden);
  ids.forEach((id, t) => {
    for (let j = 0; j < hidden; j++) h[t * hidden + j] = embed[id * hidden + j]!;
  });

  const calls: MatmulCall[] = [];
  const tensors = new Map<string, TernaryTensor>();
  const weight = (layer: number | undefined, role: MatmulRole): TernaryTensor => {
    const w = workload.matmuls.find((m) => m.layer === layer && m.role === role);
    if (!w || !w.ternary) throw new UserError(`layer ${layer} has no ternary ${role} matmul`);
    let t = tensors.get(w.name);
    if (!t) {
      t = model.readTernary(w.name);
      tensors.set(w.name, t);
    }
    return t;
  };
  // one matmul as the engine computes it, for every position; records the calls of recorded layers
  const matmul = (layer: number | undefined, role: MatmulRole, x: Float64Array, tokens: number, record: boolean): Float64Array => {
    const w = weight(layer, role);
    const { q, scale } = quantizeActivations(x, tokens, w.k);
    const scaled: ScaledMatmul = tensorScales(w);
    const fixed = fixScales(scaled);
    const y = scaledMatmul(scaled, fixed, q, tokens);
    if (record && (layer === undefined || opts.record.includes(layer))) {
      calls.push({ name: w.name, role, layer, tokens, x: q, matmul: scaled });
    }
    const out = new Float64Array(tokens * w.n);
    for (let t = 0; t < tokens; t++) {
      for (let r = 0; r < w.n; r++) out[t * w.n + r] = (y[t * w.n + r]! / 2 ** OUT_FRAC_BITS) * scale[t]!;
    }
    return out;
  };

  const kvDim = kvHeads * headDim;
  const group = heads / kvHeads;
  for (let l = 0; l <= lastLayer; l++) {
    const a = rmsNorm(h, model.readFloat(names.attnNorm(l)), T, eps);
    // the prefix's positions go through the block too (they fill the KV cache) but unrecorded
    const run = (role: MatmulRole, x: Float64Array, k: number): Float64Array => {
      if (first === 0) return matmul(l, role, x, T, true);
      const pre = matmul(l, role, x.subarray(0, first * k), first, false);
      const rec = matmul(l, role, x.subarray(first * k), T - first, true);
      const out = new Float64Array(pre.length + rec.length);
      out.set(pre);
      out.set(rec, pre.length);
      return out;
    };
    const q = run("q", a, hidden);
    const k = run("k", a, hidden);
    const v = run("v", a, hidden);
    rope(q, T, heads, headDim, 0, theta);
    rope(k, T, kvHeads, headDim, 0, theta);
    let att: Float64Array = new Float64Array(T * hidden);
    for (let t = 0; t < T; t++) {
      for (let hd = 0; hd < heads; hd++) {
        const kvh = Math.floor(hd / group);
        const scores = new Float64Array(t + 1);
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += q[(t * heads + hd) * headDim + i]! * k[u * kvDim + kvh * headDim + i]!;
          scores[u] = dot / Math.sqrt(headDim);
          max = Math.max(max, scores[u]!);
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) sum += (scores[u] = Math.exp(scores[u]! - max));
        for (let i = 0; i < headDim; i++) {
          let acc = 0;
          for (let u = 0; u <= t; u++) acc += scores[u]! * v[u * kvDim + kvh * headDim + i]!;
          att[(t * heads + hd) * headDim + i] = acc / sum;
        }
      }
    }
    if (arch.subNorms) att = rmsNorm(att, model.readFloat(names.attnSubNorm(l)), T, eps);
    const o = run("o", att, hidden);
    h = h.map((x, i) => x + o[i]!);
    const f = rmsNorm(h, model.readFloat(names.ffnNorm(l)), T, eps);
    const g = run("gate", f, hidden);
    const u = run("up", f, hidden);
    let act: Float64Array = new Float64Array(T * ffn);
    for (let i = 0; i < act.length; i++) {
      const gi = g[i]!;
      const gated = arch.activation === "relu2" ? Math.max(0, gi) ** 2 : gi / (1 + Math.exp(-gi));
      act[i] = gated * u[i]!;
    }
    if (arch.subNorms) act = rmsNorm(act, model.readFloat(names.ffnSubNorm(l)), T, eps);
    const d = run("down", act, ffn);
    h = h.map((x, i) => x + d[i]!);
  }
  let logits: Float64Array | undefined;
  if (opts.lmHead && workload.lmHead.ternary) {
    const last = rmsNorm(h.subarray(first * hidden), model.readFloat(names.outputNorm), T - first, eps);
    logits = matmul(undefined, "lm_head", last, T - first, true);
  }
  return { calls, hidden: h, logits };
}
