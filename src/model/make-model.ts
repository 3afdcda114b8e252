/**
 * Synthetic llama-style ternary models, laid out as llama.cpp would write them (same tensor names,
 * metadata keys and types), so every later stage can be exercised at any size without downloading
 * a checkpoint. Tensors are generated row chunk by row chunk while being written.
 */
import { statSync } from "node:fs";
import { UserError } from "../util/errors.js";
import { Rng } from "../util/random.js";
import { gv, type GgufTypedValue } from "./gguf-value.js";
import { writeGguf, type GgufWriteTensor, type TernaryData } from "./gguf-writer.js";
import { roundToFp16 } from "./half.js";
import { TQ_BLOCK_WEIGHTS } from "./tq-codec.js";

export type TernaryGgufFormat = "tq2_0" | "tq1_0" | "i2_s";
/** llama: SiLU-gated, separate LM head. bitnet-b1.58: bitnet.cpp's layout for BitNet b1.58 2B-4T (ReLU², sub-norms, tied embeddings). */
export type SyntheticArchitecture = "llama" | "bitnet-b1.58";

export interface MakeLlamaOptions {
  readonly path: string;
  readonly format: TernaryGgufFormat;
  /** Default llama. I2_S requires bitnet-b1.58. */
  readonly architecture?: SyntheticArchitecture;
  readonly hidden: number;
  readonly ffn: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocab: number;
  readonly seed?: number;
  /** Probability of a 0 trit; ±1 share the rest equally. Default 1/3. */
  readonly zeroFraction?: number;
  readonly contextLength?: number;
  readonly name?: string;
}

export interface MakeLlamaResult {
  readonly path: string;
  readonly tensorCount: number;
  readonly ternaryWeights: number;
  readonly fileBytes: number;
}

/** llama.cpp's llama_ftype values for files whose linear weights are all TQ1_0 / TQ2_0 (I2_S files omit the key). */
const FILE_TYPE: Readonly<Record<TernaryGgufFormat, number | undefined>> = { tq1_0: 36, tq2_0: 37, i2_s: undefined };
const GGML_TYPE: Readonly<Record<TernaryGgufFormat, "TQ1_0" | "TQ2_0" | "I2_S">> = { tq1_0: "TQ1_0", tq2_0: "TQ2_0", i2_s: "I2_S" };
/** Weights per block of each format: hidden and ffn must be multiples (rows hold whole blocks). */
const FORMAT_BLOCK: Readonly<Record<TernaryGgufFormat, number>> = { tq1_0: TQ_BLOCK_WEIGHTS, tq2_0: TQ_BLOCK_WEIGHTS, i2_s: 128 };

export function makeLlamaModel(opts: MakeLlamaOptions): MakeLlamaResult {
  validate(opts);
  const { hidden, ffn, layers, heads, kvHeads, vocab, format } = opts;
  const headDim = hidden / heads;
  const kvDim = kvHeads * headDim;
  const zeroFraction = opts.zeroFraction ?? 1 / 3;
  const rng = new Rng(opts.seed ?? 1);
  const type = GGML_TYPE[format];
  const arch = opts.architecture ?? "llama";
  const bitnet = arch === "bitnet-b1.58";
  const fileType = FILE_TYPE[format];

  // bitnet.cpp states no activation key: "bitnet-b1.58" itself implies ReLU² and sub-norms.
  const metadata: Array<readonly [string, GgufTypedValue]> = [
    ["general.architecture", gv.str(arch)],
    ["general.name", gv.str(opts.name ?? `trilut-synthetic-${arch}-${format}`)],
    ...(fileType !== undefined ? [["general.file_type", gv.u32(fileType)] as const] : []),
    ["general.quantization_version", gv.u32(2)],
    ["general.alignment", gv.u32(32)],
    [`${arch}.block_count`, gv.u32(layers)],
    [`${arch}.context_length`, gv.u32(opts.contextLength ?? 4096)],
    [`${arch}.embedding_length`, gv.u32(hidden)],
    [`${arch}.feed_forward_length`, gv.u32(ffn)],
    [`${arch}.attention.head_count`, gv.u32(heads)],
    [`${arch}.attention.head_count_kv`, gv.u32(kvHeads)],
    [`${arch}.rope.dimension_count`, gv.u32(headDim)],
    [`${arch}.rope.freq_base`, gv.f32(bitnet ? 500000 : 10000)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(1e-5)],
    [`${arch}.vocab_size`, gv.u32(vocab)],
  ];

  const floats = (rows: number, cols: number, name: string, center: number, spread: number): GgufWriteTensor => ({
    name,
    type: name.endsWith("norm.weight") ? "F32" : "F16",
    shape: rows === 1 ? [cols] : [rows, cols],
    data: (_first, count) => {
      const out = new Float32Array(count * cols);
      for (let i = 0; i < out.length; i++) out[i] = center + spread * (rng.float() - 0.5);
      return out;
    },
  });
  const ternary = (n: number, k: number, name: string): GgufWriteTensor => {
    // One scale per tensor as in a converted BitNet model; fp16-exact so readers see it unchanged.
    const scale = roundToFp16(0.25 + 2.75 * rng.float());
    return { name, type, shape: [n, k], data: (_first, count) => randomTrits(rng, count * k, zeroFraction, scale) };
  };

  const tensors: GgufWriteTensor[] = [floats(vocab, hidden, "token_embd.weight", 0, 0.2)];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      floats(1, hidden, `${p}attn_norm.weight`, 1, 0.2),
      floats(1, hidden, `${p}ffn_norm.weight`, 1, 0.2),
      ternary(hidden, hidden, `${p}attn_q.weight`),
      ternary(kvDim, hidden, `${p}attn_k.weight`),
      ternary(kvDim, hidden, `${p}attn_v.weight`),
      ternary(hidden, hidden, `${p}attn_output.weight`),
      ternary(ffn, hidden, `${p}ffn_gate.weight`),
      ternary(ffn, hidden, `${p}ffn_up.weight`),
      ternary(hidden, ffn, `${p}ffn_down.weight`),
    );
    if (bitnet) tensors.push(floats(1, hidden, `${p}attn_sub_norm.weight`, 1, 0.2), floats(1, ffn, `${p}ffn_sub_norm.weight`, 1, 0.2));
  }
  tensors.push(floats(1, hidden, "output_norm.weight", 1, 0.2));
  // BitNet b1.58 ties the LM head to the embedding, as bitnet.cpp's converted 2B-4T has no output.weight.
  if (!bitnet) tensors.push(floats(vocab, hidden, "output.weight", 0, 0.2));

  writeGguf(opts.path, { metadata, tensors });
  const ternaryWeights = layers * (2 * hidden * hidden + 2 * kvDim * hidden + 3 * ffn * hidden);
  return { path: opts.path, tensorCount: tensors.length, ternaryWeights, fileBytes: statSync(opts.path).size };
}

function randomTrits(rng: Rng, count: number, zeroFraction: number, scale: number): TernaryData {
  const trits = new Int8Array(count);
  // Two trits per 32-bit draw (the generator is the bottleneck): each 16-bit half gives 15 bits
  // compared against the zero threshold (P(0) resolution 2^-15) and a sign bit.
  const zeroBelow = Math.round(zeroFraction * 32768);
  const trit = (h: number): number => ((h & 0x7fff) < zeroBelow ? 0 : h & 0x8000 ? 1 : -1);
  let i = 0;
  for (; i + 1 < count; i += 2) {
    const u = rng.u32();
    trits[i] = trit(u);
    trits[i + 1] = trit(u >>> 16);
  }
  if (i < count) trits[i] = trit(rng.u32());
  return { trits, scales: scale };
}

function validate(o: MakeLlamaOptions): void {
  if (o.format !== "tq2_0" && o.format !== "tq1_0" && o.format !== "i2_s") {
    throw new UserError(`unknown model format ${JSON.stringify(o.format)}, expected tq2_0, tq1_0 or i2_s`);
  }
  const arch = o.architecture ?? "llama";
  if (arch !== "llama" && arch !== "bitnet-b1.58") {
    throw new UserError(`unknown architecture ${JSON.stringify(arch)}, expected llama or bitnet-b1.58`);
  }
  if (o.format === "i2_s" && arch !== "bitnet-b1.58") {
    throw new UserError(`format i2_s is bitnet.cpp's and needs a bitnet architecture (--arch bitnet-b1.58), not ${arch}`);
  }
  for (const key of ["hidden", "ffn", "layers", "heads", "kvHeads", "vocab"] as const) {
    const v = o[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new UserError(`${key} must be a positive integer, got ${v}`);
  }
  if (o.hidden % o.heads !== 0) throw new UserError(`hidden (${o.hidden}) must be divisible by heads (${o.heads})`);
  if (o.heads % o.kvHeads !== 0) throw new UserError(`heads (${o.heads}) must be divisible by kvHeads (${o.kvHeads})`);
  for (const key of ["hidden", "ffn"] as const) {
    const block = FORMAT_BLOCK[o.format];
    if (o[key] % block !== 0) {
      const why = `its blocks hold ${block} weights of one row`;
      throw new UserError(`${key} (${o[key]}) must be a multiple of ${block} for ${o.format} (${why})`);
    }
  }
  const z = o.zeroFraction;
  if (z !== undefined && !(z >= 0 && z <= 1)) throw new UserError(`zeroFraction must be between 0 and 1, got ${z}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new UserError(`seed must be an integer, got ${o.seed}`);
  if (o.contextLength !== undefined && (!Number.isSafeInteger(o.contextLength) || o.contextLength < 1)) {
    throw new UserError(`contextLength must be a positive integer, got ${o.contextLength}`);
  }
}
