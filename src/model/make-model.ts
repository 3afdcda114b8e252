/**
 * Synthetic llama-style ternary models, laid out as llama.cpp would write them (same tensor names,
 * metadata keys and types), so every later stage can be exercised at any size without downloading
 * a checkpoint. GGUF tensors are generated row chunk by row chunk while being written. The same
 * model can also be written as a Hugging Face BitNet checkpoint directory (hf-bitnet): for the
 * same seed and dimensions it holds the same trits, scales and float values as the GGUF files.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../util/errors.js";
import { Rng } from "../util/random.js";
import { gv, type GgufTypedValue } from "./gguf-value.js";
import { writeGguf, type GgufWriteTensor, type TernaryData } from "./gguf-writer.js";
import { roundToFp16 } from "./half.js";
import { HF_CONFIG } from "./hf-bitnet.js";
import { writeHfBitnet, type HfWriteTensor } from "./hf-writer.js";
import { TQ_BLOCK_WEIGHTS } from "./tq-codec.js";

export type TernaryGgufFormat = "tq2_0" | "tq1_0" | "i2_s";
/** A GGUF file, or (hf-bitnet) a Hugging Face checkpoint directory in microsoft/bitnet-b1.58-2B-4T's layout. */
export type SyntheticFormat = TernaryGgufFormat | "hf-bitnet";
/** llama: SiLU-gated, separate LM head. bitnet-b1.58: bitnet.cpp's layout for BitNet b1.58 2B-4T (ReLU², sub-norms, tied embeddings). */
export type SyntheticArchitecture = "llama" | "bitnet-b1.58";

export interface MakeLlamaOptions {
  /** The .gguf file, or for hf-bitnet the checkpoint directory. */
  readonly path: string;
  readonly format: SyntheticFormat;
  /** Default llama. I2_S and hf-bitnet require bitnet-b1.58. */
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
  /** Tensors in the file(s), hf-bitnet's `*.weight_scale` included. */
  readonly tensorCount: number;
  readonly ternaryWeights: number;
  /** The file's size, or the checkpoint directory's files' total. */
  readonly fileBytes: number;
}

/** llama.cpp's llama_ftype values for files whose linear weights are all TQ1_0 / TQ2_0 (I2_S files omit the key). */
const FILE_TYPE: Readonly<Record<TernaryGgufFormat, number | undefined>> = { tq1_0: 36, tq2_0: 37, i2_s: undefined };
const GGML_TYPE: Readonly<Record<TernaryGgufFormat, "TQ1_0" | "TQ2_0" | "I2_S">> = { tq1_0: "TQ1_0", tq2_0: "TQ2_0", i2_s: "I2_S" };
/** Weights per block of each GGUF format: hidden and ffn must be multiples (rows hold whole blocks). */
const FORMAT_BLOCK: Readonly<Record<TernaryGgufFormat, number>> = { tq1_0: TQ_BLOCK_WEIGHTS, tq2_0: TQ_BLOCK_WEIGHTS, i2_s: 128 };
/** hf-bitnet packs four output rows into each byte: every linear weight's n must be a multiple of 4. */
const HF_ROWS_PER_BYTE = 4;
const FORMATS: readonly SyntheticFormat[] = ["tq2_0", "tq1_0", "i2_s", "hf-bitnet"];

/** One tensor of the synthetic model, with its llama.cpp and Hugging Face names. */
type PlannedTensor =
  | { readonly kind: "float"; readonly gguf: string; readonly hf: string; readonly dtype: "F32" | "F16"; readonly rows: number; readonly cols: number; readonly center: number; readonly spread: number }
  | { readonly kind: "ternary"; readonly gguf: string; readonly hf: string; readonly n: number; readonly k: number; readonly scale: number };

/**
 * The model's tensors in llama.cpp's order. Each ternary tensor's scale is drawn here, in order;
 * the values are drawn afterwards, tensor by tensor in the same order, so every format writing
 * the plan in order sees the same random sequence.
 */
function planModel(o: MakeLlamaOptions, rng: Rng): PlannedTensor[] {
  const { hidden, ffn, layers, vocab } = o;
  const kvDim = o.kvHeads * (hidden / o.heads);
  const bitnet = (o.architecture ?? "llama") === "bitnet-b1.58";
  const floats = (rows: number, cols: number, gguf: string, hf: string, center: number, spread: number): PlannedTensor => ({
    kind: "float",
    gguf,
    hf,
    dtype: gguf.endsWith("norm.weight") ? "F32" : "F16",
    rows,
    cols,
    center,
    spread,
  });
  // One scale per tensor as in a converted BitNet model; fp16-exact so readers see it unchanged.
  const ternary = (n: number, k: number, gguf: string, hf: string): PlannedTensor => ({ kind: "ternary", gguf, hf, n, k, scale: roundToFp16(0.25 + 2.75 * rng.float()) });

  const plan: PlannedTensor[] = [floats(vocab, hidden, "token_embd.weight", "model.embed_tokens.weight", 0, 0.2)];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    const h = `model.layers.${l}.`;
    plan.push(
      floats(1, hidden, `${p}attn_norm.weight`, `${h}input_layernorm.weight`, 1, 0.2),
      floats(1, hidden, `${p}ffn_norm.weight`, `${h}post_attention_layernorm.weight`, 1, 0.2),
      ternary(hidden, hidden, `${p}attn_q.weight`, `${h}self_attn.q_proj.weight`),
      ternary(kvDim, hidden, `${p}attn_k.weight`, `${h}self_attn.k_proj.weight`),
      ternary(kvDim, hidden, `${p}attn_v.weight`, `${h}self_attn.v_proj.weight`),
      ternary(hidden, hidden, `${p}attn_output.weight`, `${h}self_attn.o_proj.weight`),
      ternary(ffn, hidden, `${p}ffn_gate.weight`, `${h}mlp.gate_proj.weight`),
      ternary(ffn, hidden, `${p}ffn_up.weight`, `${h}mlp.up_proj.weight`),
      ternary(hidden, ffn, `${p}ffn_down.weight`, `${h}mlp.down_proj.weight`),
    );
    if (bitnet) {
      plan.push(
        floats(1, hidden, `${p}attn_sub_norm.weight`, `${h}self_attn.attn_sub_norm.weight`, 1, 0.2),
        floats(1, ffn, `${p}ffn_sub_norm.weight`, `${h}mlp.ffn_sub_norm.weight`, 1, 0.2),
      );
    }
  }
  plan.push(floats(1, hidden, "output_norm.weight", "model.norm.weight", 1, 0.2));
  // BitNet b1.58 ties the LM head to the embedding, as bitnet.cpp's converted 2B-4T has no output.weight.
  if (!bitnet) plan.push(floats(vocab, hidden, "output.weight", "lm_head.weight", 0, 0.2));
  return plan;
}

/** Writes a synthetic model (a GGUF file, or an hf-bitnet checkpoint directory); the same seed gives the same bytes. */
export function makeLlamaModel(opts: MakeLlamaOptions): MakeLlamaResult {
  validate(opts);
  const { hidden, ffn, layers, kvHeads, heads } = opts;
  const kvDim = kvHeads * (hidden / heads);
  const rng = new Rng(opts.seed ?? 1);
  const plan = planModel(opts, rng);
  const ternaryWeights = layers * (2 * hidden * hidden + 2 * kvDim * hidden + 3 * ffn * hidden);
  if (opts.format === "hf-bitnet") {
    writeHf(opts, plan, rng);
    const files = readdirSync(opts.path);
    const fileBytes = files.reduce((sum, f) => sum + statSync(join(opts.path, f)).size, 0);
    const tensorCount = plan.length + plan.filter((t) => t.kind === "ternary").length;
    return { path: opts.path, tensorCount, ternaryWeights, fileBytes };
  }
  writeGgufModel(opts, opts.format, plan, rng);
  return { path: opts.path, tensorCount: plan.length, ternaryWeights, fileBytes: statSync(opts.path).size };
}

function writeGgufModel(opts: MakeLlamaOptions, format: TernaryGgufFormat, plan: readonly PlannedTensor[], rng: Rng): void {
  const { hidden, ffn, layers, heads, kvHeads, vocab } = opts;
  const zeroFraction = opts.zeroFraction ?? 1 / 3;
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
    [`${arch}.rope.dimension_count`, gv.u32(hidden / heads)],
    [`${arch}.rope.freq_base`, gv.f32(bitnet ? 500000 : 10000)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(1e-5)],
    [`${arch}.vocab_size`, gv.u32(vocab)],
  ];

  const tensors = plan.map((t): GgufWriteTensor => {
    if (t.kind === "float") {
      const { cols, center, spread } = t;
      return {
        name: t.gguf,
        type: t.dtype,
        shape: t.rows === 1 ? [cols] : [t.rows, cols],
        data: (_first, count) => randomFloats(rng, count * cols, center, spread),
      };
    }
    const { k, scale } = t;
    return { name: t.gguf, type, shape: [t.n, k], data: (_first, count) => randomTrits(rng, count * k, zeroFraction, scale) };
  });
  writeGguf(opts.path, { metadata, tensors });
}

/**
 * The checkpoint directory: config.json like microsoft/bitnet-b1.58-2B-4T's and model.safetensors
 * with U8-packed linear weights, an F32 `*.weight_scale` each (W = trit · scale, autobitlinear),
 * F16 embedding and F32 norms: the GGUF model's values exactly. The whole model is generated in
 * memory before it is written, so this is for test-sized models.
 */
function writeHf(opts: MakeLlamaOptions, plan: readonly PlannedTensor[], rng: Rng): void {
  checkReplaceableCheckpoint(opts.path);
  const zeroFraction = opts.zeroFraction ?? 1 / 3;
  const config = {
    architectures: ["BitNetForCausalLM"],
    model_type: "bitnet",
    hidden_size: opts.hidden,
    intermediate_size: opts.ffn,
    num_hidden_layers: opts.layers,
    num_attention_heads: opts.heads,
    num_key_value_heads: opts.kvHeads,
    vocab_size: opts.vocab,
    hidden_act: "relu2",
    rms_norm_eps: 1e-5,
    rope_theta: 500000.0,
    max_position_embeddings: opts.contextLength ?? 4096,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" },
  };
  // Values drawn tensor by tensor in plan order: the sequence the GGUF writer draws.
  const tensors = plan.map((t): HfWriteTensor => {
    if (t.kind === "float") {
      const data = randomFloats(rng, t.rows * t.cols, t.center, t.spread);
      return { name: t.hf, kind: "float", dtype: t.dtype, shape: t.rows === 1 ? [t.cols] : [t.rows, t.cols], data };
    }
    const { trits } = randomTrits(rng, t.n * t.k, zeroFraction, t.scale);
    return { name: t.hf, kind: "ternary", trits, n: t.n, k: t.k, scale: t.scale, scaleDtype: "F32" };
  });
  writeHfBitnet(opts.path, { config, tensors });
}

/** The directory is replaced wholesale: only an earlier checkpoint (it has config.json) or an empty directory may be. */
function checkReplaceableCheckpoint(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a directory; refusing to replace it with a checkpoint directory`);
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes(HF_CONFIG)) {
    throw new UserError(`${dir}: exists and is not a Hugging Face checkpoint directory (no ${HF_CONFIG}); refusing to replace it`);
  }
}

function randomFloats(rng: Rng, count: number, center: number, spread: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = center + spread * (rng.float() - 0.5);
  return out;
}

function randomTrits(rng: Rng, count: number, zeroFraction: number, scale: number): TernaryData {
  const trits = new Int8Array(count);
  // Two trits per 32-bit draw (the generator is the bottleneck): each 16-bit half gives 15 bits
  // compared against the zero threshold (P(0) resolution 2^-15) and a sign bit.
  // Branch-free (random trits defeat branch prediction): the sign bit picks +1 or -1, and the mask
  // ((h & 0x7fff) - zeroBelow) >> 31 is all ones exactly when the trit is 0.
  const zeroBelow = Math.round(zeroFraction * 32768);
  const trit = (h: number): number => ((((h >>> 14) & 2) - 1) & ~(((h & 0x7fff) - zeroBelow) >> 31));
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
  if (!FORMATS.includes(o.format)) {
    throw new UserError(`unknown model format ${JSON.stringify(o.format)}, expected tq2_0, tq1_0, i2_s or hf-bitnet`);
  }
  const arch = o.architecture ?? "llama";
  if (arch !== "llama" && arch !== "bitnet-b1.58") {
    throw new UserError(`unknown architecture ${JSON.stringify(arch)}, expected llama or bitnet-b1.58`);
  }
  if (o.format === "i2_s" && arch !== "bitnet-b1.58") {
    throw new UserError(`format i2_s is bitnet.cpp's and needs a bitnet architecture (--arch bitnet-b1.58), not ${arch}`);
  }
  if (o.format === "hf-bitnet" && arch !== "bitnet-b1.58") {
    throw new UserError(
      `format hf-bitnet is microsoft's BitNetForCausalLM layout (ReLU², sub-norms, tied embeddings) and needs --arch bitnet-b1.58, not ${arch}`,
    );
  }
  for (const key of ["hidden", "ffn", "layers", "heads", "kvHeads", "vocab"] as const) {
    const v = o[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new UserError(`${key} must be a positive integer, got ${v}`);
  }
  if (o.hidden % o.heads !== 0) throw new UserError(`hidden (${o.hidden}) must be divisible by heads (${o.heads})`);
  if (o.heads % o.kvHeads !== 0) throw new UserError(`heads (${o.heads}) must be divisible by kvHeads (${o.kvHeads})`);
  if (o.format === "hf-bitnet") {
    const kvDim = o.kvHeads * (o.hidden / o.heads);
    const rows: Array<readonly [string, number]> = [["hidden", o.hidden], ["ffn", o.ffn], ["kvHeads × head dim", kvDim]];
    for (const [what, n] of rows) {
      if (n % HF_ROWS_PER_BYTE !== 0) {
        throw new UserError(`${what} (${n}) must be a multiple of ${HF_ROWS_PER_BYTE} for hf-bitnet (each packed byte holds one column of ${HF_ROWS_PER_BYTE} output rows)`);
      }
    }
  } else {
    for (const key of ["hidden", "ffn"] as const) {
      const block = FORMAT_BLOCK[o.format];
      if (o[key] % block !== 0) {
        const why = `its blocks hold ${block} weights of one row`;
        throw new UserError(`${key} (${o[key]}) must be a multiple of ${block} for ${o.format} (${why})`);
      }
    }
  }
  const z = o.zeroFraction;
  if (z !== undefined && !(z >= 0 && z <= 1)) throw new UserError(`zeroFraction must be between 0 and 1, got ${z}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new UserError(`seed must be an integer, got ${o.seed}`);
  if (o.contextLength !== undefined && (!Number.isSafeInteger(o.contextLength) || o.contextLength < 1)) {
    throw new UserError(`contextLength must be a positive integer, got ${o.contextLength}`);
  }
}
