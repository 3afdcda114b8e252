/**
 * GGUF (llama.cpp) model reader. Opening parses and validates only the header; tensor data is read
 * by offset when asked, a chunk at a time, so multi-GB models never sit in memory whole.
 */
import { UserError } from "../util/errors.js";
import { BufferedFileReader } from "./file-reader.js";
import { parseGgufHeader, type GgufTensorInfo } from "./gguf-header.js";
import type { GgufTypedValue, GgufValue } from "./gguf-value.js";
import { bf16ToF32, fp16Table32 } from "./half.js";
import { decodeTqBlocks, summarizeScales, tqBlockBytes, TQ_BLOCK_WEIGHTS, type TqTypeName } from "./tq-codec.js";
import type { TernaryCounts, TernaryTensor } from "./types.js";
import { alignedChunk, countCode2Bytes, countTqBlocks, type TritTally } from "./trit-count.js";
import { decodeI2sBlocks, i2sPackedBytes, I2S_BLOCK_BYTES, I2S_BLOCK_WEIGHTS } from "./i2s-codec.js";

export type { GgufTensorInfo } from "./gguf-header.js";
export type { GgufValue, GgufTypedValue } from "./gguf-value.js";
import { unknownTensorError } from "./reader.js";

/** Bytes of packed tensor data decoded per read: big enough to be fast, small enough not to matter. */
const CHUNK_BYTES = 4 << 20;
/** Bytes per read when only counting: no decoded trits, so the chunk is the only buffer. */
const COUNT_CHUNK_BYTES = 8 << 20;

export class GgufFile {
  readonly path: string;
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** The same metadata with each value's on-disk type, e.g. for rewriting the file. */
  readonly typedMetadata: ReadonlyMap<string, GgufTypedValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** general.architecture, e.g. "llama" or "bitnet-b1.58". */
  readonly architecture: string | undefined;
  readonly alignment: number;
  /** Absolute offset of the data section. */
  readonly dataStart: number;
  private readonly reader: BufferedFileReader;
  private readonly byName: Map<string, GgufTensorInfo>;

  constructor(path: string) {
    this.reader = new BufferedFileReader(path);
    try {
      const h = parseGgufHeader(this.reader);
      this.version = h.version;
      this.metadata = h.metadata;
      this.typedMetadata = h.typedMetadata;
      this.tensors = h.tensors;
      this.architecture = h.architecture;
      this.alignment = h.alignment;
      this.dataStart = h.dataStart;
    } catch (err) {
      this.reader.close();
      throw err;
    }
    this.path = path;
    this.byName = new Map(this.tensors.map((t) => [t.name, t]));
  }

  get fileSize(): number {
    return this.reader.size;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The tensor's info; an unknown name is a UserError listing the names that exist. */
  tensor(name: string): GgufTensorInfo {
    const t = this.byName.get(name);
    if (t) return t;
    throw unknownTensorError(name, this.path, this.tensors.map((x) => x.name));
  }

  /** A metadata number (any integer or float type); bigints must fit a JS number exactly. */
  getNumber(key: string): number | undefined {
    const v = this.metadata.get(key);
    if (typeof v === "number") return v;
    if (typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return undefined;
  }

  getString(key: string): string | undefined {
    const v = this.metadata.get(key);
    return typeof v === "string" ? v : undefined;
  }

  /** The tensor's raw bytes as stored (for formats not decoded here yet). */
  readRaw(name: string): Buffer {
    const t = this.tensor(name);
    if (t.byteLength === undefined) {
      throw new UserError(`${this.path}: tensor "${name}" has type ${t.typeName}, whose size this reader cannot determine`);
    }
    return this.reader.readAt(t.dataOffset, t.byteLength, `tensor "${name}" data`);
  }

  /** The tensor's info, when it is TQ1_0, TQ2_0 or (bitnet files) I2_S; anything else is a UserError. */
  private ternaryInfo(name: string): GgufTensorInfo & { typeName: TqTypeName | "I2_S" } {
    const t = this.tensor(name);
    if (t.typeName !== "TQ1_0" && t.typeName !== "TQ2_0" && t.typeName !== "I2_S") {
      throw new UserError(`${this.path}: tensor "${name}" is ${t.typeName}, not a ternary type this reader decodes (TQ1_0, TQ2_0 or I2_S)`);
    }
    return t as GgufTensorInfo & { typeName: TqTypeName | "I2_S" };
  }

  private i2sBlocks(t: GgufTensorInfo): number {
    if (t.elements % I2S_BLOCK_WEIGHTS !== 0) {
      throw new UserError(`${this.path}: I2_S tensor "${t.name}" has ${t.elements} weights, not a whole number of ${I2S_BLOCK_WEIGHTS}-weight blocks`);
    }
    return t.elements / I2S_BLOCK_WEIGHTS;
  }

  private tqCode3(name: string, block: number, offset: number): UserError {
    return new UserError(`${this.path}: tensor "${name}" block ${block} holds the 2-bit code 3, which is not a trit (at byte ${offset})`);
  }

  private i2sCode3(name: string, offset: number): UserError {
    return new UserError(`${this.path}: I2_S tensor "${name}" holds the 2-bit code 3, which is not a trit (at byte ${offset})`);
  }

  private readI2sScale(t: GgufTensorInfo): number {
    return this.reader.readAt(t.dataOffset + i2sPackedBytes(t.elements), 4, `tensor "${t.name}" scale`).readFloatLE(0);
  }

  /**
   * The trit counts and scales readTernary would give (same errors too), streamed through one chunk
   * buffer and counted by table without unpacking a trit. `chunkBytes` (tests) sets the read size.
   */
  countTernary(name: string, chunkBytes = COUNT_CHUNK_BYTES): TernaryCounts {
    chunkBytes = Math.max(1, Math.floor(chunkBytes));
    const t = this.ternaryInfo(name);
    const tally: TritTally = { minus: 0, plus: 0 };
    const what = `tensor "${name}" data`;
    if (t.typeName === "I2_S") {
      const bytes = this.i2sBlocks(t) * I2S_BLOCK_BYTES;
      const chunk = alignedChunk(Math.min(bytes, chunkBytes));
      for (let done = 0; done < bytes; done += chunk.length) {
        const count = Math.min(chunk.length, bytes - done);
        this.reader.readInto(chunk, t.dataOffset + done, count, what);
        const bad = countCode2Bytes(chunk, count, tally);
        if (bad >= 0) throw this.i2sCode3(name, t.dataOffset + done + bad);
      }
      const scale = this.readI2sScale(t);
      return { ...totals(tally, t.elements), scale: { blockScales: new Float32Array([scale]), uniform: true, tensorScale: scale } };
    }
    const type: TqTypeName = t.typeName;
    const blockBytes = tqBlockBytes(type);
    const nBlocks = t.elements / TQ_BLOCK_WEIGHTS;
    const target = { blockScales: new Float32Array(nBlocks), blockNonzero: new Uint8Array(nBlocks) };
    const blocksPerChunk = Math.max(1, Math.floor(chunkBytes / blockBytes));
    const chunk = alignedChunk(Math.min(nBlocks, blocksPerChunk) * blockBytes);
    for (let first = 0; first < nBlocks; first += blocksPerChunk) {
      const count = Math.min(blocksPerChunk, nBlocks - first);
      const offset = t.dataOffset + first * blockBytes;
      this.reader.readInto(chunk, offset, count * blockBytes, what);
      const bad = countTqBlocks(type, chunk, count, tally, target, first);
      if (bad >= 0) throw this.tqCode3(name, first + bad, offset + bad * blockBytes);
    }
    return { ...totals(tally, t.elements), scale: summarizeScales(target.blockScales, target.blockNonzero) };
  }

  /** Decodes a TQ1_0, TQ2_0 or (bitnet files) I2_S tensor into trits plus its scales. */
  readTernary(name: string): TernaryTensor {
    const t = this.ternaryInfo(name);
    if (t.typeName === "I2_S") return this.readI2s(t);
    const type: TqTypeName = t.typeName;
    const [n, k] = t.shape;
    const blockBytes = tqBlockBytes(type);
    const nBlocks = t.elements / TQ_BLOCK_WEIGHTS;
    const target = {
      trits: new Int8Array(t.elements),
      blockScales: new Float32Array(nBlocks),
      blockNonzero: new Uint8Array(nBlocks),
    };
    const blocksPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / blockBytes));
    const chunk = Buffer.allocUnsafe(Math.min(nBlocks, blocksPerChunk) * blockBytes);
    for (let first = 0; first < nBlocks; first += blocksPerChunk) {
      const count = Math.min(blocksPerChunk, nBlocks - first);
      const offset = t.dataOffset + first * blockBytes;
      this.reader.readInto(chunk, offset, count * blockBytes, `tensor "${name}" data`);
      const bad = decodeTqBlocks(type, chunk, count, target, first);
      if (bad >= 0) throw this.tqCode3(name, first + bad, offset + bad * blockBytes);
    }
    return { name, n, k, trits: target.trits, scale: summarizeScales(target.blockScales, target.blockNonzero) };
  }

  /** I2_S: 128-weight blocks over the flattened tensor, then one f32 tensor scale. */
  private readI2s(t: GgufTensorInfo): TernaryTensor {
    const name = t.name;
    const [n, k] = t.shape;
    const nBlocks = this.i2sBlocks(t);
    const trits = new Int8Array(t.elements);
    const blocksPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / I2S_BLOCK_BYTES));
    const chunk = Buffer.allocUnsafe(Math.min(nBlocks, blocksPerChunk) * I2S_BLOCK_BYTES);
    for (let first = 0; first < nBlocks; first += blocksPerChunk) {
      const count = Math.min(blocksPerChunk, nBlocks - first);
      const offset = t.dataOffset + first * I2S_BLOCK_BYTES;
      this.reader.readInto(chunk, offset, count * I2S_BLOCK_BYTES, `tensor "${name}" data`);
      const bad = decodeI2sBlocks(chunk, count, trits, first);
      if (bad >= 0) throw this.i2sCode3(name, offset + bad);
    }
    const scale = this.readI2sScale(t);
    return { name, n, k, trits, scale: { blockScales: new Float32Array([scale]), uniform: true, tensorScale: scale } };
  }

  /** An F32, F16 or BF16 tensor as floats, in storage order (row-major, ne[0] fastest). */
  readFloat(name: string): Float32Array {
    const t = this.tensor(name);
    const bytesPer = t.typeName === "F32" ? 4 : t.typeName === "F16" || t.typeName === "BF16" ? 2 : 0;
    if (bytesPer === 0) throw new UserError(`${this.path}: tensor "${name}" is ${t.typeName}, not a float type (F32, F16 or BF16)`);
    const out = new Float32Array(t.elements);
    const perChunk = Math.floor(CHUNK_BYTES / bytesPer);
    const chunk = Buffer.allocUnsafe(Math.min(t.elements, perChunk) * bytesPer);
    const half = t.typeName === "F16" ? fp16Table32() : undefined;
    for (let first = 0; first < t.elements; first += perChunk) {
      const count = Math.min(perChunk, t.elements - first);
      this.reader.readInto(chunk, t.dataOffset + first * bytesPer, count * bytesPer, `tensor "${name}" data`);
      if (t.typeName === "F32") {
        for (let i = 0; i < count; i++) out[first + i] = chunk.readFloatLE(i * 4);
      } else if (half) {
        for (let i = 0; i < count; i++) out[first + i] = half[chunk[2 * i]! | (chunk[2 * i + 1]! << 8)]!;
      } else {
        for (let i = 0; i < count; i++) out[first + i] = bf16ToF32(chunk[2 * i]! | (chunk[2 * i + 1]! << 8));
      }
    }
    return out;
  }

  close(): void {
    this.reader.close();
  }
}

function totals(tally: TritTally, elements: number): { minus: number; zero: number; plus: number } {
  return { minus: tally.minus, zero: elements - tally.minus - tally.plus, plus: tally.plus };
}

/** Opens a GGUF file and validates its header; call close() when done. */
export function openGguf(path: string): GgufFile {
  return new GgufFile(path);
}

/** Opens, runs fn, and closes even when fn throws. */
export function withGguf<T>(path: string, fn: (file: GgufFile) => T): T {
  const file = openGguf(path);
  try {
    return fn(file);
  } finally {
    file.close();
  }
}
