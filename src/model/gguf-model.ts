/** GGUF as a ModelReader: llama.cpp's per-architecture metadata keys mapped to model dimensions. */
import { openGguf, type GgufFile } from "./gguf.js";
import { dimensionsFrom, GGUF_DIMENSION_KEYS, type ModelDimensions, type ModelReader, type ModelTensorListing } from "./reader.js";
import { isTernaryTypeName } from "./ggml-types.js";
import type { TernaryCounts, TernaryTensor } from "./types.js";
import { UserError } from "../util/errors.js";

export class GgufModelReader implements ModelReader {
  readonly file: GgufFile;

  constructor(path: string) {
    this.file = openGguf(path);
  }

  get path(): string {
    return this.file.path;
  }
  get formatLabel(): string {
    return `GGUF v${this.file.version}`;
  }
  get fileBytes(): number {
    return this.file.fileSize;
  }
  get architecture(): string | undefined {
    return this.file.architecture;
  }
  get metadata(): ReadonlyMap<string, unknown> {
    return this.file.metadata;
  }

  dimensions(): ModelDimensions {
    const f = this.file;
    const arch = f.architecture;
    return dimensionsFrom((field) => {
      const v = arch === undefined ? undefined : f.getNumber(`${arch}.${GGUF_DIMENSION_KEYS[field]}`);
      if (v !== undefined || field !== "vocab") return v;
      // Many converters omit <arch>.vocab_size: count the tokenizer's tokens or embedding rows.
      const tokens = f.metadata.get("tokenizer.ggml.tokens");
      if (Array.isArray(tokens)) return tokens.length;
      return f.has("token_embd.weight") ? f.tensor("token_embd.weight").shape[0] : undefined;
    });
  }

  listTensors(): readonly ModelTensorListing[] {
    return this.file.tensors.map((t) => {
      const ternary = isTernaryTypeName(t.typeName) || t.typeName === "I2_S";
      // a ternary weight is one n×k matmul; a third dimension would be flattened into rows unseen
      if (ternary && t.ne.slice(2).some((d) => Number(d) !== 1)) {
        throw new UserError(`${this.path}: ternary tensor "${t.name}" has ${t.ne.length} dimensions [${[...t.ne].reverse().join(", ")}]; a ternary matmul weight has 2`);
      }
      return { name: t.name, typeName: t.typeName, shape: t.shape, dims: [...t.ne].reverse(), elements: t.elements, byteLength: t.byteLength, ternary };
    });
  }

  readFloat(name: string): Float32Array {
    return this.file.readFloat(name);
  }

  readTernary(name: string): TernaryTensor {
    return this.file.readTernary(name);
  }

  countTernary(name: string, chunkBytes?: number): TernaryCounts {
    return this.file.countTernary(name, chunkBytes);
  }

  close(): void {
    this.file.close();
  }
}
