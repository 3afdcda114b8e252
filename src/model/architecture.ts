/**
 * What kind of transformer a model file holds: its architecture name, dimensions, whether the LM
 * head shares the embedding, the FFN activation and whether BitNet's sub-norms are present. Read
 * from GGUF metadata (llama.cpp / bitnet.cpp keys) or a Hugging Face config.json, with the tensor
 * listing filling in what neither states.
 */
import { basename } from "node:path";
import { UserError } from "../util/errors.js";
import { GGUF_DIMENSION_KEYS, HF_CONFIG_KEYS, type ModelReader, type ModelTensorListing } from "./reader.js";

/** "silu" (llama SwiGLU), "relu2" (BitNet b1.58 squared ReLU, gated), or a config's own name. */
export type Activation = "silu" | "relu2" | "gelu" | (string & {});

export interface ArchitectureDimensions {
  readonly hidden: number;
  readonly ffn: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
}

export interface ModelArchitecture {
  /** general.architecture (GGUF) or config.json model_type (Hugging Face), e.g. "llama", "bitnet-b1.58". */
  readonly name: string;
  /** Where the description came from. */
  readonly source: "gguf" | "hf" | "given";
  readonly dimensions: ArchitectureDimensions;
  /** The LM head is the token embedding (no output.weight / lm_head.weight, or tie_word_embeddings). */
  readonly tiedEmbeddings: boolean;
  readonly activation: Activation;
  /** BitNet's extra RMSNorms before o_proj (size hidden) and down_proj (size ffn). */
  readonly subNorms: boolean;
  /** The trained context length, when the file states it. */
  readonly contextLength: number | undefined;
}


/** Key prefixes llama.cpp and bitnet.cpp use, tried after the file's own architecture. */
const GGUF_PREFIXES = ["llama", "bitnet", "bitnet-b1.58", "bitnet-25"] as const;

/** Architectures whose FFN is ReLU²-gated (BitNet b1.58 2B-4T and bitnet.cpp's "bitnet-25"). */
const RELU2_ARCHITECTURES = new Set(["bitnet-b1.58", "bitnet-25"]);

const LM_HEAD_NAMES = ["output.weight", "lm_head.weight"];

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n) return Number(v);
  return undefined;
}

export function describeArchitecture(reader: ModelReader): ModelArchitecture {
  const tensors = reader.listTensors();
  if (reader.metadata) return fromGguf(reader, reader.metadata, tensors);
  if (reader.config) return fromHf(reader, reader.config, tensors);
  throw new UserError(`${basename(reader.path)}: neither GGUF metadata nor a config.json describes the architecture`);
}

function fromGguf(reader: ModelReader, md: ReadonlyMap<string, unknown>, tensors: readonly ModelTensorListing[]): ModelArchitecture {
  const general = md.get("general.architecture");
  const name = typeof general === "string" ? general : reader.architecture;
  if (name === undefined) throw new UserError(`${basename(reader.path)}: GGUF metadata has no "general.architecture"`);
  // another architecture's keys and tensors mean other things: refuse it rather than read it as llama
  if (!(GGUF_PREFIXES as readonly string[]).includes(name)) {
    throw new UserError(`${basename(reader.path)}: general.architecture "${name}" is not supported (${GGUF_PREFIXES.join(", ")})`);
  }
  const prefixes = [name, ...GGUF_PREFIXES.filter((p) => p !== name)];
  const lookup = (field: keyof ArchitectureDimensions): number | undefined => {
    for (const p of prefixes) {
      const v = asNumber(md.get(`${p}.${GGUF_DIMENSION_KEYS[field]}`));
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const fallback = reader.dimensions();
  const dims = completeDimensions(reader, (f) => lookup(f) ?? (f === "vocab" ? fallback.vocab : undefined), (f) => `"${name}.${GGUF_DIMENSION_KEYS[f]}"`);
  const names = new Set(tensors.map((t) => t.name));
  const act = [name, ...GGUF_PREFIXES].map((p) => md.get(`${p}.hidden_act`)).find((v) => typeof v === "string");
  let contextLength: number | undefined;
  for (const p of prefixes) contextLength ??= asNumber(md.get(`${p}.context_length`));
  return {
    name,
    source: "gguf",
    dimensions: dims,
    tiedEmbeddings: !LM_HEAD_NAMES.some((n) => names.has(n)),
    activation: typeof act === "string" ? normalizeActivation(act) : RELU2_ARCHITECTURES.has(name) ? "relu2" : "silu",
    subNorms: hasSubNorms(tensors),
    contextLength,
  };
}

function fromHf(reader: ModelReader, config: Readonly<Record<string, unknown>>, tensors: readonly ModelTensorListing[]): ModelArchitecture {
  const archs = config["architectures"];
  const name =
    typeof config["model_type"] === "string"
      ? config["model_type"]
      : Array.isArray(archs) && typeof archs[0] === "string"
        ? archs[0]
        : reader.architecture ?? "unknown";
  const lookup = (f: keyof ArchitectureDimensions): number | undefined => asNumber(config[HF_CONFIG_KEYS[f]]);
  const dims = completeDimensions(reader, lookup, (f) => `config.json "${HF_CONFIG_KEYS[f]}"`);
  const names = new Set(tensors.map((t) => t.name));
  const tie = config["tie_word_embeddings"];
  const act = config["hidden_act"];
  return {
    name,
    source: "hf",
    dimensions: dims,
    tiedEmbeddings: tie === true || (tie === undefined && !LM_HEAD_NAMES.some((n) => names.has(n))),
    activation: typeof act === "string" ? normalizeActivation(act) : RELU2_ARCHITECTURES.has(name) ? "relu2" : "silu",
    subNorms: hasSubNorms(tensors),
    contextLength: asNumber(config["max_position_embeddings"]),
  };
}

function normalizeActivation(act: string): Activation {
  const a = act.toLowerCase();
  if (a === "relu2" || a === "relu_squared" || a === "squared_relu") return "relu2";
  if (a === "silu" || a === "swish") return "silu";
  if (a.startsWith("gelu")) return "gelu";
  return a;
}

function hasSubNorms(tensors: readonly ModelTensorListing[]): boolean {
  return tensors.some((t) => t.name.includes("attn_sub_norm")) && tensors.some((t) => t.name.includes("ffn_sub_norm"));
}

/** Required dimensions with llama.cpp's defaults (kv heads = heads, head dim = hidden / heads). */
function completeDimensions(
  reader: ModelReader,
  lookup: (f: keyof ArchitectureDimensions) => number | undefined,
  keyName: (f: keyof ArchitectureDimensions) => string,
): ArchitectureDimensions {
  const need = (f: keyof ArchitectureDimensions, v: number | undefined): number => {
    if (v === undefined || !Number.isSafeInteger(v) || v < 1) {
      const got = v === undefined ? "missing" : `${v}, not a positive integer`;
      throw new UserError(`${basename(reader.path)}: model dimension ${f} (${keyName(f)}) is ${got}`);
    }
    return v;
  };
  const hidden = need("hidden", lookup("hidden"));
  const heads = need("heads", lookup("heads"));
  return {
    hidden,
    ffn: need("ffn", lookup("ffn")),
    layers: need("layers", lookup("layers")),
    heads,
    kvHeads: need("kvHeads", lookup("kvHeads") ?? heads),
    headDim: need("headDim", lookup("headDim") ?? (hidden % heads === 0 ? hidden / heads : undefined)),
    vocab: need("vocab", lookup("vocab")),
  };
}
