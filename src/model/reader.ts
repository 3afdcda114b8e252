/**
 * The format-independent view of a model file that inspect (and later the compiler) works from.
 * Each format (GGUF now, safetensors later) supplies a ModelReader; dimensions come from a
 * per-format lookup through dimensionsFrom, so the fallbacks live in one place.
 */
import { basename } from "node:path";
import { UserError } from "../util/errors.js";
import { countTrits, type TernaryCounts, type TernaryTensor } from "./types.js";

export interface ModelDimensions {
  readonly hidden: number | undefined;
  readonly ffn: number | undefined;
  readonly layers: number | undefined;
  readonly heads: number | undefined;
  readonly kvHeads: number | undefined;
  readonly headDim: number | undefined;
  readonly vocab: number | undefined;
}

export type DimensionField = keyof ModelDimensions;

/** Where each dimension is stored: llama.cpp's GGUF metadata, as "<architecture>.<suffix>". */
export const GGUF_DIMENSION_KEYS: Readonly<Record<DimensionField, string>> = {
  hidden: "embedding_length",
  ffn: "feed_forward_length",
  layers: "block_count",
  heads: "attention.head_count",
  kvHeads: "attention.head_count_kv",
  headDim: "attention.key_length",
  vocab: "vocab_size",
};

/** Where each dimension is stored in a Hugging Face checkpoint's config.json. */
export const HF_CONFIG_KEYS: Readonly<Record<DimensionField, string>> = {
  hidden: "hidden_size",
  ffn: "intermediate_size",
  layers: "num_hidden_layers",
  heads: "num_attention_heads",
  kvHeads: "num_key_value_heads",
  headDim: "head_dim",
  vocab: "vocab_size",
};

export interface ModelTensorListing {
  readonly name: string;
  /** The format's own type name, e.g. "TQ2_0", "F16", "U8-packed". */
  readonly typeName: string;
  /** [n, k]: n output rows, k input columns (k innermost); a 1-D tensor is [1, k]. */
  readonly shape: readonly [number, number];
  /** All dimensions, outermost first (PyTorch order). */
  readonly dims: readonly number[];
  readonly elements: number;
  /** Bytes on disk, when known. */
  readonly byteLength: number | undefined;
  /** readTernary can decode this tensor. */
  readonly ternary: boolean;
}

export interface ModelReader {
  readonly path: string;
  /** Short format label for reports, e.g. "GGUF v3". */
  readonly formatLabel: string;
  readonly fileBytes: number;
  readonly architecture: string | undefined;
  /** GGUF files: every metadata key with its value (for architecture details beyond dimensions). */
  readonly metadata?: ReadonlyMap<string, unknown>;
  /** Hugging Face checkpoints: the parsed config.json. */
  readonly config?: Readonly<Record<string, unknown>>;
  dimensions(): ModelDimensions;
  listTensors(): readonly ModelTensorListing[];
  readTernary(name: string): TernaryTensor;
  /** A float tensor (norms, embeddings) as f32, row-major. */
  readFloat(name: string): Float32Array;
  /**
   * The trit counts and scale of a ternary tensor, exactly as counting readTernary's trits would
   * give them (and the same errors), without decoding the trits: memory stays a few MB whatever the
   * tensor's size. Optional so that a reader (or a test's stand-in) may offer only readTernary;
   * call it through countTernary(reader, name).
   */
  countTernary?(name: string): TernaryCounts;
  close(): void;
}

/** A ternary tensor's trit counts and scale: the reader's own counting path, else decode and count. */
export function countTernary(reader: ModelReader, name: string): TernaryCounts {
  if (reader.countTernary) return reader.countTernary(name);
  const t = reader.readTernary(name);
  return { ...countTrits(t.trits), scale: t.scale };
}

/**
 * Dimensions from a format's lookup, filling what the format left out the way llama.cpp does:
 * KV heads default to heads, head dim to hidden / heads.
 */
export function dimensionsFrom(lookup: (field: DimensionField) => number | undefined): ModelDimensions {
  const hidden = lookup("hidden");
  const heads = lookup("heads");
  const kvHeads = lookup("kvHeads") ?? heads;
  const headDim = lookup("headDim") ?? (hidden !== undefined && heads ? hidden / heads : undefined);
  return {
    hidden,
    ffn: lookup("ffn"),
    layers: lookup("layers"),
    heads,
    kvHeads,
    headDim,
    vocab: lookup("vocab"),
  };
}

/** How many names an "unknown tensor" message lists before eliding the rest. */
const LISTED_NAMES = 12;

/** The one wording of "no such tensor", naming the ones that exist. */
export function unknownTensorError(name: string, file: string, names: readonly string[], kind = "tensors"): UserError {
  const shown = names.slice(0, LISTED_NAMES).join(", ");
  const more = names.length > LISTED_NAMES ? `, ... (${names.length - LISTED_NAMES} more)` : "";
  const list = names.length === 0 ? `the file has no ${kind}` : `${kind}: ${shown}${more}`;
  return new UserError(`unknown tensor "${name}" in ${basename(file)}; ${list}`);
}

/** The listing of a ternary tensor; anything else is a UserError naming what exists. */
export function requireTernary(model: ModelReader, name: string): ModelTensorListing {
  const all = model.listTensors();
  const t = all.find((x) => x.name === name);
  if (t?.ternary) return t;
  if (t) throw new UserError(`tensor "${name}" in ${basename(model.path)} is ${t.typeName}, not ternary`);
  const ternary = all.filter((x) => x.ternary).map((x) => x.name);
  throw unknownTensorError(name, model.path, ternary, "ternary tensors");
}
