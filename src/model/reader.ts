/**
 * The format-independent view of a model file that inspect (and later the compiler) works from.
 * Each format (GGUF now, safetensors later) supplies a ModelReader; dimensions come from a
 * per-format lookup through dimensionsFrom, so the fallbacks live in one place.
 */
import type { TernaryTensor } from "./types.js";

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
  dimensions(): ModelDimensions;
  listTensors(): readonly ModelTensorListing[];
  readTernary(name: string): TernaryTensor;
  close(): void;
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
