/**
 * Hugging Face BitNet checkpoints (microsoft/bitnet-b1.58-2B-4T layout) as a ModelReader: a
 * directory with config.json and model.safetensors, or shards listed in
 * model.safetensors.index.json. Each linear `*.weight` is U8 of shape [n/4, k] packing four trits
 * per byte: row r = q·(n/4) + p, column j is ((P[p, j] >> 2q) & 3) − 1 (code 3 is invalid). Its
 * `*.weight_scale` holds one value; config.quantization_config.linear_class says whether the weight
 * is trit · scale ("autobitlinear") or trit / scale ("bitlinear").
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { UserError } from "../util/errors.js";
import { dimensionsFrom, HF_CONFIG_KEYS, unknownTensorError, type ModelDimensions, type ModelReader, type ModelTensorListing } from "./reader.js";
import { decodeFloats, openSafetensors, type SafetensorsFile, type SafetensorsTensor } from "./safetensors.js";
import type { TernaryCounts, TernaryTensor } from "./types.js";
import { alignedChunk, countCode2Bytes, type TritTally } from "./trit-count.js";

/** Bytes of a packed weight read per chunk when counting its trits. */
const COUNT_CHUNK_BYTES = 8 << 20;

export type ScaleDirection = "multiply" | "divide";

export interface HfBitnetOptions {
  /** Overrides what config.quantization_config.linear_class implies. */
  readonly scaleDirection?: ScaleDirection;
}

export const HF_CONFIG = "config.json";
export const HF_SINGLE_FILE = "model.safetensors";
export const HF_INDEX_FILE = "model.safetensors.index.json";
/** The listing type name of a packed ternary linear weight. */
export const HF_PACKED_TYPE = "U8-packed";

const REQUIRED_CONFIG_KEYS = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read ${what} (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${path}: ${what} is not valid JSON (${(err as Error).message.split("\n")[0]})`);
  }
}

/** The scale direction a config implies: "bitlinear" divides, anything else (autobitlinear) multiplies. */
export function scaleDirectionFromConfig(config: Readonly<Record<string, unknown>>): ScaleDirection {
  const q = config["quantization_config"];
  const linearClass = isPlainObject(q) ? q["linear_class"] : undefined;
  return linearClass === "bitlinear" ? "divide" : "multiply";
}

interface Located {
  readonly file: SafetensorsFile;
  readonly info: SafetensorsTensor;
}

export class HfBitnetReader implements ModelReader {
  readonly path: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly scaleDirection: ScaleDirection;
  readonly shards: readonly SafetensorsFile[];
  readonly sharded: boolean;
  private readonly located = new Map<string, Located>();
  private listing: ModelTensorListing[] | undefined;

  constructor(dir: string, options: HfBitnetOptions = {}) {
    this.path = dir;
    const configPath = join(dir, HF_CONFIG);
    if (!existsSync(configPath)) {
      throw new UserError(`${dir}: not a Hugging Face checkpoint: expected ${HF_CONFIG} and ${HF_SINGLE_FILE} (or ${HF_INDEX_FILE}) in the directory`);
    }
    const config = readJson(configPath, HF_CONFIG);
    if (!isPlainObject(config)) throw new UserError(`${configPath}: expected a JSON object`);
    for (const key of REQUIRED_CONFIG_KEYS) {
      const v = config[key];
      if (v === undefined) throw new UserError(`${configPath}: missing required field "${key}"`);
      if (!Number.isSafeInteger(v) || (v as number) <= 0) {
        throw new UserError(`${configPath}: field "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
      }
    }
    this.config = config;
    this.scaleDirection = options.scaleDirection ?? scaleDirectionFromConfig(config);

    const shards: SafetensorsFile[] = [];
    try {
      const indexPath = join(dir, HF_INDEX_FILE);
      if (existsSync(indexPath)) {
        this.sharded = true;
        this.openShards(dir, indexPath, shards);
      } else {
        this.sharded = false;
        const single = join(dir, HF_SINGLE_FILE);
        if (!existsSync(single)) {
          throw new UserError(`${dir}: expected ${HF_SINGLE_FILE} or ${HF_INDEX_FILE} next to ${HF_CONFIG}`);
        }
        const file = openSafetensors(single);
        shards.push(file);
        for (const info of file.tensors) this.located.set(info.name, { file, info });
      }
    } catch (err) {
      for (const s of shards) s.close();
      throw err;
    }
    this.shards = shards;
  }

  private openShards(dir: string, indexPath: string, shards: SafetensorsFile[]): void {
    const index = readJson(indexPath, HF_INDEX_FILE);
    const map = isPlainObject(index) ? index["weight_map"] : undefined;
    if (!isPlainObject(map)) throw new UserError(`${indexPath}: expected an object with a "weight_map" of tensor name to shard file`);
    const byShard = new Map<string, string[]>();
    for (const [tensor, shard] of Object.entries(map)) {
      if (typeof shard !== "string" || shard === "" || shard.includes("/") || shard.includes("\\") || shard === "." || shard === "..") {
        throw new UserError(`${indexPath}: tensor "${tensor}" maps to ${JSON.stringify(shard)}; expected a shard file name in the same directory`);
      }
      const list = byShard.get(shard) ?? [];
      list.push(tensor);
      byShard.set(shard, list);
    }
    for (const [shard, names] of byShard) {
      const shardPath = join(dir, shard);
      if (!existsSync(shardPath)) {
        throw new UserError(`${indexPath}: shard "${shard}" (holding "${names[0]}") is missing from ${dir}`);
      }
      const file = openSafetensors(shardPath);
      shards.push(file);
      for (const name of names) {
        if (!file.has(name)) throw new UserError(`${shardPath}: tensor "${name}" is listed in ${HF_INDEX_FILE} but not in this shard`);
        this.located.set(name, { file, info: file.tensor(name) });
      }
    }
  }

  get formatLabel(): string {
    const n = this.shards.length;
    return `Hugging Face safetensors (${n} shard${n === 1 ? "" : "s"})`;
  }

  get fileBytes(): number {
    return this.shards.reduce((sum, s) => sum + s.fileSize, 0);
  }

  get architecture(): string | undefined {
    const t = this.config["model_type"];
    return typeof t === "string" ? t : undefined;
  }

  dimensions(): ModelDimensions {
    return dimensionsFrom((field) => {
      const v = this.config[HF_CONFIG_KEYS[field]];
      return typeof v === "number" && Number.isFinite(v) ? v : undefined;
    });
  }

  /** A packed ternary linear weight: `*.weight`, U8, 2-D, with a `*.weight_scale` next to it. */
  isPackedTernary(name: string): boolean {
    const t = this.located.get(name);
    return t !== undefined && name.endsWith(".weight") && t.info.dtype === "U8" && t.info.shape.length === 2 && this.located.has(`${name}_scale`);
  }

  listTensors(): readonly ModelTensorListing[] {
    if (this.listing) return this.listing;
    const out: ModelTensorListing[] = [];
    for (const [name, { file, info }] of this.located) {
      // a weight with a weight_scale is meant to be packed ternary: any other layout is refused,
      // not read as a float tensor (which would drop it from every matmul without a word)
      if (name.endsWith(".weight") && this.located.has(`${name}_scale`) && !this.isPackedTernary(name)) {
        throw new UserError(`${file.path}: tensor "${name}" has a weight_scale but is ${info.dtype} of shape [${info.shape.join(", ")}]; a packed ternary weight is U8 of shape [n/4, k]`);
      }
      if (this.isPackedTernary(name)) {
        const n = 4 * info.shape[0]!;
        const k = info.shape[1]!;
        out.push({ name, typeName: HF_PACKED_TYPE, shape: [n, k], dims: [n, k], elements: n * k, byteLength: info.byteLength, ternary: true });
        continue;
      }
      const s = info.shape;
      const k = s.length === 0 ? 1 : s[s.length - 1]!;
      const rows = s.slice(0, -1).reduce((a, b) => a * b, 1);
      out.push({ name, typeName: info.dtype, shape: [rows, k], dims: [...s], elements: info.elements, byteLength: info.byteLength, ternary: false });
    }
    this.listing = out;
    return out;
  }

  private locate(name: string): Located {
    const t = this.located.get(name);
    if (!t) throw unknownTensorError(name, this.path, [...this.located.keys()]);
    return t;
  }

  /** The stored `<name>_scale` value (before the scale direction is applied). */
  readStoredScale(name: string): number {
    const scaleName = `${name}_scale`;
    const { file, info } = this.locate(scaleName);
    if (info.elements !== 1) {
      throw new UserError(`${file.path}: tensor "${scaleName}" has ${info.elements} values; expected one per-tensor scale`);
    }
    if (info.dtype !== "BF16" && info.dtype !== "F32" && info.dtype !== "F16") {
      throw new UserError(`${file.path}: tensor "${scaleName}" is ${info.dtype}; expected a BF16 or F32 scale`);
    }
    const s = decodeFloats(file.readBytes(scaleName), info.dtype, 1)[0]!;
    if (!Number.isFinite(s) || (this.scaleDirection === "divide" && s === 0)) {
      throw new UserError(`${file.path}: tensor "${scaleName}" holds ${s}; expected a finite${this.scaleDirection === "divide" ? ", non-zero" : ""} scale`);
    }
    return s;
  }

  /** A packed ternary weight's location; anything else is a UserError. */
  private locatePacked(name: string): Located {
    const located = this.locate(name);
    if (!this.isPackedTernary(name)) {
      const { info } = located;
      throw new UserError(`tensor "${name}" in ${basename(this.path)} is ${info.dtype} [${info.shape.join(", ")}], not a packed ternary weight with a "${name}_scale"`);
    }
    return located;
  }

  private code3(file: SafetensorsFile, info: SafetensorsTensor, at: number): UserError {
    return new UserError(
      `${file.path}: tensor "${info.name}": invalid trit code 3 in byte ${at} of the tensor (file byte ${info.fileOffset + at}); expected codes 0, 1, 2`,
    );
  }

  /** The scale readTernary reports: the stored value, or its reciprocal for "bitlinear" checkpoints. */
  private ternaryScale(name: string): TernaryTensor["scale"] {
    const stored = this.readStoredScale(name);
    const multiplier = Math.fround(this.scaleDirection === "multiply" ? stored : 1 / stored);
    return { blockScales: Float32Array.of(multiplier), uniform: true, tensorScale: multiplier };
  }

  /** readTernary's trit counts and scale (and errors), streaming the packed bytes through one chunk (`chunkBytes`: tests). */
  countTernary(name: string, chunkBytes = COUNT_CHUNK_BYTES): TernaryCounts {
    const { file, info } = this.locatePacked(name);
    const scale = this.ternaryScale(name);
    const bytes = info.byteLength;
    const chunk = alignedChunk(Math.min(bytes, Math.max(1, Math.floor(chunkBytes))));
    const tally: TritTally = { minus: 0, plus: 0 };
    for (let done = 0; done < bytes; done += chunk.length) {
      const count = Math.min(chunk.length, bytes - done);
      file.readTensorRange(name, done, count, chunk);
      const bad = countCode2Bytes(chunk, count, tally);
      if (bad >= 0) throw this.code3(file, info, done + bad);
    }
    return { minus: tally.minus, zero: info.elements * 4 - tally.minus - tally.plus, plus: tally.plus, scale };
  }

  readTernary(name: string): TernaryTensor {
    const { file, info } = this.locatePacked(name);
    const scale = this.ternaryScale(name);
    const packed = file.readBytes(name);
    const rows = info.shape[0]!;
    const k = info.shape[1]!;
    const n = 4 * rows;
    const trits = new Int8Array(n * k);
    for (let p = 0; p < rows; p++) {
      for (let j = 0; j < k; j++) {
        const at = p * k + j;
        const byte = packed[at]!;
        for (let q = 0; q < 4; q++) {
          const code = (byte >> (2 * q)) & 3;
          if (code === 3) throw this.code3(file, info, at);
          trits[(q * rows + p) * k + j] = code - 1;
        }
      }
    }
    return { name, n, k, trits, scale };
  }

  /** An F32, F16 or BF16 tensor as floats. */
  readFloat(name: string): Float32Array {
    const { file } = this.locate(name);
    return file.readFloat(name);
  }

  close(): void {
    for (const s of this.shards) s.close();
  }
}

