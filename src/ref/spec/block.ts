import { type BlockShape } from "../../model/block-shape.js";
import { fixScales, scaledMatmul, type FixedScales, type ScaledMatmul } from "../../engine/scales.js";
import { type TritMatrix } from "../../model/types.js";
import { attendToken, type KvCacheView, type KvRow as AttnRow } from "./attention.js";
import { type Scale } from "./fixed.js";
import { loadRow, type KvLayout, writeToken } from "./kv-cache.js";
import { ropeSpec } from "./rope.js";
import { gate, residualAdd, scaleOut } from "./elementwise.js";
import { normQuant, type NormWeights } from "./norm-quant.js";

/**
 * One decoder block as the block accelerator computes it, bit for bit (docs/block.md): a sequence
 * of the units' spec functions and the engine's scaled matmul, nothing else. The block is
 *
 *   x = normQuant(h, attn_norm)                      int8 + a scale per token
 *   y = qkv(x) → scaleOut → q | k | v                one fused matmul: rows q, then k, then v
 *   q, k = RoPE(q, k, position)
 *   KV cache ← quantize(k, v) at the token's position
 *   a = attention(q, cache[0..position])             per head, GQA, causal in a prefill
 *   x = normQuant(a, attn_sub_norm) or quantize(a)   BitNet's sub-norm, or bypass
 *   h = h + scaleOut(o(x))
 *   x = normQuant(h, ffn_norm)
 *   y = gateUp(x) → scaleOut                          one fused matmul: rows g0, u0, g1, u1, …
 *   x = normQuant(gate(g, u), ffn_sub_norm) or quantize(…)
 *   h = h + scaleOut(down(x))
 *
 * for `tokens` tokens at positions p .. p + tokens − 1 (decode: one token; prefill: a prompt, each
 * token attending to positions ≤ its own). Matmuls of a prefill run all tokens at once, which
 * gives each token the same bits as running it alone (the engine's rows are independent per token).
 *
 * Every non-matmul step is its unit's spec function (norm-quant, elementwise, rope, kv-cache,
 * attention); the matmuls are the engine's scaledMatmul with the fused matrices' fixed scales.
 */
/** The block's weights as the accelerator holds them: fused matmuls and the norms' vectors. */
export interface BlockWeights {
  /** q | k | v: hidden + 2·kvHeads·headDim rows of hidden columns. */
  readonly qkv: ScaledMatmul;
  readonly o: ScaledMatmul;
  /** gate | up interleaved: row 2i is gate row i, row 2i + 1 up row i (2·ffn rows). */
  readonly gateUp: ScaledMatmul;
  readonly down: ScaledMatmul;
  readonly attnNorm: NormWeights;
  readonly ffnNorm: NormWeights;
  /** BitNet's sub-norms (shape.subNorms). */
  readonly attnSubNorm?: NormWeights | undefined;
  readonly ffnSubNorm?: NormWeights | undefined;
}

/** Stacks row blocks of one width into one matrix with per-row scales (a fused matmul). */
export function stackRows(parts: readonly { m: TritMatrix; alpha: Float32Array }[]): ScaledMatmul {
  const k = parts[0]!.m.k;
  if (parts.some((p) => p.m.k !== k || p.alpha.length !== p.m.n)) throw new RangeError("fused rows: every part needs the same columns and a scale per row");
  const n = parts.reduce((s, p) => s + p.m.n, 0);
  const trits = new Int8Array(n * k);
  const alpha = new Float32Array(n);
  let row = 0;
  for (const p of parts) {
    trits.set(p.m.trits, row * k);
    alpha.set(p.alpha, row);
    row += p.m.n;
  }
  return { planes: [{ n, k, trits }], alpha: [alpha] };
}

/** Interleaves two matrices of one shape row by row (gate row i at 2i, up row i at 2i + 1). */
export function interleaveRows(a: { m: TritMatrix; alpha: Float32Array }, b: { m: TritMatrix; alpha: Float32Array }): ScaledMatmul {
  const { n, k } = a.m;
  if (b.m.n !== n || b.m.k !== k) throw new RangeError("interleaved rows: both matrices need one shape");
  const trits = new Int8Array(2 * n * k);
  const alpha = new Float32Array(2 * n);
  for (let r = 0; r < n; r++) {
    trits.set(a.m.trits.subarray(r * k, (r + 1) * k), 2 * r * k);
    trits.set(b.m.trits.subarray(r * k, (r + 1) * k), (2 * r + 1) * k);
    alpha[2 * r] = a.alpha[r]!;
    alpha[2 * r + 1] = b.alpha[r]!;
  }
  return { planes: [{ n: 2 * n, k, trits }], alpha: [alpha] };
}

/** The block's fixed-point scales, one per matmul (what the engine's scale words hold). */
export interface BlockFixedScales {
  readonly qkv: FixedScales;
  readonly o: FixedScales;
  readonly gateUp: FixedScales;
  readonly down: FixedScales;
}

export function blockFixedScales(w: BlockWeights): BlockFixedScales {
  return { qkv: fixScales(w.qkv), o: fixScales(w.o), gateUp: fixScales(w.gateUp), down: fixScales(w.down) };
}

/** Where the block's layer sits in the KV cache image. */
export interface BlockCache {
  readonly image: Uint8Array;
  readonly layout: KvLayout;
  /** Byte address of the layer's (kvHead 0, K) region. */
  readonly layerAddr: number;
}

/** What a block run produced besides the new residual stream: each step's vectors, for tests. */
export interface BlockTrace {
  readonly steps: { readonly name: string; readonly values: Int32Array | Int8Array }[];
}

/**
 * Runs the block on `tokens` residual vectors h (tokens × hidden A values) at positions
 * p .. p + tokens − 1; writes their K and V into `cache.image` (positions < p must hold the
 * earlier tokens') and returns the new residual stream.
 */
export function blockSpec(
  shape: BlockShape,
  w: BlockWeights,
  h: Int32Array,
  position: number,
  tokens: number,
  cache: BlockCache,
  trace?: BlockTrace,
): Int32Array {
  const { hidden, ffn, eps } = shape;
  if (h.length !== tokens * hidden) throw new RangeError(`block input of ${h.length} values: expected ${tokens} tokens of ${hidden}`);
  if (position + tokens > shape.maxContext) throw new RangeError(`positions ${position}..${position + tokens - 1} pass the context of ${shape.maxContext}`);
  const fixed = blockFixedScales(w);
  const note = (name: string, values: Int32Array | Int8Array): void => void trace?.steps.push({ name, values });

  /** normQuant over every token, then a matmul on the int8 vectors, then scale-out per token. */
  const linear = (x: Int32Array, d: number, norm: NormWeights | undefined, m: ScaledMatmul, f: FixedScales, name: string): Int32Array => {
    const q = new Int8Array(tokens * d);
    const scales: Scale[] = [];
    for (let t = 0; t < tokens; t++) {
      const r = normQuant(x.subarray(t * d, (t + 1) * d), norm, { d, eps });
      q.set(r.q, t * d);
      scales.push(r.scale);
    }
    note(`${name}.x`, q);
    const y = scaledMatmul(m, f, q, tokens);
    note(`${name}.y`, y);
    const n = m.planes[0]!.n;
    const out = new Int32Array(tokens * n);
    for (let t = 0; t < tokens; t++) out.set(scaleOut(y.subarray(t * n, (t + 1) * n), scales[t]!), t * n);
    note(`${name}.a`, out);
    return out;
  };

  // ---- attention
  const qkv = linear(h, hidden, w.attnNorm, w.qkv, fixed.qkv, "qkv");
  const attn = attentionSteps(shape, qkv, position, tokens, cache, note);
  note("attention", attn);
  const o = linear(attn, hidden, shape.subNorms ? w.attnSubNorm : undefined, w.o, fixed.o, "o");
  let hOut = residualAdd(h, o);
  note("h.attn", hOut);

  // ---- feed-forward
  const gu = linear(hOut, hidden, w.ffnNorm, w.gateUp, fixed.gateUp, "gateUp");
  const g = new Int32Array(tokens * ffn);
  const u = new Int32Array(tokens * ffn);
  for (let i = 0; i < tokens * ffn; i++) {
    g[i] = gu[2 * i]!;
    u[i] = gu[2 * i + 1]!;
  }
  const act = gate(g, u, shape.activation);
  note("gate", act);
  const down = linear(act, ffn, shape.subNorms ? w.ffnSubNorm : undefined, w.down, fixed.down, "down");
  hOut = residualAdd(hOut, down);
  note("h", hOut);
  return hOut;
}

/**
 * The attention half between the q|k|v matmul's scale-out and the o matmul's quantizer: per
 * token, RoPE on q and k at its position, its k and v into the cache, then attention of every
 * query head over positions 0..its own. qkv is tokens × (hidden + 2·kvHeads·headDim) A values;
 * returns tokens × hidden.
 */
export function attentionSteps(
  shape: BlockShape,
  qkv: Int32Array,
  position: number,
  tokens: number,
  cache: BlockCache,
  note: (name: string, values: Int32Array) => void = () => {},
): Int32Array {
  const { hidden, heads, kvHeads, headDim } = shape;
  const kvDim = kvHeads * headDim;
  const qkvWidth = hidden + 2 * kvDim;
  if (qkv.length !== tokens * qkvWidth) throw new RangeError(`q|k|v of ${qkv.length} values: expected ${tokens} tokens of ${qkvWidth}`);
  const attn = new Int32Array(tokens * hidden);
  // every token's k and v are in the cache before any token attends (the hardware's order; the
  // causal mask keeps a token from seeing later positions either way)
  const qs: Int32Array[] = [];
  for (let t = 0; t < tokens; t++) {
    const row = qkv.subarray(t * qkvWidth, (t + 1) * qkvWidth);
    const pos = position + t;
    const q = ropeSpec(row.subarray(0, hidden), heads, headDim, pos, shape.ropeTheta);
    const k = ropeSpec(row.subarray(hidden, hidden + kvDim), kvHeads, headDim, pos, shape.ropeTheta);
    note("q", q);
    note("k", k);
    writeToken(cache.image, cache.layout, cache.layerAddr, pos, [...k, ...row.subarray(hidden + kvDim)]);
    qs.push(q);
  }
  for (let t = 0; t < tokens; t++) {
    const L = position + t + 1;
    attn.set(attendToken(qs[t]!, heads, kvHeads, cacheView(cache, kvHeads, L), L), t * hidden);
  }
  return attn;
}

/** The cache rows positions 0..L−1 hold, per kv head, as the attention core reads them. */
export function cacheView(cache: BlockCache, kvHeads: number, L: number): KvCacheView {
  const rows = (kind: 0 | 1): AttnRow[][] =>
    Array.from({ length: kvHeads }, (_, kvh) =>
      Array.from({ length: L }, (_, u) => {
        const r = loadRow(cache.image, cache.layout, cache.layerAddr + (kvh * 2 + kind) * cache.layout.regionBytes, u);
        return { values: r.q, scale: r.scale };
      }),
    );
  return { k: rows(0), v: rows(1) };
}
