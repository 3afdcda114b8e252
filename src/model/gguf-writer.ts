/**
 * GGUF v3 writer. The header (metadata and tensor infos) is built in memory; tensor data is then
 * encoded and written one chunk of rows at a time, so a caller that supplies rows on demand can
 * write a model far larger than memory. The file appears atomically: a temp sibling is renamed
 * into place only when complete.
 */
import { writeFileAtomicStream } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { ByteSink } from "./byte-sink.js";
import { GGUF_DEFAULT_ALIGNMENT, alignUp } from "./gguf-header.js";
import { GGUF_VALUE_TYPE_IDS, type GgufScalarType, type GgufTypedValue, type GgufValue } from "./gguf-value.js";
import { ggmlType, ggmlTypeByName, isBitnetArchitecture, type GgmlTypeInfo } from "./ggml-types.js";
import { encodeI2sBlocks, I2S_BLOCK_BYTES, I2S_BLOCK_WEIGHTS, I2S_TAIL_BYTES } from "./i2s-codec.js";
import { f32ToFp16 } from "./half.js";
import { encodeTqBlocks, TQ_BLOCK_WEIGHTS } from "./tq-codec.js";

export type GgufWriteFloatType = "F32" | "F16";
/** I2_S (bitnet.cpp) only in files whose general.architecture is a bitnet one. */
export type GgufWriteTernaryType = "TQ1_0" | "TQ2_0" | "I2_S";

/** Trits (n·k, row-major) with one scale per 256-weight block in storage order, or one scale. */
export interface TernaryData {
  readonly trits: Int8Array;
  readonly scales: Float32Array | number;
}

/**
 * Tensor contents, either whole or produced on demand: `(firstRow, rowCount)` must return exactly
 * those rows (rows are ne[0] elements long; scales then cover only the returned rows' blocks).
 * The writer asks for rows in increasing order, each row once.
 */
export type RowSource<T> = T | ((firstRow: number, rowCount: number) => T);

interface TensorShape {
  /** GGUF order, ne[0] innermost; give either this or `shape`. */
  readonly ne?: readonly number[];
  /** PyTorch order, outermost first: a [n, k] weight has n rows of k inputs. */
  readonly shape?: readonly number[];
}

export interface GgufWriteFloatTensor extends TensorShape {
  readonly name: string;
  readonly type: GgufWriteFloatType;
  readonly data: RowSource<Float32Array>;
}

export interface GgufWriteTernaryTensor extends TensorShape {
  readonly name: string;
  readonly type: GgufWriteTernaryType;
  readonly data: RowSource<TernaryData>;
}

export type GgufWriteTensor = GgufWriteFloatTensor | GgufWriteTernaryTensor;

function isTernary(spec: GgufWriteTensor): spec is GgufWriteTernaryTensor {
  return spec.type === "TQ1_0" || spec.type === "TQ2_0" || spec.type === "I2_S";
}

export interface GgufWriteSpec {
  /** Keys in file order. general.alignment (u32 32) is appended when absent. */
  readonly metadata: ReadonlyArray<readonly [string, GgufTypedValue]>;
  readonly tensors: readonly GgufWriteTensor[];
}

/** ggml keeps tensor names in a 64-byte buffer including the terminating NUL. */
const MAX_NAME_BYTES = 63;
const MAX_DIMS = 4;
/** Typed-array stores are little-endian here, as the file is. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** Elements encoded per write: bounds the writer's memory whatever the tensor size. */
const CHUNK_ELEMENTS = 1 << 20;

interface PlannedTensor {
  readonly spec: GgufWriteTensor;
  readonly typeId: number;
  readonly ne: readonly number[];
  readonly rows: number;
  readonly rowLength: number;
  readonly byteLength: number;
  readonly offset: number;
}

export function writeGguf(path: string, spec: GgufWriteSpec): void {
  const metadata = withAlignment(spec.metadata);
  const alignment = alignmentOf(metadata);
  const arch = metadata.find(([key]) => key === "general.architecture")?.[1].value;
  const planned = planTensors(spec.tensors, alignment, typeof arch === "string" ? arch : undefined);

  const head = new ByteSink();
  for (const byte of Buffer.from("GGUF", "latin1")) head.u8(byte); // magic: raw bytes, not a GGUF string
  head.u32(3);
  head.u64(planned.length);
  head.u64(metadata.length);
  for (const [key, value] of metadata) {
    head.string(key);
    writeTypedValue(head, value, key);
  }
  for (const t of planned) {
    head.string(t.spec.name);
    head.u32(t.ne.length);
    for (const d of t.ne) head.u64(d);
    head.u32(t.typeId);
    head.u64(t.offset);
  }
  head.zeros(alignUp(head.length, alignment) - head.length);

  // validated and laid out above; the file appears only when every tensor is written
  writeFileAtomicStream(path, (put) => {
    put(head.bytes());
    for (const t of planned) {
      writeTensorData(put, t);
      const pad = alignUp(t.byteLength, alignment) - t.byteLength;
      if (pad > 0) put(Buffer.alloc(pad));
    }
  });
}

function withAlignment(metadata: GgufWriteSpec["metadata"]): Array<readonly [string, GgufTypedValue]> {
  const seen = new Set<string>();
  for (const [key] of metadata) {
    if (key.length === 0) throw new UserError("GGUF metadata key must not be empty");
    if (seen.has(key)) throw new UserError(`duplicate GGUF metadata key "${key}"`);
    seen.add(key);
  }
  const out = [...metadata];
  if (!seen.has("general.alignment")) out.push(["general.alignment", { type: "u32", value: GGUF_DEFAULT_ALIGNMENT }]);
  return out;
}

function alignmentOf(metadata: ReadonlyArray<readonly [string, GgufTypedValue]>): number {
  const entry = metadata.find(([key]) => key === "general.alignment")![1];
  const v = entry.value;
  if (entry.type !== "u32" || typeof v !== "number" || v <= 0 || (v & (v - 1)) !== 0) {
    throw new UserError(`GGUF metadata "general.alignment" must be a u32 power of two, got ${String(v)} (${entry.type})`);
  }
  return v;
}

function planTensors(tensors: readonly GgufWriteTensor[], alignment: number, architecture: string | undefined): PlannedTensor[] {
  const names = new Set<string>();
  let offset = 0;
  return tensors.map((spec) => {
    const what = `tensor "${spec.name}"`;
    const nameBytes = Buffer.byteLength(spec.name, "utf8");
    if (nameBytes === 0 || nameBytes > MAX_NAME_BYTES) {
      throw new UserError(`${what}: name must be 1 to ${MAX_NAME_BYTES} bytes, it is ${nameBytes}`);
    }
    if (names.has(spec.name)) throw new UserError(`duplicate tensor name "${spec.name}"`);
    names.add(spec.name);
    const ne = tensorNe(spec, what);
    const type = writeType(spec, architecture, what);
    const rowLength = ne[0]!;
    if (rowLength % type.blockSize !== 0) {
      throw new UserError(`${what}: rows of ${rowLength} elements are not a whole number of ${type.name} blocks (${type.blockSize})`);
    }
    const elements = ne.reduce((a, b) => a * b, 1);
    if (type.name === "I2_S" && elements % I2S_BLOCK_WEIGHTS !== 0) {
      throw new UserError(`${what}: ${elements} elements are not a whole number of ${I2S_BLOCK_WEIGHTS}-weight I2_S blocks`);
    }
    const byteLength = type.name === "I2_S" ? elements / 4 + I2S_TAIL_BYTES : (elements / type.blockSize) * type.blockBytes;
    const planned: PlannedTensor = { spec, typeId: type.id, ne, rows: elements / rowLength, rowLength, byteLength, offset };
    offset = alignUp(offset + byteLength, alignment);
    return planned;
  });
}

function writeType(spec: GgufWriteTensor, architecture: string | undefined, what: string): GgmlTypeInfo {
  if (spec.type === "I2_S") {
    if (!isBitnetArchitecture(architecture)) {
      const arch = JSON.stringify(architecture ?? "unset");
      throw new UserError(`${what}: I2_S is a bitnet.cpp type, written only when general.architecture is a bitnet one (this file's is ${arch})`);
    }
    return ggmlType(36, architecture)!;
  }
  const type = ggmlTypeByName(spec.type);
  if (!type) throw new UserError(`${what}: cannot write type ${String(spec.type)}`);
  return type;
}

function tensorNe(spec: GgufWriteTensor, what: string): number[] {
  if ((spec.ne === undefined) === (spec.shape === undefined)) throw new UserError(`${what}: give exactly one of ne and shape`);
  const ne = spec.ne ? [...spec.ne] : [...spec.shape!].reverse();
  if (ne.length < 1 || ne.length > MAX_DIMS) throw new UserError(`${what}: ${ne.length} dimensions, expected 1 to ${MAX_DIMS}`);
  for (const d of ne) {
    if (!Number.isSafeInteger(d) || d < 1) throw new UserError(`${what}: dimension ${d} is not a positive integer`);
  }
  return ne;
}

/** Encodes and writes one tensor's data, about CHUNK_ELEMENTS at a time (whole rows). */
function writeTensorData(put: (data: Uint8Array) => void, t: PlannedTensor): void {
  const spec = t.spec;
  const what = `tensor "${spec.name}"`;
  checkWholeLength(t, what);
  if (spec.type === "I2_S") {
    writeI2sData(put, spec, t, what);
    return;
  }
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / t.rowLength));
  const bytesPerRow = t.byteLength / t.rows;
  const out = Buffer.alloc(Math.min(rowsPerChunk, t.rows) * bytesPerRow);
  for (let row = 0; row < t.rows; row += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, t.rows - row);
    const dst = out.subarray(0, count * bytesPerRow);
    if (isTernary(spec)) encodeTernaryRows(spec, t, row, count, dst, what);
    else encodeFloatRows(spec, t, row, count, dst, what);
    put(dst);
  }
}

/**
 * I2_S: chunks of whole rows that are also whole 128-weight blocks (a block may span rows), then
 * the one f32 tensor scale padded to 32 bytes. Every chunk must carry the same single scale.
 */
function writeI2sData(put: (data: Uint8Array) => void, spec: GgufWriteTernaryTensor, t: PlannedTensor, what: string): void {
  const rowsPerBlockUnit = I2S_BLOCK_WEIGHTS / gcd(t.rowLength, I2S_BLOCK_WEIGHTS);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / t.rowLength / rowsPerBlockUnit)) * rowsPerBlockUnit;
  const whole = typeof spec.data !== "function";
  const out = Buffer.alloc((Math.min(rowsPerChunk, t.rows) * t.rowLength) / 4);
  let scale: number | undefined;
  for (let row = 0; row < t.rows; row += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, t.rows - row);
    const data = sliceRows(spec.data, row, count, t.rowLength, (d) => d.trits.length, what);
    const s = singleScale(data.scales, what);
    if (scale === undefined) scale = s;
    else if (scale !== s) throw new UserError(`${what}: I2_S stores one tensor scale, but row chunks gave ${scale} and ${s}`);
    const elements = count * t.rowLength;
    const nBlocks = elements / I2S_BLOCK_WEIGHTS;
    const base = whole ? row * t.rowLength : 0;
    const dst = out.subarray(0, nBlocks * I2S_BLOCK_BYTES);
    const bad = encodeI2sBlocks(data.trits, base, nBlocks, dst);
    if (bad >= 0) {
      throw new UserError(`${what}: value ${data.trits[base + bad]} at element ${row * t.rowLength + bad} is not a trit (-1, 0, +1)`);
    }
    put(dst);
  }
  const tail = Buffer.alloc(I2S_TAIL_BYTES);
  tail.writeFloatLE(scale ?? 0, 0);
  put(tail);
}

function singleScale(scales: Float32Array | number, what: string): number {
  if (typeof scales === "number") return scales;
  if (scales.length === 1) return scales[0]!;
  throw new UserError(`${what}: I2_S stores one per-tensor scale; give a number, not ${scales.length} block scales`);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function encodeFloatRows(spec: GgufWriteFloatTensor, t: PlannedTensor, row: number, count: number, dst: Buffer, what: string): void {
  const values = sliceRows(spec.data, row, count, t.rowLength, (d) => d.length, what);
  // A whole-tensor array is indexed from the chunk's first element, a row source's answer from 0.
  const base = typeof spec.data === "function" ? 0 : row * t.rowLength;
  const elements = count * t.rowLength;
  if (spec.type === "F32") {
    for (let i = 0; i < elements; i++) dst.writeFloatLE(values[base + i]!, i * 4);
  } else if (LITTLE_ENDIAN && dst.byteOffset % 2 === 0) {
    // Native 16-bit stores: F16 embeddings run to hundreds of millions of values.
    const out = new Uint16Array(dst.buffer, dst.byteOffset, elements);
    for (let i = 0; i < elements; i++) out[i] = f32ToFp16(values[base + i]!);
  } else {
    for (let i = 0; i < elements; i++) dst.writeUInt16LE(f32ToFp16(values[base + i]!), i * 2);
  }
}

function encodeTernaryRows(spec: GgufWriteTernaryTensor, t: PlannedTensor, row: number, count: number, dst: Buffer, what: string): void {
  const data = sliceRows(spec.data, row, count, t.rowLength, (d) => d.trits.length, what);
  const whole = typeof spec.data !== "function";
  const firstBlock = whole ? (row * t.rowLength) / TQ_BLOCK_WEIGHTS : 0;
  const nBlocks = (count * t.rowLength) / TQ_BLOCK_WEIGHTS;
  const scales = data.scales;
  if (typeof scales !== "number" && scales.length < firstBlock + nBlocks) {
    const expected = whole ? (t.rows * t.rowLength) / TQ_BLOCK_WEIGHTS : nBlocks;
    throw new UserError(`${what}: ${scales.length} block scales given, expected ${expected}`);
  }
  if (spec.type === "I2_S") throw new Error("I2_S is written by writeI2sData");
  encodeTqBlocks(spec.type, data.trits, firstBlock * TQ_BLOCK_WEIGHTS, nBlocks, scales, firstBlock, dst, what);
}

/** A whole-tensor value must hold every element (row sources are checked chunk by chunk). */
function checkWholeLength(t: PlannedTensor, what: string): void {
  const spec = t.spec;
  let length: number | undefined;
  if (isTernary(spec)) length = typeof spec.data === "function" ? undefined : spec.data.trits.length;
  else length = typeof spec.data === "function" ? undefined : spec.data.length;
  const elements = t.rows * t.rowLength;
  if (length !== undefined && length !== elements) {
    throw new UserError(`${what}: data has ${length} values, expected ${elements} (${[...t.ne].reverse().join(" x ")})`);
  }
}

/** The data for rows [row, row+count): a whole-tensor value as is, a row source called and checked. */
function sliceRows<T>(
  source: RowSource<T>,
  row: number,
  count: number,
  rowLength: number,
  lengthOf: (d: T) => number,
  what: string,
): T {
  if (typeof source === "function") {
    const data = (source as (firstRow: number, rowCount: number) => T)(row, count);
    if (lengthOf(data) !== count * rowLength) {
      const rows = `${row}..${row + count - 1}`;
      throw new UserError(`${what}: row source gave ${lengthOf(data)} values for rows ${rows}, expected ${count * rowLength}`);
    }
    return data;
  }
  return source;
}

function writeTypedValue(sink: ByteSink, v: GgufTypedValue, key: string): void {
  sink.u32(GGUF_VALUE_TYPE_IDS[v.type]);
  if (v.type === "array") {
    if (v.itemType === "array") throw new UserError(`GGUF metadata "${key}": nested arrays are not supported by this writer`);
    sink.u32(GGUF_VALUE_TYPE_IDS[v.itemType]);
    sink.u64(v.value.length);
    for (const item of v.value) writeScalar(sink, v.itemType, item, key);
  } else {
    writeScalar(sink, v.type, v.value, key);
  }
}

const INT_RANGES: Readonly<Record<"u8" | "i8" | "u16" | "i16" | "u32" | "i32", readonly [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

function writeScalar(sink: ByteSink, type: GgufScalarType, value: GgufValue, key: string): void {
  const bad = (expected: string): UserError =>
    new UserError(`GGUF metadata "${key}": value ${String(value)} is not ${expected} (type ${type})`);
  switch (type) {
    case "u8": case "i8": case "u16": case "i16": case "u32": case "i32": {
      const [lo, hi] = INT_RANGES[type];
      if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) throw bad(`an integer in [${lo}, ${hi}]`);
      if (type === "u8") sink.u8(value);
      else if (type === "i8") sink.i8(value);
      else if (type === "u16") sink.u16(value);
      else if (type === "i16") sink.i16(value);
      else if (type === "u32") sink.u32(value);
      else sink.i32(value);
      return;
    }
    case "f32": case "f64":
      if (typeof value !== "number") throw bad("a number");
      if (type === "f32") sink.f32(value);
      else sink.f64(value);
      return;
    case "u64": case "i64": {
      if (typeof value !== "bigint" && !(typeof value === "number" && Number.isSafeInteger(value))) throw bad("an integer");
      const b = BigInt(value);
      const ok = type === "u64" ? b >= 0n && b < 1n << 64n : b >= -(1n << 63n) && b < 1n << 63n;
      if (!ok) throw bad(`in range for ${type}`);
      if (type === "u64") sink.u64(b);
      else sink.i64(b);
      return;
    }
    case "bool":
      if (typeof value !== "boolean") throw bad("a boolean");
      sink.u8(value ? 1 : 0);
      return;
    case "string":
      if (typeof value !== "string") throw bad("a string");
      sink.string(value);
      return;
  }
}
