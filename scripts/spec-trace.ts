/**
 * Diagnostic: one decoder layer in the number spec (blockSpec) beside the same layer in float64
 * (a step-by-step copy of src/ref/host.ts's block, checked against runHostModel), step by step.
 * For each step it prints the spec's error against float64 twice: carried (the spec's own
 * inputs, i.e. every earlier difference included) and local (the spec step fed the float64
 * step's input, i.e. that unit's own error). Run: `node dist/scripts/spec-trace.js`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeArchitecture, type ModelArchitecture } from "../src/model/architecture.js";
import { makeLlamaModel } from "../src/model/make-model.js";
import { withModel } from "../src/model/open.js";
import { type ModelReader } from "../src/model/reader.js";
import { decoderTensorNames } from "../src/model/tensor-names.js";
import { fixScales, OUT_FRAC_BITS, scaledMatmul, tensorScales } from "../src/engine/scales.js";
import { modelWorkload } from "../src/model/workload.js";
import { specError } from "../src/ref/spec-error.js";
import { quantizeActivations } from "../src/ref/activations.js";
import { runHostModel } from "../src/ref/host.js";
import { attentionSteps, blockSpec, type BlockTrace } from "../src/ref/spec/block.js";
import { gate } from "../src/ref/spec/elementwise.js";
import { fromA, scaleValue, toA } from "../src/ref/spec/fixed.js";
import { blockInputsFromModel, embeddingRowsA, layerCache, modelKvCache, runSpecModel } from "../src/ref/spec/model.js";
import { normQuant } from "../src/ref/spec/norm-quant.js";
import { dequantizeKv, quantizeKv } from "../src/ref/spec/kv-cache.js";
import { ropeSpec } from "../src/ref/spec/rope.js";

const TOKENS = process.env.TOKENS ? process.env.TOKENS.split(",").map(Number) : [1, 5, 9, 3, 14, 15, 9, 2];

function rmsNorm(x: Float64Array, w: Float32Array, T: number, eps: number): Float64Array {
  const d = w.length;
  const out = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[t * d + j]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) out[t * d + j] = x[t * d + j]! * inv * w[j]!;
  }
  return out;
}
function rope(x: Float64Array, T: number, heads: number, hd: number, theta: number): Float64Array {
  const y = Float64Array.from(x);
  const half = hd / 2;
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < half; i++) {
        const ang = t * theta ** ((-2 * i) / hd);
        const b0 = (t * heads + h) * hd;
        const [a, b] = [x[b0 + i]!, x[b0 + i + half]!];
        y[b0 + i] = a * Math.cos(ang) - b * Math.sin(ang);
        y[b0 + i + half] = a * Math.sin(ang) + b * Math.cos(ang);
      }
  return y;
}

/** Per-token relative error max|spec − f| / max|f|: [max over tokens, token 0, mean]. */
function rel(spec: ArrayLike<number>, f: Float64Array, d: number, isA = true): string {
  const T = f.length / d;
  const errs: number[] = [];
  for (let t = 0; t < T; t++) {
    let e = 0;
    let m = 0;
    for (let j = 0; j < d; j++) {
      const s = isA ? fromA(spec[t * d + j]!) : spec[t * d + j]!;
      e = Math.max(e, Math.abs(s - f[t * d + j]!));
      m = Math.max(m, Math.abs(f[t * d + j]!));
    }
    errs.push(m > 0 ? e / m : e);
  }
  const p = (v: number): string => `${(100 * v).toFixed(3)}%`.padStart(9);
  return `max ${p(Math.max(...errs))}  tok0 ${p(errs[0]!)}  mean ${p(errs.reduce((a, b) => a + b, 0) / T)}  per-token [${errs.map((e) => (100 * e).toFixed(2)).join(" ")}]`;
}
function int8Diff(a: Int8Array, b: Int8Array): string {
  let n = 0;
  let mx = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) (n++, (mx = Math.max(mx, Math.abs(a[i]! - b[i]!))));
  return `${n}/${a.length} int8 differ, max |Δ| ${mx}`;
}

function traceLayer(model: ModelReader, arch: ModelArchitecture): void {
  const { hidden, ffn, heads, kvHeads, headDim } = arch.dimensions;
  const names = decoderTensorNames(arch.source);
  const T = TOKENS.length;
  const kvDim = kvHeads * headDim;
  const { shape, weights } = blockInputsFromModel(model, arch, 0, T);
  const eps = shape.eps;
  const theta = shape.ropeTheta;
  const read = (role: string): ReturnType<typeof tensorScales> => {
    const n = { q: "attn_q", k: "attn_k", v: "attn_v", o: "attn_output", gate: "ffn_gate", up: "ffn_up", down: "ffn_down" }[role]!;
    const hfName = { q: "self_attn.q_proj", k: "self_attn.k_proj", v: "self_attn.v_proj", o: "self_attn.o_proj", gate: "mlp.gate_proj", up: "mlp.up_proj", down: "mlp.down_proj" }[role]!;
    const name = arch.source === "hf" ? `model.layers.0.${hfName}.weight` : `blk.0.${n}.weight`;
    return tensorScales(model.readTernary(name));
  };
  const fmat = (role: string, x: Float64Array, k: number): { out: Float64Array; q: Int8Array; s: Float64Array } => {
    const m = read(role);
    const { q, scale } = quantizeActivations(x, T, k);
    const y = scaledMatmul(m, fixScales(m), q, T);
    const n = m.planes[0]!.n;
    const out = new Float64Array(T * n);
    for (let t = 0; t < T; t++) for (let r = 0; r < n; r++) out[t * n + r] = (y[t * n + r]! / 2 ** OUT_FRAC_BITS) * scale[t]!;
    return { out, q, s: scale };
  };

  // ---- float64, one layer
  const embed = model.readFloat(names.embed);
  const h0 = new Float64Array(T * hidden);
  TOKENS.forEach((id, t) => h0.set(embed.subarray(id * hidden, (id + 1) * hidden), t * hidden));
  const an = rmsNorm(h0, model.readFloat(names.attnNorm(0)), T, eps);
  const fq = fmat("q", an, hidden);
  const fk = fmat("k", an, hidden);
  const fv = fmat("v", an, hidden);
  const qr = rope(fq.out, T, heads, headDim, theta);
  const kr = rope(fk.out, T, kvHeads, headDim, theta);
  let att: Float64Array = new Float64Array(T * hidden);
  const group = heads / kvHeads;
  for (let t = 0; t < T; t++)
    for (let hd = 0; hd < heads; hd++) {
      const kvh = Math.floor(hd / group);
      const sc: number[] = [];
      for (let u = 0; u <= t; u++) {
        let dot = 0;
        for (let i = 0; i < headDim; i++) dot += qr[(t * heads + hd) * headDim + i]! * kr[u * kvDim + kvh * headDim + i]!;
        sc.push(dot / Math.sqrt(headDim));
      }
      const mx = Math.max(...sc);
      const p = sc.map((s) => Math.exp(s - mx));
      const sum = p.reduce((a, b) => a + b, 0);
      for (let i = 0; i < headDim; i++) {
        let acc = 0;
        for (let u = 0; u <= t; u++) acc += p[u]! * fv.out[u * kvDim + kvh * headDim + i]!;
        att[(t * heads + hd) * headDim + i] = acc / sum;
      }
    }
  const attRaw = att;
  if (arch.subNorms) att = rmsNorm(att, model.readFloat(names.attnSubNorm(0)), T, eps);
  const fo = fmat("o", att, hidden);
  const h1 = h0.map((x, i) => x + fo.out[i]!);
  const fn = rmsNorm(h1, model.readFloat(names.ffnNorm(0)), T, eps);
  const fg = fmat("gate", fn, hidden);
  const fu = fmat("up", fn, hidden);
  let act: Float64Array = new Float64Array(T * ffn);
  for (let i = 0; i < act.length; i++) {
    const g = fg.out[i]!;
    act[i] = (arch.activation === "relu2" ? Math.max(0, g) ** 2 : g / (1 + Math.exp(-g))) * fu.out[i]!;
  }
  const actRaw = act;
  if (arch.subNorms) act = rmsNorm(act, model.readFloat(names.ffnSubNorm(0)), T, eps);
  const fd = fmat("down", act, ffn);
  const h2 = h1.map((x, i) => x + fd.out[i]!);
  const host = runHostModel(model, arch, { tokens: TOKENS, record: [0] });
  const same = host.hidden.every((v, i) => v === h2[i]);
  console.log(`float64 copy of the layer == runHostModel: ${same}`);

  // ---- spec, one layer, traced
  const trace: BlockTrace = { steps: [] };
  const hA = embeddingRowsA(model, arch, TOKENS);
  const cache = modelKvCache(shape, 1);
  blockSpec(shape, weights, hA, 0, T, layerCache(cache, 0), trace);
  const step = (name: string, i = 0): Int32Array | Int8Array => trace.steps.filter((s) => s.name === name)[i]!.values;
  const cat = (name: string): Int32Array => {
    const parts = trace.steps.filter((s) => s.name === name).map((s) => s.values as Int32Array);
    const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) (out.set(p, o), (o += p.length));
    return out;
  };
  const cols = (x: ArrayLike<number>, width: number, from: number, n: number): Int32Array => {
    const out = new Int32Array(T * n);
    for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) out[t * n + j] = x[t * width + from + j]!;
    return out;
  };
  const colsF = (x: Float64Array, width: number, from: number, n: number): Float64Array => {
    const out = new Float64Array(T * n);
    for (let t = 0; t < T; t++) for (let j = 0; j < n; j++) out[t * n + j] = x[t * width + from + j]!;
    return out;
  };
  const scalesOf = (x: Int32Array, d: number, norm: Parameters<typeof normQuant>[1]): number[] =>
    Array.from({ length: T }, (_, t) => scaleValue(normQuant(x.subarray(t * d, (t + 1) * d), norm, { d, eps }).scale));
  const sRel = (a: number[], b: Float64Array): string => a.map((v, t) => (100 * (v / b[t]! - 1)).toFixed(3)).join(" ");
  const A = (f: Float64Array): Int32Array => Int32Array.from(f, (v) => toA(v));
  const W = hidden + 2 * kvDim;

  console.log("-- carried (spec on its own inputs) vs float64 -- per-token error max|Δ|/max|f|");
  console.log(`attn norm+quant x : ${int8Diff(step("qkv.x") as Int8Array, fq.q)}; scale rel % [${sRel(scalesOf(hA, hidden, weights.attnNorm), fq.s)}]`);
  const qkvA = step("qkv.a");
  console.log(`q (scale-out)     : ${rel(cols(qkvA, W, 0, hidden), fq.out, hidden)}`);
  console.log(`k (scale-out)     : ${rel(cols(qkvA, W, hidden, kvDim), fk.out, kvDim)}`);
  console.log(`v (scale-out)     : ${rel(cols(qkvA, W, hidden + kvDim, kvDim), fv.out, kvDim)}`);
  console.log(`q after RoPE      : ${rel(cat("q"), qr, hidden)}`);
  console.log(`k after RoPE      : ${rel(cat("k"), kr, kvDim)}`);
  const attS = step("attention");
  for (let hd = 0; hd < heads; hd++) console.log(`attention head ${hd}  : ${rel(cols(attS, hidden, hd * headDim, headDim), colsF(attRaw, hidden, hd * headDim, headDim), headDim)}`);
  console.log(`o quant x         : ${int8Diff(step("o.x") as Int8Array, fo.q)}; scale rel % [${sRel(scalesOf(attS as Int32Array, hidden, arch.subNorms ? weights.attnSubNorm : undefined), fo.s)}]`);
  console.log(`o (scale-out)     : ${rel(step("o.a"), fo.out, hidden)}`);
  console.log(`h after attention : ${rel(step("h.attn"), h1, hidden)}`);
  console.log(`ffn norm x        : ${int8Diff(step("gateUp.x") as Int8Array, fg.q)}; scale rel % [${sRel(scalesOf(step("h.attn") as Int32Array, hidden, weights.ffnNorm), fg.s)}]`);
  const gu = step("gateUp.a");
  const gS = Int32Array.from({ length: T * ffn }, (_, i) => gu[2 * i]!);
  const uS = Int32Array.from({ length: T * ffn }, (_, i) => gu[2 * i + 1]!);
  console.log(`gate (scale-out)  : ${rel(gS, fg.out, ffn)}`);
  console.log(`up (scale-out)    : ${rel(uS, fu.out, ffn)}`);
  console.log(`gated product     : ${rel(step("gate"), actRaw, ffn)}`);
  console.log(`down quant x      : ${int8Diff(step("down.x") as Int8Array, fd.q)}`);
  console.log(`down (scale-out)  : ${rel(step("down.a"), fd.out, hidden)}`);
  console.log(`h after layer     : ${rel(step("h"), h2, hidden)}`);

  console.log("-- local (spec step fed float64's input, converted to A) vs float64");
  const nq = (x: Float64Array, d: number, norm: Parameters<typeof normQuant>[1]): Int8Array => {
    const xa = A(x);
    const q = new Int8Array(T * d);
    for (let t = 0; t < T; t++) q.set(normQuant(xa.subarray(t * d, (t + 1) * d), norm, { d, eps }).q, t * d);
    return q;
  };
  console.log(`attn norm+quant   : ${int8Diff(nq(h0, hidden, weights.attnNorm), fq.q)}`);
  const qRot = new Int32Array(T * hidden);
  const kRot = new Int32Array(T * kvDim);
  for (let t = 0; t < T; t++) {
    qRot.set(ropeSpec(A(fq.out.subarray(t * hidden, (t + 1) * hidden)), heads, headDim, t, theta), t * hidden);
    kRot.set(ropeSpec(A(fk.out.subarray(t * kvDim, (t + 1) * kvDim)), kvHeads, headDim, t, theta), t * kvDim);
  }
  console.log(`RoPE q            : ${rel(qRot, qr, hidden)}`);
  console.log(`RoPE k            : ${rel(kRot, kr, kvDim)}`);
  const qkvF = new Int32Array(T * W);
  for (let t = 0; t < T; t++) {
    qkvF.set(A(fq.out.subarray(t * hidden, (t + 1) * hidden)), t * W);
    qkvF.set(A(fk.out.subarray(t * kvDim, (t + 1) * kvDim)), t * W + hidden);
    qkvF.set(A(fv.out.subarray(t * kvDim, (t + 1) * kvDim)), t * W + hidden + kvDim);
  }
  const attL = attentionSteps(shape, qkvF, 0, T, layerCache(modelKvCache(shape, 1), 0));
  for (let hd = 0; hd < heads; hd++) console.log(`RoPE+KV+attn h${hd}  : ${rel(cols(attL, hidden, hd * headDim, headDim), colsF(attRaw, hidden, hd * headDim, headDim), headDim)}`);
  // float64 attention over the KV cache's own int8 rows: what is left is the attention core's error
  const deq = (x: Float64Array, t: number, kvh: number, rot: boolean): number[] => {
    const row = Array.from(x.subarray(t * kvDim + kvh * headDim, t * kvDim + (kvh + 1) * headDim), (v) => toA(v));
    const r = rot ? Array.from(ropeSpec(Int32Array.from(A(fk.out.subarray(t * kvDim, (t + 1) * kvDim))), kvHeads, headDim, t, theta).subarray(kvh * headDim, (kvh + 1) * headDim)) : row;
    return dequantizeKv(quantizeKv(r));
  };
  const attQ = new Float64Array(T * hidden);
  let maxSpread = 0;
  for (let t = 0; t < T; t++)
    for (let hd = 0; hd < heads; hd++) {
      const kvh = Math.floor(hd / group);
      const q = Array.from(qRot.subarray((t * heads + hd) * headDim, (t * heads + hd + 1) * headDim), fromA);
      const ks = Array.from({ length: t + 1 }, (_, u) => deq(kr, u, kvh, true));
      const vs = Array.from({ length: t + 1 }, (_, u) => deq(fv.out, u, kvh, false));
      const sc = ks.map((k) => k.reduce((a, kv, i) => a + kv * q[i]!, 0) / Math.sqrt(headDim));
      const mx = Math.max(...sc);
      maxSpread = Math.max(maxSpread, mx - Math.min(...sc));
      const p = sc.map((x) => Math.exp(x - mx));
      const sum = p.reduce((a, b) => a + b, 0);
      for (let i = 0; i < headDim; i++) attQ[(t * heads + hd) * headDim + i] = p.reduce((a, pu, u) => a + pu * vs[u]![i]!, 0) / sum;
    }
  for (let hd = 0; hd < heads; hd++) console.log(`attn core h${hd}     : ${rel(cols(attL, hidden, hd * headDim, headDim), colsF(attQ, hidden, hd * headDim, headDim), headDim)} (vs float64 over int8 KV)`);
  for (let hd = 0; hd < heads; hd++) console.log(`int8 KV alone h${hd} : ${rel(colsF(attQ, hidden, hd * headDim, headDim), colsF(attRaw, hidden, hd * headDim, headDim), headDim, false)} (float64 over int8 KV vs float64)`);
  console.log(`largest score spread max−min over a head's row: ${maxSpread.toFixed(1)} nats`);
  console.log(`o quant (sub-norm): ${int8Diff(nq(attRaw, hidden, arch.subNorms ? weights.attnSubNorm : undefined), fo.q)}`);
  console.log(`ffn norm+quant    : ${int8Diff(nq(h1, hidden, weights.ffnNorm), fg.q)}`);
  const big = (x: Float64Array): string => `max ${Math.max(...x.map(Math.abs)).toFixed(1)}, ${x.filter((v) => Math.abs(v) >= 32768).length} ≥ 32768`;
  console.log(`float64 g: ${big(fg.out)}; gated product: ${big(actRaw)}; ReLU² saturates from g ≥ 181.02`);
  console.log(`gate unit         : ${rel(gate(A(fg.out), A(fu.out), shape.activation), actRaw, ffn)}`);
  console.log(`down quant        : ${int8Diff(nq(actRaw, ffn, arch.subNorms ? weights.ffnSubNorm : undefined), fd.q)}`);
}

if (!process.env.SENS) {
const work = mkdtempSync(join(tmpdir(), "trilut-trace-"));
try {
  const dims = { hidden: 256, ffn: 512, layers: 1, heads: 4, kvHeads: 2, vocab: 64, seed: Number(process.env.SEED ?? 3) };
  const zf = process.env.ZF ? { zeroFraction: Number(process.env.ZF) } : {};
  const models: [string, string, Parameters<typeof makeLlamaModel>[0]][] = [
    ["bitnet-b1.58 HF", join(work, "bitnet"), { path: join(work, "bitnet"), format: "hf-bitnet", architecture: "bitnet-b1.58", ...dims, ...zf }],
    ["llama TQ2_0", join(work, "llama.gguf"), { path: join(work, "llama.gguf"), format: "tq2_0", ...dims, ...zf }],
  ];
  for (const [name, path, opts] of models) {
    makeLlamaModel(opts);
    console.log(`\n==== ${name}, one layer, seed ${dims.seed}${zf.zeroFraction ? `, zeroFraction ${zf.zeroFraction}` : ""}, tokens ${TOKENS.join(",")}`);
    withModel(path, (m) => traceLayer(m, describeArchitecture(m)));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
}

/**
 * The float64 model (host.ts's pass, all layers, one causal prefill) with the two format limits
 * of the spec switched on or off: K (after RoPE) and V through the KV cache's int8 rows, and the
 * gated product clamped to A's range. Shows how far the float model itself moves under them.
 */
let gateOverflow = 0;
function floatModel(model: ModelReader, arch: ModelArchitecture, ids: readonly number[], o: { kvInt8: boolean; clampGate: boolean }): Float64Array {
  const { hidden, ffn, heads, kvHeads, headDim, layers } = arch.dimensions;
  const names = decoderTensorNames(arch.source);
  const T = ids.length;
  const kvDim = kvHeads * headDim;
  const { shape } = blockInputsFromModel(model, arch, 0, T);
  const embed = model.readFloat(names.embed);
  let h: Float64Array = new Float64Array(T * hidden);
  ids.forEach((id, t) => h.set(embed.subarray(id * hidden, (id + 1) * hidden), t * hidden));
  const w = new Map(workloadNames(model, arch).map((x) => [x.key, x.name]));
  const mm = (l: number, role: string, x: Float64Array, k: number): Float64Array => {
    const m = tensorScales(model.readTernary(w.get(`${l}.${role}`)!));
    const { q, scale } = quantizeActivations(x, T, k);
    const y = scaledMatmul(m, fixScales(m), q, T);
    const n = m.planes[0]!.n;
    return Float64Array.from({ length: T * n }, (_, i) => (y[i]! / 2 ** OUT_FRAC_BITS) * scale[Math.floor(i / n)]!);
  };
  const kvRound = (x: Float64Array): Float64Array => {
    if (!o.kvInt8) return x;
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / headDim; r++) out.set(dequantizeKv(quantizeKv(Array.from(x.subarray(r * headDim, (r + 1) * headDim), (v) => toA(v)))), r * headDim);
    return out;
  };
  const group = heads / kvHeads;
  gateOverflow = 0;
  for (let l = 0; l < layers; l++) {
    const a = rmsNorm(h, model.readFloat(names.attnNorm(l)), T, shape.eps);
    const q = rope(mm(l, "q", a, hidden), T, heads, headDim, shape.ropeTheta);
    const k = kvRound(rope(mm(l, "k", a, hidden), T, kvHeads, headDim, shape.ropeTheta));
    const v = kvRound(mm(l, "v", a, hidden));
    let att: Float64Array = new Float64Array(T * hidden);
    for (let t = 0; t < T; t++)
      for (let hd = 0; hd < heads; hd++) {
        const kvh = Math.floor(hd / group);
        const sc = Array.from({ length: t + 1 }, (_, u) => {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += q[(t * heads + hd) * headDim + i]! * k[u * kvDim + kvh * headDim + i]!;
          return dot / Math.sqrt(headDim);
        });
        const mx = Math.max(...sc);
        const p = sc.map((s) => Math.exp(s - mx));
        const sum = p.reduce((x, y) => x + y, 0);
        for (let i = 0; i < headDim; i++) att[(t * heads + hd) * headDim + i] = p.reduce((acc, pu, u) => acc + pu * v[u * kvDim + kvh * headDim + i]!, 0) / sum;
      }
    if (arch.subNorms) att = rmsNorm(att, model.readFloat(names.attnSubNorm(l)), T, shape.eps);
    const oo = mm(l, "o", att, hidden);
    h = h.map((x, i) => x + oo[i]!);
    const f = rmsNorm(h, model.readFloat(names.ffnNorm(l)), T, shape.eps);
    const g = mm(l, "gate", f, hidden);
    const u = mm(l, "up", f, hidden);
    let act: Float64Array = g.map((gi, i) => (arch.activation === "relu2" ? Math.max(0, gi) ** 2 : gi / (1 + Math.exp(-gi))) * u[i]!);
    gateOverflow += act.filter((x) => Math.abs(x) >= 32768).length;
    if (o.clampGate) act = act.map((x) => Math.max(-32768, Math.min(32768, x)));
    if (arch.subNorms) act = rmsNorm(act, model.readFloat(names.ffnSubNorm(l)), T, shape.eps);
    const d = mm(l, "down", act, ffn);
    h = h.map((x, i) => x + d[i]!);
  }
  return h;
}

function workloadNames(model: ModelReader, arch: ModelArchitecture): { key: string; name: string }[] {
  return modelWorkload(arch, model.listTensors(), { contextLength: 1 }).matmuls.filter((m) => m.layer !== undefined).map((m) => ({ key: `${m.layer}.${m.role}`, name: m.name }));
}

/** The whole-model figures of bench/spec-accuracy.ts, with the float model perturbed by the spec's format limits. */
export function sensitivity(model: ModelReader, arch: ModelArchitecture): void {
  const ids = [1, 5, 9, 3, 14, 15, 9, 2, 6, 5, 3, 5];
  const d = arch.dimensions.hidden;
  const spec = runSpecModel(model, arch, { tokens: ids.slice(0, 8), decode: ids.slice(8) }).hidden;
  const fKv = floatModel(model, arch, ids, { kvInt8: true, clampGate: false });
  const fBoth = floatModel(model, arch, ids, { kvInt8: true, clampGate: true });
  const f = floatModel(model, arch, ids, { kvInt8: false, clampGate: false });
  console.log(`float64 gated products outside A's ±32768 (all layers, ${ids.length} positions): ${gateOverflow}`);
  const fmt = (e: ReturnType<typeof specError>): string => `max ${(100 * e.maxRel).toFixed(2)}%, mean ${(100 * e.meanRel).toFixed(3)}%`;
  const asA = (x: Float64Array): Int32Array => Int32Array.from(x, (v) => toA(v));
  const perTok = (a: Int32Array, b: Float64Array): string => ids.map((_, t) => (100 * specError(a.subarray(t * d, (t + 1) * d), b.subarray(t * d, (t + 1) * d), d).maxRel).toFixed(1)).join(" ");
  console.log(`spec           vs float64                  : ${fmt(specError(spec, f, d))}  per position [${perTok(spec, f)}]`);
  console.log(`float64+int8KV vs float64                  : ${fmt(specError(asA(fKv), f, d))}  per position [${perTok(asA(fKv), f)}]`);
  console.log(`float64+int8KV+gate clamp vs float64       : ${fmt(specError(asA(fBoth), f, d))}`);
  console.log(`spec           vs float64+int8KV+gate clamp: ${fmt(specError(spec, fBoth, d))}  per position [${perTok(spec, fBoth)}]`);
}

if (process.env.SENS) {
  const dir = mkdtempSync(join(tmpdir(), "trilut-sens-"));
  try {
    const dims = { hidden: 256, ffn: 512, layers: 2, heads: 4, kvHeads: 2, vocab: 64 };
    for (const [seed, zf] of [[3, 1 / 3], [5, 0.9]] as const)
      for (const [name, fmt] of [["llama TQ2_0", "tq2_0"], ["bitnet-b1.58 HF", "hf-bitnet"]] as const) {
        const path = join(dir, `${fmt}-${seed}${fmt === "tq2_0" ? ".gguf" : ""}`);
        makeLlamaModel({ path, format: fmt, ...(fmt === "hf-bitnet" ? { architecture: "bitnet-b1.58" } : {}), ...dims, seed, zeroFraction: zf });
        console.log(`\n==== ${name}, 2 layers, seed ${seed}, zeroFraction ${zf.toFixed(2)}: 8-token prefill + 4 decode`);
        withModel(path, (m) => sensitivity(m, describeArchitecture(m)));
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
